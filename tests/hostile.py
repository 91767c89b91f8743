"""A corpus of hostile uploads, built in the test (nothing downloaded).

Each entry is (label, filename, bytes). Every upload endpoint must refuse all
of them with a clear message, store nothing and never fail with a 500.
"""

from __future__ import annotations

import io
import struct
import zlib

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
    ]
