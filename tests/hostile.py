"""A corpus of hostile uploads, built in the test (nothing downloaded).

Each entry is (label, filename, bytes). Every upload endpoint must refuse all
of them with a clear message, store nothing and never fail with a 500.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 20000) -> bytes:
    """A valid PNG of side×side grey pixels that compresses to a few hundred KB."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def ffmpeg_make(*args: str, suffix: str) -> bytes:
    """Bytes of a media file that ffmpeg writes from its own generators (lavfi)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"out{suffix}"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], check=True, timeout=60)
        return out.read_bytes()


@functools.cache
def audio_bomb() -> bytes:
    """One hour of silence as FLAC: about 650 KB that decode to 115 MB of 16 kHz samples."""
    return ffmpeg_make("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "3600", "-c:a", "flac", suffix=".flac")


@functools.cache
def huge_frame_video() -> bytes:
    """A valid MP4 whose single frame is 8000×6000 (48 megapixels) in about 140 KB."""
    return ffmpeg_make("-f", "lavfi", "-i", "color=c=gray:s=8000x6000:d=1:r=1", "-frames:v", "1",
                       "-c:v", "libx264", "-preset", "ultrafast", suffix=".mp4")


def tone_wav(seconds: float = 4.0, rate: int = 16000) -> bytes:
    """A valid control clip: a plain sine tone."""
    n = int(seconds * rate)
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(n))
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2,
                         2, 16, b"data", len(pcm))
    return header + pcm


def wav_header_only() -> bytes:
    return b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", 0)


def image_corpus() -> list[tuple[str, str, bytes]]:
    jpeg = small_jpeg()
    return [
        ("empty", "face.jpg", b""),
        ("truncated jpeg", "face.jpg", jpeg[: len(jpeg) // 3]),
        ("png header + html", "face.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"),
        ("text named jpg", "face.jpg", b"just some text, not an image\n" * 20),
        ("html", "index.html", b"<!doctype html><script>alert(document.cookie)</script>"),
        ("svg with script", "face.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("decompression bomb 20000x20000", "bomb.png", png_bomb()),
        ("null byte in name", "face\x00.php.jpg", b"\x00" * 100),
        ("path separators in name", "../../etc/passwd.jpg", b"root:x:0:0:root:/root:/bin/bash\n"),
        ("zip polyglot", "face.jpg", b"PK\x03\x04" + b"\x00" * 200),
    ]


def video_corpus() -> list[tuple[str, str, bytes]]:
    return [
        ("empty", "clip.mp4", b""),
        ("not a video named mp4", "clip.mp4", b"this is not a video" * 100),
        ("jpeg named mp4", "clip.mp4", small_jpeg()),
        ("mp4 header then junk", "clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\xde\xad\xbe\xef" * 500),
    ]


def audio_corpus() -> list[tuple[str, str, bytes]]:
    return [
        ("empty", "voice.wav", b""),
        ("wav header, no samples", "voice.wav", wav_header_only()),
        ("text named wav", "voice.wav", b"hello " * 500),
        ("jpeg named wav", "voice.wav", small_jpeg()),
        ("html named mp3", "voice.mp3", b"<html><script>alert(1)</script></html>"),
        ("audio bomb: 1 h of silence in 650 KB of FLAC", "voice.flac", audio_bomb()),
        ("HLS playlist pointing at a local file", "voice.m3u8",
         b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"),
        ("ffconcat list pointing at a local file", "voice.txt", b"ffconcat version 1.0\nfile /etc/passwd\n"),
    ]


def extra_corpus() -> list[tuple[str, str, bytes]]:
    """Hostile files for every endpoint: wrong extensions, hostile names, oversize."""
    return [
        ("wav named jpg", "face.jpg", wav_header_only()),
        ("video with a 48-megapixel frame", "clip.mp4", huge_frame_video()),
        ("oversized: 11 MB of zeros", "big.jpg", b"\x00" * (11 * 2**20)),
        ("oversized: 11 MB behind a JPEG marker", "big.wav", b"\xff\xd8\xff\xe0" + b"\x00" * (11 * 2**20)),
        ("name with newline and quotes", 'a"\r\nContent-Type: text/html\r\n.jpg', b"<script>alert(1)</script>"),
        ("windows path name", "C:\\Windows\\system32\\evil.exe", b"MZ" + b"\x00" * 300),
        ("very long name", "a" * 400 + ".jpg", b"\x00" * 64),
    ]


@functools.cache
def full_corpus() -> list[tuple[str, str, bytes]]:
    return image_corpus() + video_corpus() + audio_corpus() + extra_corpus()
