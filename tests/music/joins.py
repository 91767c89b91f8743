"""Measuring continuity at a join of rendered audio: gaps (silence) and clicks (jumps)."""

from __future__ import annotations

import numpy as np


def longest_quiet_ms(audio: np.ndarray, sr: int, at: float, *, span: float = 1.0, floor_dbfs: float = -50.0) -> float:
    """The longest stretch (ms) within ``span`` s of ``at`` whose 5 ms RMS stays under ``floor_dbfs``."""
    x = np.abs(audio).max(axis=0) if audio.ndim == 2 else np.abs(audio)
    lo, hi = max(0, int((at - span) * sr)), min(len(x), int((at + span) * sr))
    hop = int(0.005 * sr)
    frames = x[lo:hi][: (hi - lo) // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    quiet = 20 * np.log10(np.maximum(rms, 1e-12)) < floor_dbfs
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * 5.0


def click_ratio(audio: np.ndarray, sr: int, at: float, *, width: float = 0.05, context: float = 5.0) -> float:
    """Largest sample-to-sample jump within ``width`` s of ``at``, over the largest in the
    ``context`` s around it (outside that window). Well above 1: a jump the music itself never makes.

    The context spans a few bars: a section's first downbeat falls on its join, and a note onset
    is compared with the onsets of the bars around it, not with the softer beats in between."""
    d = np.abs(np.diff(audio, axis=-1))
    d = d.max(axis=0) if d.ndim == 2 else d
    j, w, c = int(at * sr), int(width * sr), int(context * sr)
    near = d[max(0, j - w): j + w]
    around = np.concatenate([d[max(0, j - c): max(0, j - w)], d[j + w: j + c]])
    return float(near.max() / max(around.max(), 1e-9))


def assert_continuous_join(audio: np.ndarray, sr: int, at: float, *, crossfade: float) -> None:
    """No gap over 20 ms below -50 dBFS near the join, no click at either end of its crossfade."""
    quiet = longest_quiet_ms(audio, sr, at - crossfade / 2, span=crossfade / 2 + 1.0)
    assert quiet <= 20, f"{quiet} ms of silence near the join at {at} s"
    for edge in (at - crossfade, at):
        ratio = click_ratio(audio, sr, edge)
        assert ratio < 1.5, f"a jump {ratio:.2f}x the local maximum at {edge} s"
