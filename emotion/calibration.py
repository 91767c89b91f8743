"""Calibrated ensemble: per-model weight/temperature, per-class bias, test-time augmentation.

A reading's scores are ``softmax(sum_m w_m * log p_m + b)``, where ``p_m`` is
model m's probabilities averaged over its test-time views (the crop, its mirror
image, a looser crop...), ``w_m`` folds the model's weight and inverse
temperature into one number, and ``b`` is one bias per class. The figures are
fitted on the labelled dev set by ``bench/emotion_calibrate.py`` and stored in
``emotion/calibration.json`` (small, reviewed like code). A class without dev
photos keeps bias 0: it is not fitted, and not made impossible either.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from emotion.models import EMOTIONS

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")

# Test-time views: (name, extra margin added to the member's own, mirrored).
VIEWS = {
    "plain": (0.0, False),
    "flip": (0.0, True),
    "loose": (0.1, False),
    "loose_flip": (0.1, True),
    "wide": (0.2, False),
    "wide_flip": (0.2, True),
    "wider": (0.3, False),
    "wider_flip": (0.3, True),
    "tight": (-0.05, False),
    "tight_flip": (-0.05, True),
}


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The stored calibration (see bench/emotion_calibrate.py for how it is made)."""
    return json.loads(CALIBRATION_PATH.read_text())


def combine(member_probs: list[np.ndarray], weights: list[float], bias: list[float] | np.ndarray) -> np.ndarray:
    """(N, 7) calibrated probabilities from each member's view-averaged (N, 7) probabilities."""
    z = np.zeros_like(member_probs[0], dtype=np.float64)
    for p, w in zip(member_probs, weights):
        z += w * np.log(np.clip(p, 1e-6, 1.0))
    z += np.asarray(bias, dtype=np.float64)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def view_crops(gray: np.ndarray, face, margin: float, views: list[str] | tuple[str, ...]) -> list[np.ndarray]:
    """The face cropped for each test-time view (``margin``: the model's own margin)."""
    import cv2

    from emotion.faces import face_crop

    crops = []
    for v in views:
        extra, flip = VIEWS[v]
        if extra >= 0:
            crop = face_crop(gray, face, margin=margin + extra)
        else:  # tighter than the model's crop: cut into it
            crop = face_crop(gray, face, margin=margin)
            cut = int(round(-extra * crop.shape[0]))
            crop = crop[cut: crop.shape[0] - cut, cut: crop.shape[1] - cut]
        crops.append(cv2.flip(crop, 1) if flip else crop)
    return crops


def bias_vector(bias: dict[str, float]) -> np.ndarray:
    return np.array([bias.get(e, 0.0) for e in EMOTIONS], dtype=np.float64)
