"""SIGKILL of a gpu worker mid-generation and mid-synthesis: nothing stuck, the user told, the next job runs."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from emotune import jobs
from emotune.models import JobStatus
from music.models import MusicGeneration
from music.services import generation_create
from tests import helpers
from tests.faults.conftest import ChatClient, kill9, wait_until
from voicechat.models import Conversation

pytestmark = [pytest.mark.long, pytest.mark.django_db(transaction=True)]

FAST_BEAT = {"WORKER_HEARTBEAT_SECONDS": "1"}
FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def final_status(row, timeout: float) -> str | None:
    def check():
        row.refresh_from_db()
        return row.status if row.status in FINAL else None

    return wait_until(check, timeout, 0.2)


async def test_gpu_worker_killed_mid_generation(user, procs):
    alice_ws = helpers.ws_client("/ws/events/", cookie=await sync_to_async(helpers.session_cookie)(user))
    assert (await alice_ws.connect())[0]
    procs.append(helpers.start_worker("gpu", env=FAST_BEAT))
    # 120 s with its waveform video: the "writing files" stage alone takes seconds here.
    row = await sync_to_async(generation_create)(user=user, params={"duration": 120, "video": True})

    def writing_files():
        row.refresh_from_db()
        return row.status == JobStatus.RUNNING and row.progress_note == "writing files"

    assert await asyncio.to_thread(wait_until, writing_files, 90, 0.05), (row.status, row.progress_note)
    dead_worker = row.worker_name
    killed_at = await asyncio.to_thread(kill9, procs[0])
    # The replacement worker (as a supervisor would start) reaps on its heartbeat timer.
    procs.append(helpers.start_worker("gpu", env=FAST_BEAT))
    status = await asyncio.to_thread(final_status, row, 60)
    final_s = time.monotonic() - killed_at
    print(f"fault: gpu worker SIGKILL mid-generation: final in {final_s:.1f} s ({status})")
    assert status == JobStatus.FAILED and "worker running this job went away" in row.error
    assert final_s < 30

    events = await helpers.events_until_final(alice_ws, timeout=10)
    final_event = [e for e in events if e["type"] == "job.status" and e["id"] == row.pk][-1]
    assert final_event["status"] == "failed" and "went away" in final_event["error"]

    nxt = await sync_to_async(generation_create)(user=user, params={"duration": 5})
    started = time.monotonic()
    assert await asyncio.to_thread(final_status, nxt, 60) == JobStatus.SUCCEEDED, nxt.error
    print(f"fault: gpu worker SIGKILL mid-generation: next job succeeded in {time.monotonic() - started:.1f} s")
    assert nxt.worker_name != dead_worker and nxt.audio
    assert not await sync_to_async(MusicGeneration.objects.filter(status__in=["queued", "running"]).exists)()
    await alice_ws.disconnect()


LONG_ANSWER = [
    "Let us slow everything down together for a little while and notice how the breath moves in and out.",
    " Imagine a quiet shore where small waves arrive one after another and leave again without any hurry.",
    " Your shoulders can soften a little more with every wave that you notice on that calm and patient shore.",
    " When a thought arrives you can let it float past like a small cloud over the water and the sand.",
    " There is nothing you need to solve right now, so you can simply rest here and listen for a moment.",
    " When you feel ready, we can choose some gentle music together and let it carry the rest of the evening.",
]


def test_gpu_worker_killed_mid_speech(user, fake_llm, procs, tmp_path):
    fake_llm.script = [
        {"tokens": LONG_ANSWER, "interval": 0.01},
        {"tokens": ["That sounds", " like a good plan."], "interval": 0.01},
    ]
    port = helpers.free_port()
    procs.append(helpers.start_daphne(port, tmp_path / "daphne.log", env={
        "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k", "VOICE_TTS_STALL_SECONDS": "2",
    }))
    worker_env = {**FAST_BEAT, "VOICE_TTS": "piper"}
    procs.append(helpers.start_worker("gpu", env=worker_env))
    assert wait_until(jobs.live_worker_names, 30)
    conversation = Conversation.objects.create(user=user)
    client = ChatClient(port, helpers.session_cookie(user), conversation.pk)
    killed = {}

    def kill_during_synthesis():
        """Kill the worker while its heartbeat names a sentence job it is running."""
        def busy():
            return any(ids for ids in jobs.live_workers().values())

        if wait_until(busy, 60, 0.01):
            killed["at"] = kill9(procs[1])
            killed["job_ids"] = [i for ids in jobs.live_workers().values() for i in ids]
            procs.append(helpers.start_worker("gpu", env=worker_env))

    async def scenario():
        await client.connect()
        killer = asyncio.create_task(asyncio.to_thread(kill_during_synthesis))
        first, audio1 = await client.turn("I cannot calm down tonight.", timeout=120)
        await killer
        ended_at = time.monotonic()
        second, audio2 = await client.turn("Yes, let us do that.", timeout=60)
        await client.close()
        return first, audio1, ended_at, second, audio2

    first, audio1, ended_at, second, audio2 = asyncio.run(scenario())
    assert "at" in killed, "the worker was never seen running a sentence"
    final_s = ended_at - killed["at"]
    errors = [e for e in first if e["type"] == "error"]
    print(f"fault: gpu worker SIGKILL mid-TTS: turn final in {final_s:.1f} s after the kill, "
          f"{len(errors)} sentence(s) reported lost, {audio1} audio bytes delivered")
    sentences = len(LONG_ANSWER)
    assert [e["seq"] for e in first if e["type"] == "tts.end"] == list(range(sentences))
    assert errors and all(e["code"] == "tts_failed" for e in errors)
    assert final_s < 20
    assert first[-1]["type"] == "turn.metrics"
    # The next turn, on the replacement worker, is whole.
    assert not [e for e in second if e["type"] == "error"], second
    assert [e["seq"] for e in second if e["type"] == "tts.end"] == [0] and audio2 > 0
    messages = list(conversation.messages.order_by("pk"))
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].text == "".join(LONG_ANSWER) and not messages[1].interrupted
    assert messages[1].telemetry["error"] == "speech synthesis was lost"
    assert messages[3].text == "That sounds like a good plan."
