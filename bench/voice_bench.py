"""Voice companion benchmark in the production topology.

daphne + Redis channel layer + one ``gpu`` rqworker (EmotuneWorker) + MariaDB,
LLM = the loopback OpenAI-compatible server of the tests with a fixed
first-token delay and token rate. Needs MariaDB/Redis as ``make test`` starts them.

    .venv/bin/python bench/voice_bench.py --turns 50 --db test_emotune_voice_bench --redis-db 12

(a) per-turn latency, end of speech → first audio byte at the client, by stage,
    p50/p95, and the pipeline's own overhead (total minus model compute);
(b) concurrent sessions streaming audio in real time until a probe's p95 doubles
    (transport only: pings at 50/s; with ASR: PCM frames at 50/s into the recogniser);
(c) TTS real-time factor of each backend available here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        DB_HOST="127.0.0.1", DB_PORT="3306", DB_USER="emotune", DB_PASSWORD="emotune", DB_NAME=args.db,
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}", DEBUG="1", ALLOWED_HOSTS="127.0.0.1,localhost",
        EMOTUNE_HTTPS="0", SECRET_KEY="bench-" + "x1y2z3" * 10, DJANGO_SETTINGS_MODULE="emotune.settings",
        VOICE_END_SILENCE_MS=str(args.end_silence_ms), VOICE_TTS=args.tts, EMOTUNE_DATA_DIR=str(ROOT / ".data" / "bench"),
    )
    return env


async def one_turn(ws, pcm: bytes, frame_bytes: int, interval: float) -> dict:
    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))
    silence = b"\x00" * frame_bytes
    audio = pcm + silence * int(1.5 * 32000 / frame_bytes)
    last_sent = first_audio = None

    async def sender():
        nonlocal last_sent
        for offset in range(0, len(audio), frame_bytes):
            await ws.send(audio[offset : offset + frame_bytes])
            if offset < len(pcm):
                last_sent = time.monotonic()
            await asyncio.sleep(interval)

    task = asyncio.create_task(sender())
    metrics = None
    while metrics is None:
        frame = await asyncio.wait_for(ws.recv(), 60)
        if isinstance(frame, bytes):
            first_audio = first_audio or time.monotonic()
            continue
        event = json.loads(frame)
        if event["type"] == "error":
            raise RuntimeError(event)
        if event["type"] == "turn.metrics":
            metrics = event
    await task
    return {**metrics, "client_speech_end_to_audio_ms": round((first_audio - last_sent) * 1000)}


async def latency_run(port: int, cookie: str, conv_id: int, turns: int) -> list[dict]:
    import websockets

    pcm = GOFORWARD.read_bytes()
    results = []
    uri = f"ws://127.0.0.1:{port}/ws/voicechat/{conv_id}/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    async with websockets.connect(uri, additional_headers=headers, max_size=2**20) as ws:
        for i in range(turns):
            results.append(await one_turn(ws, pcm, 3200, 0.05))  # 100 ms frames at 2x real time
            await asyncio.sleep(1.0)  # let the answer "play" before the next question
    return results


async def concurrency_run(port: int, cookie: str, conv_ids: list[int], mode: str, seconds: float = 5.0) -> list[dict]:
    """Add sessions streaming 20 ms frames in real time; a probe session measures ping RTT."""
    import websockets

    uri = lambda cid: f"ws://127.0.0.1:{port}/ws/voicechat/{cid}/"  # noqa: E731
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    pcm = GOFORWARD.read_bytes()
    rows, baseline = [], None
    for n in (0, 1, 2, 4, 8, 16, 24):
        if n > len(conv_ids) - 1:
            break
        stop = asyncio.Event()

        async def streamer(cid):
            async with websockets.connect(uri(cid), additional_headers=headers, max_size=2**20) as ws:
                if mode == "asr":
                    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))
                offset, next_at = 0, time.monotonic()
                drain = asyncio.create_task(_drain(ws))
                while not stop.is_set():
                    if mode == "asr":
                        await ws.send(pcm[offset : offset + 640] or b"\x00" * 640)
                        offset = (offset + 640) % len(pcm)
                    else:
                        await ws.send('{"type": "ping"}')
                    next_at += 0.02
                    await asyncio.sleep(max(0, next_at - time.monotonic()))
                drain.cancel()

        tasks = [asyncio.create_task(streamer(cid)) for cid in conv_ids[1 : n + 1]]
        await asyncio.sleep(1.0)
        rtts = []
        async with websockets.connect(uri(conv_ids[0]), additional_headers=headers) as probe:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                sent = time.monotonic()
                await probe.send('{"type": "ping"}')
                while json.loads(await probe.recv())["type"] != "pong":
                    pass
                rtts.append((time.monotonic() - sent) * 1000)
                await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        p95 = pct(rtts, 95)
        baseline = baseline or p95
        rows.append({"sessions": n, "p50_ms": round(pct(rtts, 50), 1), "p95_ms": round(p95, 1)})
        print(mode, rows[-1], flush=True)
        if p95 > 2 * baseline and p95 > 5:
            break
    return rows


async def _drain(ws):
    try:
        async for _ in ws:
            pass
    except Exception:
        pass


def tts_rtf() -> list[dict]:
    import numpy as np

    from voicechat import tts

    text = "I hear you. It sounds like today has been heavy, so let's take one slow breath together."
    rows = []
    engines = [("espeak", tts.EspeakSynthesizer())]
    if tts.piper_available():
        engines.append(("piper", tts.PiperSynthesizer(tts.piper_voice_path())))
    for name, engine in engines:
        list(engine.stream("Warm up."))
        times, seconds = [], 0.0
        for _ in range(5):
            started = time.perf_counter()
            audio = np.concatenate(list(engine.stream(text)))
            times.append(time.perf_counter() - started)
            seconds = len(audio) / engine.sample_rate
        rows.append({"backend": name, "audio_s": round(seconds, 2), "synth_s_median": round(statistics.median(times), 3),
                     "rtf": round(statistics.median(times) / seconds, 4)})
        if hasattr(engine, "close"):
            engine.close()
    rows.append({"backend": "cosyvoice2", "note": "no weights obtainable here (see STACK-NOTES); not measured"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--db", default="test_emotune_voice_bench")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--first-delay", type=float, default=0.3)
    parser.add_argument("--token-interval", type=float, default=0.03)
    parser.add_argument("--end-silence-ms", type=int, default=500)
    parser.add_argument("--tts", default="piper")
    parser.add_argument("--skip", default="", help="comma list of a,b,c to skip")
    args = parser.parse_args()
    env = setup_env(args)
    os.environ.update(env)
    # The test account may create test_emotune* databases (.ci/services.sh).
    subprocess.run(["mariadb", "-h127.0.0.1", "-uemotune", "-pemotune", "-e",
                    f"CREATE DATABASE IF NOT EXISTS {args.db} CHARACTER SET utf8mb4"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.test import Client

    from accounts.services import user_create
    from accounts.models import User
    from tests.llm_server import FakeLLM
    from voicechat.models import Conversation

    user = User.objects.filter(username="bench").first() or user_create(username="bench", password="bench-Pa55word-x")
    convs = [Conversation.objects.create(user=user).pk for _ in range(25)]
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    words = "Thank you for telling me. That sounds hard. Let's take a slow breath together and then talk it through.".split()
    llm = FakeLLM().start()
    llm.script = [{"tokens": [w + " " for w in words], "first_delay": args.first_delay, "interval": args.token_interval}]
    env.update(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="k")
    port = free_port()
    logs = ROOT / ".data" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    daphne = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
                              cwd=ROOT, env=env, stdout=open(logs / "daphne.log", "w"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen([sys.executable, "manage.py", "rqworker", "gpu", "--worker-class", "emotune.worker.EmotuneWorker"],
                              cwd=ROOT, env=env, stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT)
    report = {"config": vars(args)}
    try:
        time.sleep(4)
        if "a" not in args.skip:
            asyncio.run(latency_run(port, cookie, convs[0], 2))  # warm-up: loads ASR, VAD, TTS
            turns = asyncio.run(latency_run(port, cookie, convs[0], args.turns))
            stages = {}
            for key in ("asr_final_ms", "llm_first_token_ms", "first_sentence_ms", "tts_first_compute_ms",
                        "tts_first_audio_ms", "client_speech_end_to_audio_ms"):
                vals = [t[key] for t in turns if t.get(key) is not None]
                stages[key] = {"p50": pct(vals, 50), "p95": pct(vals, 95)}
            end_to_audio = [t["asr_final_ms"] + t["tts_first_audio_ms"] for t in turns]
            overhead = [t["tts_first_audio_ms"] - t["first_sentence_ms"] - t["tts_first_compute_ms"] for t in turns]
            stages["server_end_of_speech_to_first_audio_ms"] = {"p50": pct(end_to_audio, 50), "p95": pct(end_to_audio, 95)}
            stages["pipeline_overhead_ms"] = {"p50": pct(overhead, 50), "p95": pct(overhead, 95)}
            report["latency"] = {"turns": len(turns), "stages": stages}
            print(json.dumps(report["latency"], indent=1), flush=True)
        if "b" not in args.skip:
            report["concurrency_transport"] = asyncio.run(concurrency_run(port, cookie, convs, "transport"))
            report["concurrency_asr"] = asyncio.run(concurrency_run(port, cookie, convs, "asr"))
    finally:
        daphne.terminate()
        worker.terminate()
        llm.stop()
    if "c" not in args.skip:
        report["tts_rtf"] = tts_rtf()
        print(json.dumps(report["tts_rtf"], indent=1))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "voice_bench.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
