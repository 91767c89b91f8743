"""Generations through a real rq worker process and /ws/events/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import soundfile as sf
from asgiref.sync import sync_to_async
from django.test import Client

from emotune.models import JobStatus
from music.services import generation_create
from ops.models import Event
from tests.helpers import events_until_final, run_worker_burst, session_cookie, ws_client

pytestmark = pytest.mark.django_db(transaction=True)





async def test_generation_runs_on_worker_with_ordered_progress(make_user):
    user = await sync_to_async(make_user)("alice")
    ws = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    assert (await ws.connect())[0]
    row = await sync_to_async(generation_create)(
        user=user, emotion="sad", description="soft piano by the sea",
        params={"engine": "offline", "duration": 6, "seed": 5, "video": True},
    )
    worker = await asyncio.to_thread(run_worker_burst, "gpu")
    assert worker.returncode == 0, worker.stderr
    events = await events_until_final(ws, timeout=60)
    await ws.disconnect()

    assert all(e["job"] == "music.generate" and e["id"] == row.pk for e in events)
    assert [e["status"] for e in events if e["type"] == "job.status"] == ["running", "succeeded"]
    progress = [e for e in events if e["type"] == "job.progress"]
    fractions = [e["progress"] for e in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    notes = [e["note"] for e in progress]
    for earlier, later in [("writing the brief", "brief ready (template)"), ("brief ready (template)", "rendering bars"),
                           ("rendering bars", "writing files"), ("writing files", "done")]:
        assert notes.index(earlier) < notes.index(later)

    await sync_to_async(row.refresh_from_db)()
    assert row.status == JobStatus.SUCCEEDED and row.prompt_path == "template" and row.engine == "offline"
    assert row.duration == 6.0 and row.channels == 2 and row.sample_rate == 32000
    for field in (row.audio, row.audio_preview, row.video):
        assert Path(field.path).stat().st_size > 1000
    info = sf.info(row.audio.path)
    assert abs(info.duration - 6.0) < 0.01 and info.channels == 2
    assert len(row.peaks) == 600 and 0 < row.score <= 1
    assert set(row.score_parts) >= {"length", "tempo", "dynamics", "clipping", "silence", "style"}
    event = await sync_to_async(Event.objects.get)(kind="music.rule_score", subject_id=row.pk)
    assert event.data["score"] == row.score


def test_failing_engine_ends_failed_and_page_shows_error(user):
    # the audiocraft engine on a server without audiocraft fails inside the job with a readable error
    row = generation_create(user=user, description="anything", params={"engine": "audiocraft", "duration": 5})
    worker = run_worker_burst("gpu")
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert "needs audiocraft, which is not installed" in row.error
    client = Client()
    client.force_login(user)
    page = client.get(f"/music/{row.pk}/").content.decode()
    assert "needs audiocraft, which is not installed" in page
    state = client.get(f"/music/{row.pk}/status/").json()
    assert state["status"] == "failed" and "needs audiocraft" in state["error"]
