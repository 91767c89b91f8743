"""Redis (a private server) restarted during a generation and during a voice chat: nothing lost."""

from __future__ import annotations

import asyncio
import time

import pytest

from emotune import jobs
from emotune.models import JobStatus
from music.models import MusicGeneration
from music.services import generation_create
from tests import helpers
from tests.faults.conftest import ChatClient, wait_until
from tests.faults.test_worker_kill import FINAL, LONG_ANSWER, final_status
from voicechat.models import Conversation

pytestmark = [pytest.mark.long, pytest.mark.django_db(transaction=True)]


def test_redis_restart_during_a_generation(user, private_redis, procs):
    env = {"REDIS_URL": private_redis.url, "WORKER_HEARTBEAT_SECONDS": "1"}
    procs.append(helpers.start_worker("gpu", env=env))
    running = generation_create(user=user, params={"duration": 120, "video": True})
    waiting = generation_create(user=user, params={"duration": 5})  # queued behind it: its entry dies with Redis

    def writing_files():
        running.refresh_from_db()
        return running.status == JobStatus.RUNNING and running.progress_note == "writing files"

    assert wait_until(writing_files, 90, 0.05), (running.status, running.progress_note)
    restarted_at = time.monotonic()
    private_redis.restart()
    status = final_status(running, 60)
    running_s = time.monotonic() - restarted_at
    print(f"fault: Redis restart during a generation: running row final in {running_s:.1f} s ({status})")
    assert status in FINAL
    # The queued row's queue entry was lost; the reaper re-sends it once its grace period is over.
    status = final_status(waiting, 90)
    waiting_s = time.monotonic() - restarted_at
    print(f"fault: Redis restart during a generation: queued row final in {waiting_s:.1f} s ({status})")
    assert status == JobStatus.SUCCEEDED, waiting.error
    alive = procs[0].poll() is None
    if not alive:
        procs.append(helpers.start_worker("gpu", env=env))
    nxt = generation_create(user=user, params={"duration": 5})
    started = time.monotonic()
    assert final_status(nxt, 60) == JobStatus.SUCCEEDED, nxt.error
    print(f"fault: Redis restart during a generation: worker survived={alive}, "
          f"next job succeeded in {time.monotonic() - started:.1f} s")
    assert not MusicGeneration.objects.filter(status__in=["queued", "running"]).exists()


def test_redis_restart_during_a_chat(user, fake_llm, private_redis, procs, tmp_path):
    # A slow stream: the answer is still arriving when Redis goes away.
    fake_llm.script = [
        {"tokens": [w + " " for w in "".join(LONG_ANSWER).split()], "interval": 0.05},
        {"tokens": ["Welcome", " back."], "interval": 0.01},
        {"tokens": ["I am", " still here."], "interval": 0.01},
    ]
    env = {"REDIS_URL": private_redis.url}
    port = helpers.free_port()
    procs.append(helpers.start_daphne(port, tmp_path / "daphne.log", env={
        **env, "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k", "VOICE_TTS_STALL_SECONDS": "2",
    }))
    procs.append(helpers.start_worker("gpu", env={**env, "VOICE_TTS": "piper", "WORKER_HEARTBEAT_SECONDS": "1"}))
    assert wait_until(jobs.live_worker_names, 30)
    conversation = Conversation.objects.create(user=user)
    client = ChatClient(port, helpers.session_cookie(user), conversation.pk)
    marks = {}

    async def restart_on_first_audio(event):
        if event["type"] == "tts.start" and "restart" not in marks:
            marks["restart"] = time.monotonic()
            await asyncio.to_thread(private_redis.restart)

    async def scenario():
        await client.connect()
        outcome = "completed"
        try:
            first, _ = await client.turn("I cannot calm down tonight.", timeout=120, on_event=restart_on_first_audio)
        except Exception as exc:  # the server closed the socket: the page reconnects
            outcome, first = f"closed ({type(exc).__name__})", []
            await client.connect()
        marks["final"] = time.monotonic()
        second, audio = await client.turn("Are you there?", timeout=60)
        await client.close()
        return outcome, first, second, audio

    try:
        outcome, first, second, audio = asyncio.run(scenario())
    except Exception:
        print("events:", [e for e in client.events if e["type"] != "llm.token"])
        print((tmp_path / "daphne.log").read_text()[-3000:])
        for proc in procs[1:]:
            proc.terminate()
            print("worker:", proc.communicate(timeout=20)[0][-6000:])
        raise
    final_s = marks["final"] - marks["restart"]
    errors = [e["code"] for e in first if e["type"] == "error"]
    print(f"fault: Redis restart during a chat: turn {outcome} in {final_s:.1f} s after the restart, errors {errors}")
    assert final_s < 30
    assert outcome != "completed" or errors, "the client was not told that speech was lost"
    assert not [e for e in second if e["type"] == "error"], second
    assert [e["seq"] for e in second if e["type"] == "tts.end"] == [0] and audio > 0
    messages = list(conversation.messages.order_by("pk"))
    roles = [m.role for m in messages]
    assert roles == ["user", "assistant", "user", "assistant"], [(m.role, m.text[:30]) for m in messages]
    assert messages[0].text == "I cannot calm down tonight." and messages[2].text == "Are you there?"
    assert messages[1].text and "".join(LONG_ANSWER).startswith(messages[1].text.strip()[:40])
    assert messages[3].text in ("Welcome back.", "I am still here.")
