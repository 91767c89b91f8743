"""Real face pictures and videos built in the tests (skimage's astronaut: a smiling face)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ASTRONAUT_BOX = (176, 64, 97, 97)  # where the cascade finds her face in the 512x512 picture


def astronaut_rgb() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def no_face_rgb() -> np.ndarray:
    from skimage import data

    return data.coffee()


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def tight_face_gray() -> np.ndarray:
    """The astronaut's face cropped inside the cascade's box and enlarged: the face fills the frame."""
    gray = cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2GRAY)
    x, y, w, h = ASTRONAUT_BOX
    d = int(w * 0.05)
    return cv2.resize(gray[y + d: y + h - d, x + d: x + w - d], (200, 200))


def video_write(path: Path, pattern: str, *, fps: int = 10, seconds_per_char: float = 1.0,
                size: tuple[int, int] = (320, 240)) -> Path:
    """A video from real frames: 'F' = a second of the astronaut's face, '.' = a second with no face."""
    w, h = size
    face = cv2.resize(cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2BGR)[0:384, 64:448], (h, h))
    face_frame = np.zeros((h, w, 3), np.uint8)
    face_frame[:, (w - h) // 2: (w - h) // 2 + h] = face
    empty = cv2.resize(cv2.cvtColor(no_face_rgb(), cv2.COLOR_RGB2BGR), (w, h))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for char in pattern:
        for i in range(int(fps * seconds_per_char)):
            frame = face_frame if char == "F" else empty
            writer.write(np.roll(frame, i % 3, axis=1))  # small motion, as in a real clip
    writer.release()
    return path
