"""A real reading through a real `rqworker --burst`, with progress on /ws/events/."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from emotion.models import EmotionReading
from emotion.services import reading_create
from emotune.models import JobStatus
from tests.emotion.media import astronaut_rgb, jpeg_bytes, video_write
from tests.helpers import events_until_final, run_worker_burst, session_cookie, ws_client

pytestmark = pytest.mark.django_db(transaction=True)





async def test_photo_and_video_readings_run_on_the_worker(make_user, tmp_path):
    alice = await sync_to_async(make_user)("alice")
    ws = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(alice))
    assert (await ws.connect())[0]
    photo = SimpleUploadedFile("me.jpg", jpeg_bytes(astronaut_rgb()))
    clip = SimpleUploadedFile("clip.mp4", video_write(tmp_path / "clip.mp4", "FF.F", fps=10).read_bytes())
    first = await sync_to_async(reading_create)(user=alice, upload=photo)
    second = await sync_to_async(reading_create)(user=alice, upload=clip)
    try:
        # Listen while the worker runs: events wait in Redis only for the channel layer's expiry.
        worker_run = asyncio.ensure_future(asyncio.to_thread(
            run_worker_burst, "gpu", env={"EMOTION_SAMPLE_FPS": "2", "EMOTION_CLASSIFIER": "pyemotion"}))
        events = await events_until_final(ws, timeout=150)
        events += await events_until_final(ws, timeout=60)
        worker = await worker_run
        assert worker.returncode == 0, worker.stderr + worker.stdout
        await ws.disconnect()

        for row in (first, second):
            await sync_to_async(row.refresh_from_db)()
            assert row.status == JobStatus.SUCCEEDED, row.error
            assert row.emotion == "happy" and row.face_found and row.engine == "pyemotion"
        assert second.frames_analysed == 8 and second.frames_without_face == 2 and len(second.timeline) == 3
        video_progress = [e for e in events if e["type"] == "job.progress" and e["id"] == second.pk]
        assert any(e["note"] == "analysing frames" and 0 < e["progress"] < 1 for e in video_progress)
        finals = [(e["id"], e["status"]) for e in events if e["type"] == "job.status" and e["status"] != "running"]
        assert finals == [(first.pk, "succeeded"), (second.pk, "succeeded")]
    finally:
        for row in await sync_to_async(list)(EmotionReading.objects.all()):
            row.media.delete(save=False)
