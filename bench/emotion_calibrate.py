"""Fit the calibrated ensemble on the labelled dev set and write emotion/calibration.json.

    OMP_NUM_THREADS=1 .venv/bin/python bench/emotion_calibrate.py [--dir DEV_DIR] [--folds 5] [--dry-run]
        [--corrections]

``--corrections`` adds the photo readings whose owners said which emotion was right (the
reading page's "Which is right?"; emotion.selectors.corrected_photos), labelled with their word,
to the dev photos: run it against the site's database (its settings and MEDIA_ROOT or bucket).

Each photo's face is found as in production (emotion.faces.face_find); each
model (fer, pyemotion) reads the crop in every test-time view of
emotion.calibration.VIEWS. Candidates (which members, which views) are compared
by stratified k-fold cross-validation: weights and biases are fitted on k-1
folds and macro recall is counted on the held-out fold, end to end (a photo
without a face found counts as wrong). The best candidate is then fitted on
all photos and stored, with both figures (cross-validated and in-sample) and
the "uncertain" threshold chosen on the held-out predictions.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from emotion import calibration, engines  # noqa: E402
from emotion.faces import face_find  # noqa: E402
from emotion.models import EMOTIONS  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from emotion_bench import folder_set  # noqa: E402

MEMBERS = ("fer", "pyemotion")
SIMPLER_WITHIN = 0.01
L2_BIAS = 0.02  # per photo: keeps biases of rare confusions finite
VIEW_SETS = {
    "plain": ("plain",),
    "flip": ("plain", "flip"),
    "flip+loose": ("plain", "flip", "loose", "loose_flip"),
    "flip+loose+tight": ("plain", "flip", "loose", "loose_flip", "tight", "tight_flip"),
    "flip+wide": ("plain", "flip", "wide", "wide_flip"),
    "flip+loose+wide": ("plain", "flip", "loose", "loose_flip", "wide", "wide_flip"),
    "loose+wide+wider": ("loose", "loose_flip", "wide", "wide_flip", "wider", "wider_flip"),
}


def member_views(items):
    """found mask (N,), labels (N,), probs (N, members, views, 7); probs of photos without a face are 0."""
    models = {m: engines.classifier_get(m) for m in MEMBERS}
    views = list(calibration.VIEWS)
    found, labels = np.zeros(len(items), bool), np.array([EMOTIONS.index(lab) for _, lab, _ in items])
    probs = np.zeros((len(items), len(MEMBERS), len(views), len(EMOTIONS)))
    for i, (path, _, _) in enumerate(items):
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        face = face_find(gray)
        if face is None:
            continue
        found[i] = True
        for j, name in enumerate(MEMBERS):
            model = models[name]
            crops = calibration.view_crops(gray, face, model.margin, views)
            model_flip, model.flip_average = model.flip_average, False
            probs[i, j] = model.probabilities(crops)
            model.flip_average = model_flip
    return found, labels, probs


def features(probs, members, views):
    idx_m = [MEMBERS.index(m) for m in members]
    idx_v = [list(calibration.VIEWS).index(v) for v in views]
    return [probs[:, j][:, idx_v].mean(axis=1) for j in idx_m]


def fit(feats, labels, present):
    """Weights (one per member) and biases (present classes only) by regularised cross-entropy."""
    n_m, n = len(feats), len(labels)
    logs = [np.log(np.clip(f, 1e-6, 1)) for f in feats]
    free = np.array([EMOTIONS.index(e) for e in present])

    def unpack(theta):
        b = np.zeros(len(EMOTIONS))
        b[free] = theta[n_m:]
        return theta[:n_m], b

    def loss(theta):
        w, b = unpack(theta)
        z = sum(wi * li for wi, li in zip(w, logs)) + b
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(n), labels].mean() + L2_BIAS * (b ** 2).sum() / len(free)

    theta0 = np.concatenate([np.ones(n_m), np.zeros(len(free))])
    res = minimize(loss, theta0, method="L-BFGS-B", bounds=[(0, 10)] * n_m + [(-5, 5)] * len(free))
    w, b = unpack(res.x)
    if TUNE_RECALL:
        b = _tune_recall(feats, labels, present, w, b)
    return w, b


TUNE_RECALL = False


def _tune_recall(feats, labels, present, w, b):
    """Biases nudged, one class at a time, towards higher macro recall on the fitting photos."""
    b = b.copy()
    free = [EMOTIONS.index(e) for e in present]
    for _ in range(3):
        for c in free:
            best_v, best_r = b[c], -1.0
            for step in np.arange(-1.0, 1.01, 0.1):
                trial = b.copy()
                trial[c] = b[c] + step
                pred = calibration.combine(feats, list(w), trial).argmax(1)
                r = macro_recall(pred, labels, present) - 1e-3 * abs(step)
                if r > best_r:
                    best_v, best_r = trial[c], r
            b[c] = best_v
    return b


def macro_recall(pred, labels, present):
    return float(np.mean([(pred[labels == EMOTIONS.index(e)] == EMOTIONS.index(e)).mean() for e in present]))


def folds(labels, k, seed=0):
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), int)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        fold[idx] = np.arange(len(idx)) % k
    return fold


def evaluate(found, labels, probs, members, views, present, k):
    """Cross-validated predictions (-1 where no face) and confidences, and in-sample figures."""
    feats = features(probs, members, views)
    fold = folds(labels, k)
    pred, conf = np.full(len(labels), -1), np.zeros(len(labels))
    for f in range(k):
        train, test = found & (fold != f), found & (fold == f)
        w, b = fit([x[train] for x in feats], labels[train], present)
        p = calibration.combine([x[test] for x in feats], list(w), b)
        pred[test], conf[test] = p.argmax(1), p.max(1)
    w, b = fit([x[found] for x in feats], labels[found], present)
    p = calibration.combine([x[found] for x in feats], list(w), b)
    pred_in = np.full(len(labels), -1)
    pred_in[found] = p.argmax(1)
    return pred, conf, pred_in, w, b


def uncertain_threshold(pred, conf, labels):
    """The confidence below which held-out readings were more often wrong than right."""
    ok = pred >= 0
    c, right = conf[ok], (pred[ok] == labels[ok])
    best_t, best_gain = 0.0, -1e9
    for t in np.round(np.arange(0.15, 0.9, 0.01), 2):
        kept = c >= t
        gain = right[kept].sum() - (~right[kept]).sum()
        if gain > best_gain:
            best_t, best_gain = float(t), gain
    kept = c >= best_t
    return best_t, float(right[kept].mean()) if kept.any() else 0.0, float(kept.mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path(settings.EMOTION_DEV_DIR))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write emotion/calibration.json")
    parser.add_argument("--corrections", action="store_true",
                        help="add the photo readings corrected by their owners (the site's database) as labelled photos")
    parser.add_argument("--tune-recall", action="store_true",
                        help="after the cross-entropy fit, nudge biases towards macro recall (on the fitting folds)")
    args = parser.parse_args()
    global TUNE_RECALL
    TUNE_RECALL = args.tune_recall
    if not args.dir.is_dir():
        parser.error(f"labelled folder {args.dir} does not exist (set EMOTION_DEV_DIR or give --dir)")
    items = folder_set(args.dir)
    with contextlib.ExitStack() as stack:
        corrected = 0
        if args.corrections:
            from emotion.selectors import corrected_photos
            from emotune.storage import local_path

            for reading in corrected_photos().iterator():
                path = stack.enter_context(local_path(reading.media))
                items.append((path, reading.corrected_emotion, f"reading #{reading.pk}"))
                corrected += 1
            print(f"{corrected} photos corrected by their owners added")
        found, labels, probs = member_views(items)
    present = [e for e in EMOTIONS if (labels == EMOTIONS.index(e)).any()]
    print(f"{len(items)} photos, face found {found.mean():.1%}, classes {present}")
    results = []
    for r in range(1, len(MEMBERS) + 1):
        for members in itertools.combinations(MEMBERS, r):
            for vname, views in VIEW_SETS.items():
                pred, conf, pred_in, w, b = evaluate(found, labels, probs, members, views, present, args.folds)
                cv, ins = macro_recall(pred, labels, present), macro_recall(pred_in, labels, present)
                results.append((cv, ins, members, vname, pred, conf, pred_in))
                print(f"  {'+'.join(members):>15} {vname:>17}: macro recall {cv:.3f} cross-validated, "
                      f"{ins:.3f} in-sample")
    uncal = {}
    for m in MEMBERS:
        p = features(probs, (m,), ("plain",))[0]
        pred = np.where(found, p.argmax(1), -1)
        uncal[m] = macro_recall(pred, labels, present)
    # The simplest candidate (fewest model passes) within SIMPLER_WITHIN of the best cross-validated figure:
    # a member or view that adds less than that (3 photos in 300) does not earn its time.
    best = max(r[0] for r in results)
    cv, ins, members, vname, pred, conf, pred_in = min(
        (r for r in results if r[0] >= best - SIMPLER_WITHIN), key=lambda r: (len(r[2]) * len(VIEW_SETS[r[3]]), -r[0]))
    views = VIEW_SETS[vname]
    feats = features(probs, members, views)
    w, b = fit([x[found] for x in feats], labels[found], present)
    threshold, acc_kept, share_kept = uncertain_threshold(pred, conf, labels)
    per_class = {e: round(float((pred[labels == EMOTIONS.index(e)] == EMOTIONS.index(e)).mean()), 3) for e in present}
    out = {
        "members": [{"name": m, "weight": round(float(wi), 4)} for m, wi in zip(members, w)],
        "views": list(views),
        "bias": {e: round(float(bi), 4) for e, bi in zip(EMOTIONS, b)},
        "uncertain_below": threshold,
        "fitted_on": {"dir": args.dir.name, "photos": len(items), "corrected_readings": corrected,
                      "face_found": round(float(found.mean()), 3),
                      "classes_without_photos": [e for e in EMOTIONS if e not in present],
                      "date": date.today().isoformat()},
        "candidates": [{"members": list(r[2]), "views": r[3], "macro_recall_cross_validated": round(r[0], 3),
                        "macro_recall_in_sample": round(r[1], 3)} for r in results],
        "figures": {"macro_recall_cross_validated": round(cv, 3), "macro_recall_in_sample": round(ins, 3),
                    "folds": args.folds, "per_class_cross_validated": per_class,
                    "uncalibrated_plain_macro_recall": {m: round(v, 3) for m, v in uncal.items()},
                    "held_out_accuracy_above_threshold": round(acc_kept, 3),
                    "held_out_share_above_threshold": round(share_kept, 3)},
        "bias_tuned_for_recall": TUNE_RECALL,
        "command": "OMP_NUM_THREADS=1 .venv/bin/python bench/emotion_calibrate.py --dir " + str(args.dir)
                   + (" --tune-recall" if TUNE_RECALL else "") + (" --corrections" if args.corrections else ""),
    }
    print(json.dumps(out, indent=2))
    if not args.dry_run:
        calibration.CALIBRATION_PATH.write_text(json.dumps(out, indent=2) + "\n")
        print(f"written to {calibration.CALIBRATION_PATH}")


if __name__ == "__main__":
    main()
