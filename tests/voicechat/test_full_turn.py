"""A whole spoken turn in the production topology: daphne + Redis channel layer +
a real ``gpu`` rqworker (EmotuneWorker) + a loopback OpenAI-compatible LLM.

Real speech (Debian's pocketsphinx-testdata) goes in as 20 ms PCM16 frames;
the server must answer with partials, a final transcript (ended by Silero VAD),
LLM tokens, then TTS audio chunks in order, and save both messages with telemetry.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import websockets

from tests.helpers import session_cookie
from tests.voicechat.speech import said_go_forward
from voicechat.models import Conversation

GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")
pytestmark = [pytest.mark.django_db(transaction=True)]


async def speak_and_collect(port: int, cookie: str, conversation_id: int, pcm: bytes) -> tuple[list[dict], list[bytes]]:
    uri = f"ws://127.0.0.1:{port}/ws/voicechat/{conversation_id}/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    events, audio = [], []
    async with websockets.connect(uri, additional_headers=headers, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))
        silence = b"\x00\x00" * 320

        async def sender():
            for offset in range(0, len(pcm), 640):  # real time: 20 ms frames every 20 ms
                await ws.send(pcm[offset : offset + 640])
                await asyncio.sleep(0.02)
            for _ in range(75):  # 1.5 s of trailing silence lets the VAD end the turn
                await ws.send(silence)
                await asyncio.sleep(0.02)

        send_task = asyncio.create_task(sender())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic())
            if isinstance(frame, bytes):
                audio.append(frame)
                events.append({"type": "audio"})
                continue
            event = json.loads(frame)
            events.append(event)
            if event["type"] == "turn.metrics":
                break
        send_task.cancel()
    return events, audio


def test_spoken_turn_through_daphne_redis_and_gpu_worker(user, fake_llm, daphne_server, gpu_worker):
    fake_llm.script = [{"tokens": ["Going", " forward", " sounds", " good.", " Take", " it", " slowly."], "interval": 0.02}]
    conversation = Conversation.objects.create(user=user)
    cookie = session_cookie(user)
    events, audio = asyncio.run(speak_and_collect(daphne_server, cookie, conversation.pk, GOFORWARD.read_bytes()))
    kinds = [e["type"] for e in events]
    assert "error" not in kinds, events
    assert kinds.index("asr.partial") < kinds.index("asr.final") < kinds.index("llm.token") < kinds.index("tts.start")
    final = next(e for e in events if e["type"] == "asr.final")["text"]
    assert said_go_forward(final)
    assert [e["seq"] for e in events if e["type"] == "tts.start"] == [0, 1]
    assert [e["seq"] for e in events if e["type"] == "tts.end"] == [0, 1]
    # Audio of sentence 0 comes between its start and end, before sentence 1 starts.
    first_end = kinds.index("tts.end")
    assert "audio" in kinds[kinds.index("tts.start") : first_end]
    assert sum(map(len, audio)) > 22050 * 2  # over a second of speech at 22.05 kHz
    metrics = events[-1]
    for key in ("asr_final_ms", "llm_first_token_ms", "tts_first_audio_ms", "total_ms"):
        assert isinstance(metrics[key], int) and metrics[key] >= 0
    messages = list(conversation.messages.all())
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].text == final
    assert messages[1].text == "Going forward sounds good. Take it slowly."
    assert messages[1].telemetry["tts_first_audio_ms"] == metrics["tts_first_audio_ms"]
    assert messages[1].telemetry["tts_first_compute_ms"] is not None
    # Every stage on the way to the first audio byte is time stamped, in pipeline order
    # (the worker's stamps included: one monotonic clock per machine).
    stages = messages[1].telemetry["stages_ms"]
    order = ["turn", "context", "llm_request", "llm_first_token", "first_sentence", "tts_admitted", "tts_queued",
             "job_start", "synth_start", "first_chunk", "audio_in", "audio_out"]
    assert [stages[name] for name in order] == sorted(stages[name] for name in order), stages
    assert stages["audio_out"] == metrics["asr_final_ms"] + metrics["tts_first_audio_ms"]
