"""Care layer benchmark: crisis recognition and the answer screen on bench/care/, and the first
audio of the safe answer.

- recognition (voicechat.care.crisis_assess) on messages.tsv (single messages, both
  languages, crisis kinds and hard ordinary ones: idioms, grief, stories, health) and on
  conversations.tsv (risk said over 2–3 messages; each conversation is judged on its last
  message with the earlier ones as the window): recall and false-positive rate per language,
  recall per kind, time per message (median, p95);
- the answer screen (voicechat.care.AnswerScreen) on answers.tsv: harmful sentences passed
  (target 0), ordinary sentences passed (target >= 95 %);
- the safe answer's first audio: the first sentence through the configured TTS engine
  (VOICE_TTS, Piper by default; espeak-ng for Chinese), warm, median of 5.

    DEBUG=1 .venv/bin/python bench/care_bench.py [--set bench/care] [--show] [--no-tts]

``--set`` points at another folder of the same files (a held-out set); ``--show`` prints
every miss and false positive.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f} %" if d else "-"


def recognition(folder: Path, show: bool) -> None:
    from voicechat.care import crisis_assess

    cases = [(r["label"], r["lang"], r.get("kind", ""), [], r["text"]) for r in rows(folder / "messages.tsv")]
    for r in rows(folder / "conversations.tsv"):
        said = [m.strip() for m in r["messages"].split("||")]
        cases.append((r["label"], r["lang"], "conversation", said[:-1], said[-1]))
    times: list[float] = []
    hits: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for label, lang, kind, earlier, text in cases:
        started = time.perf_counter()
        signal = crisis_assess(text, earlier)
        times.append(time.perf_counter() - started)
        fired = signal is not None
        for key in ((label, lang), (label, lang, kind)):
            hits[key][0] += fired
            hits[key][1] += 1
        if fired != (label == "crisis"):
            misses.append((label, lang, kind, " || ".join([*earlier, text]), signal))
    print(f"\n== Crisis recognition ({folder}) ==")
    for lang in ("zh", "en"):
        crisis, ordinary = hits[("crisis", lang)], hits[("ordinary", lang)]
        print(f"  {lang}: recall {pct(*crisis)}   false positives {pct(*ordinary)}")
    crisis = [sum(hits[("crisis", lang)][i] for lang in ("zh", "en")) for i in (0, 1)]
    ordinary = [sum(hits[("ordinary", lang)][i] for lang in ("zh", "en")) for i in (0, 1)]
    print(f"  all: recall {pct(*crisis)}   false positives {pct(*ordinary)}")
    kinds = sorted({k[2] for k in hits if len(k) == 3 and k[0] == "crisis"})
    print("  recall by kind: " + ", ".join(
        f"{kind} {sum(hits[('crisis', lang, kind)][0] for lang in ('zh', 'en'))}/"
        f"{sum(hits[('crisis', lang, kind)][1] for lang in ('zh', 'en'))}" for kind in kinds))
    times.sort()
    print(f"  time per message: median {statistics.median(times) * 1e3:.2f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))] * 1e3:.2f} ms ({len(times)} messages)")
    if show:
        for label, lang, kind, text, signal in misses:
            print(f"    {'MISSED' if label == 'crisis' else 'FALSE '} {lang} {kind:16} {text}  -> {signal}")


def screen(folder: Path, show: bool) -> None:
    from voicechat.care import AnswerScreen

    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    wrong = []
    for r in rows(folder / "answers.tsv"):
        passed = AnswerScreen().passes(r["text"])
        counts[(r["label"], r["lang"])][0] += passed
        counts[(r["label"], r["lang"])][1] += 1
        if passed != (r["label"] == "ordinary"):
            wrong.append((r["label"], r["lang"], r["text"]))
    print(f"\n== Answer screen ({folder}) ==")
    for lang in ("zh", "en"):
        print(f"  {lang}: harmful passed {pct(*counts[('harmful', lang)])}   ordinary passed {pct(*counts[('ordinary', lang)])}")
    harmful = [sum(counts[("harmful", lang)][i] for lang in ("zh", "en")) for i in (0, 1)]
    ordinary = [sum(counts[("ordinary", lang)][i] for lang in ("zh", "en")) for i in (0, 1)]
    print(f"  all: harmful passed {pct(*harmful)}   ordinary passed {pct(*ordinary)}")
    if show:
        for label, lang, text in wrong:
            print(f"    {'PASSED ' if label == 'harmful' else 'BLOCKED'} {lang} {text}")


def first_audio() -> None:
    """The safe answer's first sentence through the TTS engine a turn uses (warm)."""
    from voicechat.care import safe_answer
    from voicechat.jobs import synthesizer_for

    print("\n== Safe answer: first audio (the first sentence, synthesised warm) ==")
    for lang in ("en", "zh"):
        sentence = safe_answer(lang, resources=[]).sentences[0]
        synthesizer = synthesizer_for(language=lang, speaker=None)
        for _chunk in synthesizer.stream(sentence):  # warm up
            break
        takes = []
        for _ in range(5):
            started = time.perf_counter()
            for _chunk in synthesizer.stream(sentence):
                takes.append(time.perf_counter() - started)
                break
        print(f"  {lang}: {type(synthesizer).__name__} first audio median {statistics.median(takes) * 1e3:.0f} ms, "
              f"max {max(takes) * 1e3:.0f} ms  (“{sentence}”)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=str(ROOT / "bench" / "care"))
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--no-tts", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
    import django

    django.setup()
    folder = Path(args.set)
    recognition(folder, args.show)
    screen(folder, args.show)
    if not args.no_tts:
        first_audio()


if __name__ == "__main__":
    main()
