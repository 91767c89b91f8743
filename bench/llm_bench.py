"""Offline companion LLM benchmark: language, loops and speed through voicechat.companion.

Runs a fixed set of mood-care chat messages (32 Chinese, 32 English: stress, sleep,
sadness, small talk) through ``reply_stream`` (the production path: persona in the
utterance's language, sampling, loop guard) for each offline model and prints per model:

- lang: answers in the prompt's language (Chinese: more CJK characters than Latin letters;
  English: the reverse), target >= 95 %;
- loops: answers that still hold a 4-gram (words; characters for CJK) three times, target 0,
  and how often the loop guard had to stop an answer;
- echoes (an answer that is the user's words) and repeats (an earlier answer word for word);
- first token / first piece p50 (the first sentence or clause SentenceSplitter releases: what TTS
  starts on), total p50;
- tokens/s of decoding and mean answer length.

    DEBUG=1 .venv/bin/python bench/llm_bench.py [--models qwen2.5-coder-0.5b,smollm2] \
        [--runtime auto|llama.cpp|transformers] [--limit N] [--show] [--conversation] [--history-step N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZH = [
    "我最近压力很大，晚上总是睡不着。",
    "今天工作特别累，感觉快撑不住了。",
    "我有点难过，不知道为什么。",
    "你好呀，今天过得怎么样？",
    "我明天要考试，现在特别紧张。",
    "最近总是半夜醒来，然后就再也睡不着了。",
    "我和好朋友吵架了，心里很不舒服。",
    "老板今天批评了我，我觉得自己很没用。",
    "我一个人在外地工作，有时候觉得很孤单。",
    "今天天气很好，我心情也不错。",
    "能陪我聊聊天吗？",
    "我睡前总是刷手机，停不下来。",
    "最近什么事都提不起兴趣。",
    "我担心自己的身体健康。",
    "下周要做一个重要的报告，我很焦虑。",
    "我刚和男朋友分手了。",
    "家里人总是催我结婚，我好烦。",
    "我今天终于完成了一个大项目，好开心！",
    "晚上躺在床上，脑子里总是想很多事情。",
    "我觉得每天都过得一样，没什么意思。",
    "有什么放松的小方法吗？",
    "我最近胃口不好，吃不下东西。",
    "我养的猫生病了，我很担心它。",
    "早上起床特别困难，一点精神都没有。",
    "同事们好像都不太喜欢我。",
    "我想听点音乐放松一下。",
    "谢谢你一直听我说话。",
    "我今天哭了一场，现在好一点了。",
    "工作和生活怎么平衡啊？",
    "我总是担心做错事情。",
    "周末不知道做什么好。",
    "我失眠已经一个星期了。",
]

EN = [
    "I've been so stressed at work lately and I can't switch off.",
    "I can't fall asleep at night, my mind keeps racing.",
    "I feel sad today and I don't know why.",
    "Hi there, how are you doing today?",
    "I have an exam tomorrow and I'm really nervous.",
    "I keep waking up at three in the morning.",
    "I had a fight with my best friend.",
    "My boss criticized me today and I feel useless.",
    "I moved to a new city and I feel lonely.",
    "The weather is lovely today, I'm in a good mood.",
    "Can you just chat with me for a bit?",
    "I scroll on my phone in bed for hours.",
    "Nothing seems interesting to me anymore.",
    "I'm worried about my health.",
    "I have a big presentation next week and I'm anxious.",
    "My partner and I just broke up.",
    "My family keeps pressuring me about my career.",
    "I finally finished a big project today, I'm so happy!",
    "When I lie in bed I think about everything that went wrong.",
    "Every day feels the same and I'm bored.",
    "Do you know any quick ways to relax?",
    "I haven't been eating well recently.",
    "My dog is sick and I'm worried about him.",
    "It's so hard to get out of bed in the morning.",
    "I feel like my coworkers don't like me.",
    "I'd like to listen to some music to calm down.",
    "Thanks for always listening to me.",
    "I cried earlier today, but I feel a bit better now.",
    "How do I balance work and life?",
    "I'm always afraid of making mistakes.",
    "I don't know what to do this weekend.",
    "I've had insomnia for a week now.",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def count_tokens(model_key: str, text: str) -> int:
    from emotune.engines import engine_get
    from voicechat.companion import offline_runtime

    runtime = offline_runtime()

    if runtime == "llama.cpp":
        llama, _ = engine_get(f"llm:{model_key}:llama.cpp", lambda: None)
        return len(llama.tokenize(text.encode(), add_bos=False, special=False))
    tokenizer, _ = engine_get(f"llm:{model_key}", lambda: None)
    return len(tokenizer.encode(text, add_special_tokens=False))


def _plain(text: str) -> str:
    import re

    return re.sub(r"[\W_]+", "", text.lower())


def bench_model(key: str, runtime: str, prompts: list[tuple[str, str]], *, show: bool, conversation: bool = False) -> dict:
    from django.conf import settings

    from emotune.engines import _cache
    from voicechat.companion import (
        LoopGuard,
        SentenceSplitter,
        answer_model_name,
        offline_model,
        prompt_messages,
        reply_stream,
        text_language,
    )

    settings.COMPANION_LLM = key
    settings.COMPANION_LLM_RUNTIME = runtime
    if offline_model().key != key:
        return {"model": key, "missing": True}
    label = answer_model_name()
    started = time.perf_counter()
    list(reply_stream(prompt_messages(history=[], user_text="Hello.")))  # load + warm
    load_s = time.perf_counter() - started
    rows, history = [], []
    if conversation:
        # One running conversation, as the consumer keeps it: the languages alternate in runs of
        # three turns (zh zh zh en en en ...), each turn seeing the history window before it.
        zh, en = [p for p in prompts if p[0] == "zh"], [p for p in prompts if p[0] == "en"]
        prompts = [p for i in range(0, max(len(zh), len(en)), 3) for p in zh[i : i + 3] + en[i : i + 3]]
    for language, text in prompts:
        window = history[-settings.VOICE_HISTORY_MESSAGES :] if conversation else []
        t0 = time.perf_counter()
        first = first_sentence = None
        splitter, pieces = SentenceSplitter(), []
        trip = LoopGuard()
        messages = prompt_messages(history=window, user_text=text, language=language,
                                   history_start=len(history) - len(window))
        for piece in reply_stream(messages, guard=trip):
            now = time.perf_counter() - t0
            if first is None:
                first = now
            pieces.append(piece)
            if first_sentence is None and splitter.feed(piece):
                first_sentence = now
        total = time.perf_counter() - t0
        answer = "".join(pieces)
        first_sentence = total if first_sentence is None else first_sentence
        guard = LoopGuard()
        guard.feed(answer)
        guard.finish()
        tokens = count_tokens(key, answer) if answer else 0
        rows.append({
            "language": language, "text": text, "answer": answer, "first": first or total, "first_sentence": first_sentence,
            "total": total, "tokens": tokens, "match": text_language(answer) == language, "loop": guard.tripped,
            "guard_stopped": trip.tripped, "echo": _plain(answer) == _plain(text),
            "repeat": any(_plain(answer) == _plain(m.text) for m in window if m.role == "assistant"),
        })
        if conversation:
            from types import SimpleNamespace

            history += [SimpleNamespace(role="user", text=text), SimpleNamespace(role="assistant", text=answer)]
        if show:
            mark = ("" if rows[-1]["match"] else "  [LANG]") + ("  [GUARD]" if trip.tripped else "")
            print(f"  [{language}] {text}\n    -> ({total:.1f}s) {answer}{mark}", flush=True)
    for k in [k for k in _cache if k.startswith(f"llm:{key}")]:
        del _cache[k]  # free the weights before the next model
    decode = [r["tokens"] / max(1e-3, r["total"] - r["first"]) for r in rows if r["tokens"] > 1]
    by = {lang: [r for r in rows if r["language"] == lang] for lang in ("zh", "en")}
    return {
        "model": label, "load_s": load_s, "n": len(rows),
        "match_zh": sum(r["match"] for r in by["zh"]) / max(1, len(by["zh"])),
        "match_en": sum(r["match"] for r in by["en"]) / max(1, len(by["en"])),
        "match": sum(r["match"] for r in rows) / len(rows),
        "loops": sum(r["loop"] for r in rows), "guard_stops": sum(r["guard_stopped"] for r in rows),
        "echoes": sum(r["echo"] for r in rows), "repeats": sum(r["repeat"] for r in rows),
        "first_p50": pct([r["first"] for r in rows], 50), "first_sentence_p50": pct([r["first_sentence"] for r in rows], 50),
        "first_sentence_p95": pct([r["first_sentence"] for r in rows], 95),
        "total_p50": pct([r["total"] for r in rows], 50), "tok_s": statistics.median(decode) if decode else 0.0,
        "chars": statistics.mean(len(r["answer"]) for r in rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,smollm2,gemma3-270m")
    parser.add_argument("--runtime", default="auto", choices=["auto", "llama.cpp", "transformers"])
    parser.add_argument("--limit", type=int, default=0, help="first N prompts of each language (0: all)")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--conversation", action="store_true",
                        help="one running conversation (history window as the consumer gives it) instead of single turns")
    parser.add_argument("--history-step", type=int, default=0,
                        help="override OFFLINE_HISTORY_STEP (1: the window slides every turn) to compare prompt reuse")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None  # the offline models only
    if args.history_step:
        from voicechat import companion

        companion.OFFLINE_HISTORY_STEP = args.history_step
    limit = args.limit or None
    prompts = [("zh", t) for t in ZH[:limit]] + [("en", t) for t in EN[:limit]]
    results = []
    for key in args.models.split(","):
        print(f"== {key} ({args.runtime}), {len(prompts)} prompts, {settings.COMPANION_LLM_THREADS} threads", flush=True)
        results.append(bench_model(key, args.runtime, prompts, show=args.show, conversation=args.conversation))
    print()
    print("| model | lang zh | lang en | loops (guard stops) | echoes / repeats | first token p50 | first piece p50 / p95"
          " | total p50 | tokens/s | chars | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r.get("missing"):
            print(f"| {r['model']} | not installed |")
            continue
        print(
            f"| {r['model']} | {r['match_zh']:.0%} | {r['match_en']:.0%} | {r['loops']} ({r['guard_stops']}) | "
            f"{r['echoes']} / {r['repeats']} | {r['first_p50']:.2f} s | "
            f"{r['first_sentence_p50']:.2f} / {r['first_sentence_p95']:.2f} s | {r['total_p50']:.2f} s | "
            f"{r['tok_s']:.0f} | {r['chars']:.0f} | {r['load_s']:.1f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
