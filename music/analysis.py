"""Measurements of rendered audio: tempo, loudness, peaks. numpy only."""

from __future__ import annotations

import itertools

import numpy as np

ENVELOPE_RATE = 250  # frames per second of the onset envelope (4 ms hop)


def mono(audio: np.ndarray) -> np.ndarray:
    return audio.mean(axis=0) if audio.ndim == 2 else audio


def onset_envelope(audio: np.ndarray, sr: int) -> np.ndarray:
    """Spectral flux: summed rise of log magnitude per frequency bin, frame by frame.

    Flux ignores sustained notes (pads, held chords) and reacts to note starts of
    any loudness, which plain energy does not.
    """
    x = mono(audio).astype(np.float32)
    hop, n_fft = sr // ENVELOPE_RATE, 1024
    frames = max(0, (len(x) - n_fft) // hop)
    if frames < 2:
        return np.zeros(0)
    window = np.hanning(n_fft).astype(np.float32)
    flux = np.empty(frames)
    previous = None
    for start in range(0, frames, 2048):  # chunks keep memory flat for long audio
        idx = np.arange(start, min(frames, start + 2048))[:, None] * hop + np.arange(n_fft)[None, :]
        mag = np.log1p(100 * np.abs(np.fft.rfft(x[idx] * window, axis=1)))
        if previous is not None:
            mag = np.vstack([previous, mag])
        rise = np.maximum(np.diff(mag, axis=0), 0).sum(axis=1)
        flux[start + (previous is None): start + (previous is None) + len(rise)] = rise
        previous = mag[-1:]
    flux[0] = 0.0
    return flux - flux.mean()


def _peak_near(ac: np.ndarray, lag: float, width: float) -> tuple[float, float]:
    """Highest autocorrelation near ``lag``, refined to a fraction of a frame."""
    lo, hi = max(1, int(lag - width)), min(len(ac) - 2, int(lag + width) + 1)
    if lo >= hi:
        return lag, 0.0
    i = lo + int(np.argmax(ac[lo:hi]))
    a, b, c = ac[i - 1], ac[i], ac[i + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom else 0.0
    return i + float(np.clip(shift, -0.5, 0.5)), float(b)


def tempo_estimate(audio: np.ndarray, sr: int, *, bpm_range: tuple[float, float] = (40, 200)) -> float | None:
    """The beat rate in BPM from the onset envelope's autocorrelation; None for beatless audio."""
    env = onset_envelope(audio, sr)
    if len(env) < ENVELOPE_RATE * 3 or not env.any():
        return None
    n = 1 << int(np.ceil(np.log2(2 * len(env))))
    spectrum = np.fft.rfft(env, n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[: len(env)]
    if ac[0] <= 0:
        return None
    ac = ac / ac[0]
    lo_lag = ENVELOPE_RATE * 60 / bpm_range[1]
    hi_lag = min(ENVELOPE_RATE * 60 / bpm_range[0], len(ac) / 2)
    lags = np.arange(int(lo_lag), int(hi_lag))
    if len(lags) < 3:
        return None
    best = int(lags[np.argmax(ac[lags])])
    lag, height = _peak_near(ac, best, 1)
    if height < 0.05:
        return None
    # Prefer the beat over the bar: a half lag nearly as strong is the real beat.
    while lag / 2 >= lo_lag:
        half, half_height = _peak_near(ac, lag / 2, 2)
        if half_height < 0.5 * height:
            break
        lag, height = half, half_height
    # Refine on a multiple of the period: the error shrinks by the multiple.
    k = int(min(8, (len(ac) / 2) // lag))
    if k >= 2:
        far, far_height = _peak_near(ac, lag * k, 2)
        if far_height > 0.3 * height:
            lag = far / k
    return 60.0 * ENVELOPE_RATE / lag


def loudness_normalise(audio: np.ndarray, *, target_dbfs: float = -16.0, peak: float = 0.98) -> np.ndarray:
    """Scale to a target RMS level, then limit peaks (a plain gain, not a compressor)."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < 1e-6:
        return audio.astype(np.float32)
    gain = 10 ** (target_dbfs / 20) / rms
    top = float(np.abs(audio).max()) * gain
    if top > peak:
        gain *= peak / top
    return (audio * gain).astype(np.float32)


def peaks_compute(audio: np.ndarray, *, points: int = 600) -> list[float]:
    """Max absolute amplitude per bucket, for drawing the waveform before the audio loads."""
    x = np.abs(mono(audio))
    if len(x) == 0:
        return []
    points = min(points, len(x))
    edges = np.linspace(0, len(x), points + 1).astype(int)
    return [round(float(x[a:b].max()), 4) for a, b in itertools.pairwise(edges)]


def crossfade_join(head: np.ndarray, tail: np.ndarray, *, overlap: int) -> np.ndarray:
    """Join two (channels, samples) arrays, blending ``overlap`` samples with an equal-power fade."""
    overlap = min(overlap, head.shape[-1], tail.shape[-1])
    if overlap <= 0:
        return np.concatenate([head, tail], axis=-1)
    t = np.linspace(0, np.pi / 2, overlap)
    blended = head[..., -overlap:] * np.cos(t) + tail[..., :overlap] * np.sin(t)
    return np.concatenate([head[..., :-overlap], blended, tail[..., overlap:]], axis=-1)
