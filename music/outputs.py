"""Files made from rendered audio: WAV, a compressed preview, a waveform video, peaks."""

from __future__ import annotations

import io
import logging
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

logger = logging.getLogger(__name__)

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio.T, -1, 1), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _ffmpeg(args: list[str], *, timeout: float = 300) -> None:
    done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {done.stderr.strip()[-300:]}")


def preview_bytes(wav: bytes) -> bytes:
    """An MP3 for quick listening (128 kb/s)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.wav"), Path(tmp, "out.mp3")
        src.write_bytes(wav)
        _ffmpeg(["-i", str(src), "-codec:a", "libmp3lame", "-b:a", "128k", str(dst)])
        return dst.read_bytes()


def _drawtext_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\u2019").replace("%", "\\%")


def video_bytes(wav: bytes, *, title: str) -> bytes:
    """An MP4 with a moving waveform and the prompt as its title (also in the file's metadata)."""
    title = " ".join(title.split())[:90]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.wav"), Path(tmp, "out.mp4")
        src.write_bytes(wav)
        graph = "[0:a]showwaves=s=640x240:mode=cline:colors=0x7c6cf0|0xf08cb6,format=yuv420p"
        if FONT.exists():
            graph += (f",pad=640:300:0:60:color=0x1d1b2e,drawtext=fontfile={FONT}:text='{_drawtext_escape(title)}'"
                      ":fontcolor=white:fontsize=16:x=(w-text_w)/2:y=22")
        graph += "[v]"
        _ffmpeg(["-i", str(src), "-filter_complex", graph, "-map", "[v]", "-map", "0:a", "-r", "25",
                 "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-c:a", "aac", "-b:a", "128k",
                 "-metadata", f"title={title}", "-shortest", str(dst)])
        return dst.read_bytes()
