"""Calibrated ensemble: per-model weight/temperature, per-class bias, test-time augmentation.

A reading's scores are ``softmax(sum_m w_m * log p_m + b)``, where ``p_m`` is
model m's probabilities averaged over its test-time views (the crop, its mirror
image, a looser crop...), ``w_m`` folds the model's weight and inverse
temperature into one number, and ``b`` is one bias per class. The figures are
fitted on the labelled dev set by ``bench/emotion_calibrate.py`` and stored in
``emotion/calibration.json`` (small, reviewed like code). A class without dev
photos (``fitted_on.classes_without_photos``: fear today) has no fitted bias; it
takes the median of the fitted ones, so its members' evidence counts as much as a
typical class's. With bias 0 beside fitted biases of 0.5–2.5 it was almost never
read (held-out fear recall 0.05 where the fer member alone reaches 0.33).
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


def bias_vector(bias: dict[str, float], unfitted: tuple[str, ...] | list[str] = ()) -> np.ndarray:
    """The per-class bias in EMOTIONS order; a class in ``unfitted`` (no photos when it was fitted)
    takes the median of the fitted classes' biases."""
    fitted = [v for e, v in bias.items() if e not in unfitted]
    typical = float(np.median(fitted)) if fitted else 0.0
    return np.array([typical if e in unfitted else bias.get(e, 0.0) for e in EMOTIONS], dtype=np.float64)


def unfitted_classes(cal: dict) -> tuple[str, ...]:
    """The classes the stored calibration had no photos of."""
    return tuple(cal.get("fitted_on", {}).get("classes_without_photos", ()))
