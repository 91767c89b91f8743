"""Shared audio helpers: decode any clip to 16 kHz mono, measure it, write WAV.

Decoding goes through the ``ffmpeg`` program (Debian package), so any format a
browser records (webm/opus, ogg, mp4/aac, wav) is accepted the same way.
"""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import numpy as np

ASR_RATE = 16000


# Extensions an audio upload may carry (content decides the format; browsers name
# recordings .webm whatever they hold). A name without an extension is fine.
AUDIO_EXTENSIONS = {".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".webm", ".weba", ".m4a", ".mp4", ".aac",
                    ".flac", ".aif", ".aiff", ".caf", ".3gp", ".amr"}


def audio_name_ok(name: str | None) -> bool:
    suffix = Path(name or "").suffix.lower()
    return not suffix or suffix in AUDIO_EXTENSIONS


class AudioDecodeError(ValueError):
    """The clip could not be decoded (not audio, truncated, unknown format)."""


def audio_decode(source: str | Path | bytes, *, rate: int = ASR_RATE, timeout: float = 30.0,
                 max_seconds: float | None = None) -> np.ndarray:
    """Decode ``source`` (a path or the file's bytes) to mono float32 samples at ``rate``.

    ``max_seconds`` stops decoding there: a few hundred KB of compressed silence
    can otherwise expand to gigabytes of samples (an audio decompression bomb).
    """
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", "pipe:0" if isinstance(source, bytes) else str(source)]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    cmd += ["-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"]
    try:
        done = subprocess.run(
            cmd, input=source if isinstance(source, bytes) else None, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioDecodeError("decoding took too long") from exc
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio stream"]
        raise AudioDecodeError(reason[0][:200])
    return pcm16_to_float(done.stdout)


def audio_duration(samples: np.ndarray, *, rate: int = ASR_RATE) -> float:
    return len(samples) / float(rate)


def pcm16_to_float(data: bytes) -> np.ndarray:
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wav_bytes(samples: np.ndarray, *, rate: int = ASR_RATE) -> bytes:
    """A mono PCM16 WAV file of ``samples`` (float in [-1, 1] or int16)."""
    pcm = samples.astype("<i2").tobytes() if samples.dtype == np.int16 else float_to_pcm16(samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def wav_write(path: str | Path, samples: np.ndarray, *, rate: int = ASR_RATE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(samples, rate=rate))
    return path


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear-interpolation resampling: good enough for speech recognition of TTS output."""
    if src_rate == dst_rate or not len(samples):
        return samples.astype(np.float32)
    n_out = int(round(len(samples) * dst_rate / src_rate))
    positions = np.linspace(0, len(samples) - 1, n_out)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
