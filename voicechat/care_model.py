"""A small text classifier for the care layer: logistic regression over hashed character and
word n-grams, in numpy, trained on the project's own labelled sets (voicechat/data/care/).

It backs the rules of voicechat.care_rules where wording is veiled ("I finally feel calm since
I decided", "想去见外婆了"): the rules catch what they name, the model what resembles its
training messages. Both languages share one model; characters (1–3 for Chinese, 3–5 within
Latin words) and words (one and two) are hashed into ``BUCKETS`` features, so nothing but the
weights is stored. Training is deterministic (full-batch gradient descent from zeros):
``python manage.py care_train`` rebuilds the shipped files from the TSVs bit for bit.

    model = CareModel.load(path)
    model.probability("…")  # 0..1
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUCKETS = 1 << 18
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9']+")

DATA_DIR = Path(__file__).resolve().parent / "data"
MESSAGES_MODEL = DATA_DIR / "care_messages.npz"
ANSWERS_MODEL = DATA_DIR / "care_answers.npz"


def features(text: str) -> np.ndarray:
    """The hashed feature ids of ``text`` (already normalised by voicechat.care.normalise)."""
    grams: set[str] = set()
    for run in _CJK_RUN.findall(text):
        for n in (1, 2, 3):
            grams.update("c" + run[i : i + n] for i in range(len(run) - n + 1))
    words = _WORD.findall(text)
    grams.update("w" + w for w in words)
    grams.update("b" + a + " " + b for a, b in itertools.pairwise(words))
    for word in words:
        padded = f"<{word}>"
        for n in (3, 4, 5):
            grams.update("l" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return np.fromiter((zlib.crc32(g.encode()) % BUCKETS for g in grams), dtype=np.int64, count=len(grams))


@dataclass
class CareModel:
    weights: np.ndarray  # float32, BUCKETS
    bias: float
    threshold: float  # the probability from which the model says "yes" (chosen at training)

    def probability(self, text: str) -> float:
        ids = np.unique(features(text))
        if not len(ids):
            return 0.0
        z = float(self.weights[ids].sum()) / np.sqrt(len(ids)) + self.bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def says(self, text: str) -> bool:
        return self.probability(text) >= self.threshold

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:  # a file object: np.savez_compressed would add ".npz" to a str
            np.savez_compressed(f, weights=self.weights.astype(np.float16), bias=np.float64(self.bias),
                                threshold=np.float64(self.threshold))

    @classmethod
    def load(cls, path: Path) -> CareModel:
        with np.load(path) as data:
            return cls(data["weights"].astype(np.float32), float(data["bias"]), float(data["threshold"]))


def _design(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts as a sparse matrix in coordinates: rows, feature ids, values (1/sqrt(n) per row)."""
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        ids = np.unique(features(text))
        rows.append(np.full(len(ids), i))
        cols.append(ids)
        vals.append(np.full(len(ids), 1.0 / np.sqrt(max(1, len(ids)))))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def fit(texts: Sequence[str], labels: Sequence[int], *, l2: float = 1e-5, steps: int = 300,
        rate: float = 0.02) -> tuple[np.ndarray, float]:
    """Logistic regression by full-batch Adam from zeros (deterministic); balanced classes."""
    y = np.asarray(labels, dtype=np.float64)
    n = len(y)
    rows, cols, vals = _design(texts)
    positive = y.mean()
    sample = np.where(y == 1, 0.5 / positive, 0.5 / (1 - positive)) / n  # each class weighs half
    w = np.zeros(BUCKETS)
    b = 0.0
    m_w, v_w, m_b, v_b = np.zeros(BUCKETS), np.zeros(BUCKETS), 0.0, 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        z = np.bincount(rows, weights=vals * w[cols], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-z))
        g = (p - y) * sample
        grad_w = np.bincount(cols, weights=vals * g[rows], minlength=BUCKETS) + l2 * w
        grad_b = float(g.sum())
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        w -= rate * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        b -= rate * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return w.astype(np.float32), b


def out_of_fold(texts: Sequence[str], labels: Sequence[int], *, folds: int = 5) -> np.ndarray:
    """Each text's probability from a model that did not see it (for choosing the threshold)."""
    order = np.arange(len(texts))
    probabilities = np.zeros(len(texts))
    for k in range(folds):
        held = order % folds == k
        w, b = fit([t for t, h in zip(texts, held, strict=True) if not h],
                   [y for y, h in zip(labels, held, strict=True) if not h])
        model = CareModel(w, b, 0.5)
        for i in np.flatnonzero(held):
            probabilities[i] = model.probability(texts[int(i)])
    return probabilities


def threshold_for(probabilities: np.ndarray, labels: Iterable[int], *, false_positive_rate: float) -> float:
    """The lowest threshold whose false-positive rate on the negatives stays within the target."""
    negatives = np.sort(np.asarray(probabilities)[np.asarray(list(labels)) == 0])[::-1]
    allowed = int(np.floor(false_positive_rate * len(negatives)))
    return float(negatives[allowed] + 1e-6) if allowed < len(negatives) else 0.5
