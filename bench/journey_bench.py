"""Mood journey benchmark: render seconds per minute of music, offline engine and tiny MusicGen.

    DEBUG=1 .venv/bin/python bench/journey_bench.py [--minutes 2] [--sections 3] [--runs 3] [--threads 1]

Renders a planned journey (sad → calm) with ``music.engines.JourneyRenderer``, the code the
journey job runs: section by section, MusicGen continuing each section from the previous one's
audio, equal-power joins, per-section levels. The tiny random MusicGen of the tests has
the real code path but not the real model's cost; its figure measures the journey machinery
(windows, audio prompts, joins), not musicgen-small (see bench/music_bench.py --gpu for that).
Prints one JSON line per engine (median of the runs) and appends them to bench/out/journey.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

OUT = ROOT / "bench" / "out"


def emit(record: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record)
    print(line, flush=True)
    with open(OUT / "journey.jsonl", "a") as fh:
        fh.write(line + "\n")


def render_seconds(plan: dict, params: dict) -> tuple[float, list[dict]]:
    from music.engines import JourneyRenderer

    started = time.perf_counter()
    renderer = JourneyRenderer(plan=plan, params=params, progress=lambda *a, **k: None)
    renderer.run()
    return time.perf_counter() - started, renderer.section_info


def bench(engine: str, plan: dict, params: dict, runs: int) -> None:
    render_seconds(plan, params)  # warm: model load, caches
    times, info = [], []
    for run in range(runs):
        seconds, info = render_seconds(plan, {**params, "seed": run})
        times.append(seconds)
    minutes = plan["total_seconds"] / 60
    median = statistics.median(times)
    emit({"bench": "journey", "engine": engine, "minutes_of_music": minutes, "sections": len(plan["sections"]),
          "runs": runs, "render_s_median": round(median, 3), "render_s_per_music_minute": round(median / minutes, 3),
          "per_section_s": [s["seconds"] for s in info], "continued": [s["continued"] for s in info]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--sections", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    args = parser.parse_args()

    import torch

    from music.journeys import plan_build
    from tests.music.tiny_musicgen import tiny_musicgen_build

    torch.set_num_threads(args.threads)
    plan = plan_build(emotion="sad", target="calm", minutes=args.minutes, sections=args.sections)
    bench("offline", plan, {"engine": "offline", "seed": 0}, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        model = tiny_musicgen_build(Path(tmp) / "tiny-mono")
        params = {"engine": "musicgen", "model": str(model), "seed": 0, "top_k": 250, "top_p": 0.0,
                  "temperature": 1.0, "cfg_coef": 3.0}
        bench("musicgen-tiny", plan, params, args.runs)


if __name__ == "__main__":
    main()
