"""Train the care layer's two small classifiers from the labelled sets in voicechat/data/care/.

    python manage.py care_train           # write voicechat/data/care_messages.npz, care_answers.npz
    python manage.py care_train --check   # retrain and fail unless the shipped files match

messages: a user's message (or a few joined, as the crisis check reads a window) -> crisis;
answers: a sentence of an answer -> harmful. Each threshold is chosen on out-of-fold
probabilities so that at most CARE_MODEL_FALSE_POSITIVES of the ordinary examples pass it.
Training is deterministic: the same TSVs give the same files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from voicechat import care_model
from voicechat.care import normalise

SETS = care_model.DATA_DIR / "care"
# Out-of-fold false-positive rate each threshold is chosen for. The training sets' ordinary
# examples are mostly hard ones, many written as near misses of a crisis message (the same
# pills, heights, farewells and idioms, harmless), so the rate on other talk is far lower:
# 0-5 % on the benchmark's sets, 1 of 64 everyday messages (bench/BENCHMARKS.md).
FALSE_POSITIVES = {"messages": 0.06, "answers": 0.06}


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


# The benchmark's sets (bench/care/) are never trained on: a text of theirs is left out here.
BENCH_SETS = Path(__file__).resolve().parents[3] / "bench" / "care"


def _bench_texts() -> set[str]:
    texts = set()
    for path in BENCH_SETS.rglob("*.tsv"):
        for row in _rows(path):
            for text in (row.get("text") or row.get("messages") or "").split("||"):
                texts.add(normalise(text.strip()))
    return texts


def _everyday_texts(kind: str) -> set[str]:
    return {normalise(row["text"]) for path in SETS.glob(f"{kind}_everyday*.tsv") for row in _rows(path)}


def training_set(kind: str) -> tuple[list[str], list[int]]:
    """The normalised texts and labels (1 = crisis / harmful) of one kind of set: each text
    once (its first label), none of the benchmark's."""
    texts, labels = _training_set(kind)
    seen, bench = set(), _bench_texts()
    kept_texts, kept_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        if text in seen or text in bench:
            continue
        seen.add(text)
        kept_texts.append(text)
        kept_labels.append(label)
    return kept_texts, kept_labels


def _training_set(kind: str) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    if kind == "messages":
        for path in sorted(SETS.glob("messages*.tsv")):
            for row in _rows(path):
                texts.append(normalise(row["text"]))
                labels.append(int(row["label"] == "crisis"))
        for path in sorted(SETS.glob("conversations*.tsv")):
            for row in _rows(path):
                said = [m.strip() for m in row["messages"].split("||")]
                texts.append(normalise(" \n ".join(said)))
                labels.append(int(row["label"] == "crisis"))
    else:
        for path in sorted(SETS.glob("answers*.tsv")):
            for row in _rows(path):
                texts.append(normalise(row["text"]))
                labels.append(int(row["label"] == "harmful"))
    return texts, labels


def train(kind: str) -> tuple[care_model.CareModel, dict]:
    texts, labels = training_set(kind)
    if not texts or len(set(labels)) < 2:
        raise CommandError(f"no labelled {kind} in {SETS}")
    probabilities = care_model.out_of_fold(texts, labels)
    # The threshold is chosen on the hard examples: the everyday sets (*_everyday.tsv) teach the
    # model what plain talk looks like, but would make any threshold look safe.
    everyday = _everyday_texts(kind)
    hard = np.array([text not in everyday for text in texts])
    y = np.asarray(labels)
    threshold = care_model.threshold_for(probabilities[hard], y[hard].tolist(),
                                         false_positive_rate=FALSE_POSITIVES[kind])
    figures = {"examples": len(texts), "positives": int(y.sum()), "threshold": round(threshold, 4),
               "oof_recall": float((probabilities[y == 1] >= threshold).mean()),
               "oof_false_positives_hard": float((probabilities[hard & (y == 0)] >= threshold).mean()),
               "oof_false_positives_everyday": float((probabilities[~hard & (y == 0)] >= threshold).mean())
               if (~hard).any() else 0.0}
    weights, bias = care_model.fit(texts, labels)
    return care_model.CareModel(weights, bias, threshold), figures


class Command(BaseCommand):
    help = "Train the care layer's classifiers (crisis messages, harmful answers) from voicechat/data/care/."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail unless the shipped files are what training gives")

    def handle(self, *args, check: bool = False, **options):
        for kind, path in (("messages", care_model.MESSAGES_MODEL), ("answers", care_model.ANSWERS_MODEL)):
            model, figures = train(kind)
            self.stdout.write(f"{kind}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                      for k, v in figures.items()))
            if check:
                shipped = care_model.CareModel.load(path)
                same = (np.allclose(shipped.weights, model.weights.astype(np.float16).astype(np.float32), atol=1e-3)
                        and abs(shipped.threshold - model.threshold) < 1e-6 and abs(shipped.bias - model.bias) < 1e-6)
                if not same:
                    raise CommandError(f"{path.name} is not what care_train makes from {SETS}: run manage.py care_train")
                self.stdout.write(f"  {path.name} matches")
            else:
                model.save(path)
                self.stdout.write(f"  wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
