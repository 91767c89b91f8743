"""Face detection with OpenCV's Haar cascade: the largest face, with retries.

The cascade misses faces that fill the frame (tight crops: profile pictures,
datasets) and faces on their side (phone photos without EXIF rotation). When
the plain pass finds nothing, the image is padded and tried again, then turned
by quarter turns. Boxes are always given in the input image's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotune.engines import engine_get

# Longest side the cascade sees: detection cost grows with pixels, faces we
# care about are large, and boxes are scaled back to full size.
DETECT_MAX_SIDE = 480


@dataclass(frozen=True)
class Face:
    x: int
    y: int
    w: int
    h: int
    rotation: int = 0  # quarter turns clockwise that made the face upright (0-3)
    padded: bool = False

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "rotation": self.rotation * 90, "padded": self.padded}


def cascade_path() -> Path:
    return Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"


def _cascade() -> cv2.CascadeClassifier:
    def load() -> cv2.CascadeClassifier:
        cascade = cv2.CascadeClassifier(str(cascade_path()))
        if cascade.empty():
            raise RuntimeError(f"the Haar cascade {cascade_path()} did not load")
        return cascade

    return engine_get("emotion.detector.haar", load)


def _largest(gray: np.ndarray, *, max_side: int = DETECT_MAX_SIDE, step: float = 1.1,
             min_fraction: float = 1 / 8) -> tuple[int, int, int, int] | None:
    """The largest face in ``gray`` (box in its coordinates), detected on a downscaled copy."""
    h, w = gray.shape
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
    small = cv2.equalizeHist(small)
    min_side = max(24, int(min(small.shape) * min_fraction))
    found = _cascade().detectMultiScale(small, scaleFactor=step, minNeighbors=5, minSize=(min_side, min_side))
    if len(found) == 0:
        return None
    x, y, fw, fh = max(found, key=lambda b: b[2] * b[3])
    return tuple(int(round(v / scale)) for v in (x, y, fw, fh))  # type: ignore[return-value]


def _rotate(gray: np.ndarray, turns: int) -> np.ndarray:
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(gray, codes[turns]) if turns else gray


def _unrotate_box(box: tuple[int, int, int, int], turns: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Map a box found in the image turned ``turns`` times clockwise back to the original."""
    h, w = shape
    x, y, bw, bh = box
    corners = np.array([[x, y], [x + bw, y + bh]], dtype=float)
    (x1, y1), (x2, y2) = corners
    if turns == 1:  # rotated width is h: original x = y', original y = h - x'
        xs, ys = (y1, y2), (h - x1, h - x2)
    elif turns == 2:
        xs, ys = (w - x1, w - x2), (h - y1, h - y2)
    elif turns == 3:  # original x = w - y', original y = x'
        xs, ys = (w - y1, w - y2), (x1, x2)
    else:
        xs, ys = (x1, x2), (y1, y2)
    ox, oy = int(min(xs)), int(min(ys))
    return ox, oy, int(max(xs)) - ox, int(max(ys)) - oy


def face_find(gray: np.ndarray, *, try_rotations: bool = True) -> Face | None:
    """The largest face in a grey image, or None when there is none."""
    box = _largest(gray)
    if box:
        return Face(*box)
    h, w = gray.shape
    pad = max(h, w) // 2  # a face that fills the frame becomes a face with context
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    box = _largest(padded)
    if box:
        return _clip(Face(box[0] - pad, box[1] - pad, box[2], box[3], padded=True), gray.shape)
    if not try_rotations:
        return None
    for turns in (1, 3, 2):
        turned = _rotate(gray, turns)
        found = face_find(turned, try_rotations=False)
        if found:
            x, y, bw, bh = _unrotate_box((found.x, found.y, found.w, found.h), turns, gray.shape)
            return _clip(Face(x, y, bw, bh, rotation=turns, padded=found.padded), gray.shape)
    return None


def _clip(face: Face, shape: tuple[int, int]) -> Face:
    h, w = shape
    x, y = max(face.x, 0), max(face.y, 0)
    x2, y2 = min(face.x + face.w, w), min(face.y + face.h, h)
    return Face(x, y, max(x2 - x, 1), max(y2 - y, 1), face.rotation, face.padded)


def face_crop(gray: np.ndarray, face: Face, *, margin: float) -> np.ndarray:
    """The face with ``margin`` (fraction of its size) around it, upright.

    Where the margin runs past the image, edge pixels are repeated so that a
    tight crop gives the classifier the framing it was trained on.
    """
    mx, my = int(face.w * margin), int(face.h * margin)
    pad = max(mx, my)
    src = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
    x, y = face.x - mx + pad, face.y - my + pad
    crop = src[y: y + face.h + 2 * my, x: x + face.w + 2 * mx]
    return _rotate(crop, face.rotation)


# Video frames: a coarser search (the face of someone filming themselves is large),
# and first a look around where the face was in the previous sample.
VIDEO_MAX_SIDE = 320


def face_track(gray: np.ndarray, previous: Face | None) -> Face | None:
    """The largest face in a video frame, searched near ``previous`` first."""
    if previous is not None:
        h, w = gray.shape
        mx, my = previous.w, previous.h
        x0, y0 = max(previous.x - mx, 0), max(previous.y - my, 0)
        x1, y1 = min(previous.x + previous.w + mx, w), min(previous.y + previous.h + my, h)
        box = _largest(gray[y0:y1, x0:x1], max_side=200, step=1.15, min_fraction=1 / 5)
        if box:
            return Face(box[0] + x0, box[1] + y0, box[2], box[3])
    box = _largest(gray, max_side=VIDEO_MAX_SIDE, step=1.15, min_fraction=1 / 10)
    if box:
        return Face(*box)
    h, w = gray.shape
    pad = max(h, w) // 2  # a face that fills the frame (selfie clip)
    box = _largest(cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE),
                   max_side=VIDEO_MAX_SIDE * 2, step=1.15, min_fraction=1 / 8)
    return _clip(Face(box[0] - pad, box[1] - pad, box[2], box[3], padded=True), gray.shape) if box else None
