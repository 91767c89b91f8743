"""The job machinery through a real Redis queue, real rqworker processes and /ws/events/."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from asgiref.sync import sync_to_async

from emotion.models import EmotionReading
from emotune import jobs
from emotune.models import JobStatus
from ops.models import Event, SystemLog
from tests.helpers import (
    enqueue_test_job,
    events_until_final,
    run_worker_burst,
    session_cookie,
    start_worker,
    ws_client,
)

pytestmark = pytest.mark.django_db(transaction=True)

HANDLERS = "tests.emotune.handlers"








async def test_job_runs_on_real_worker_and_only_its_owner_hears(make_user):
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    alice_ws = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(alice))
    bob_ws = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(bob))
    assert (await alice_ws.connect())[0] and (await bob_ws.connect())[0]

    row = await sync_to_async(enqueue_test_job)(alice, "succeed")
    assert row.status == JobStatus.QUEUED
    worker = await asyncio.to_thread(run_worker_burst)
    assert worker.returncode == 0, worker.stderr

    events = await events_until_final(alice_ws)
    progress = [(e["progress"], e["note"]) for e in events if e["type"] == "job.progress"]
    assert progress == [(0.25, "loading"), (0.5, "working"), (0.75, "saving")]
    assert [e["status"] for e in events if e["type"] == "job.status"] == ["running", "succeeded"]
    assert all(e["id"] == row.pk and e["job"] == "emotion.read" for e in events)
    assert await bob_ws.receive_nothing(timeout=0.5)

    await sync_to_async(row.refresh_from_db)()
    assert row.status == JobStatus.SUCCEEDED and row.progress == 1.0 and row.progress_note == "done"
    assert row.worker_name and row.started_at and row.finished_at >= row.started_at
    assert await sync_to_async(SystemLog.objects.filter(action="emotion.read.run", status="success").exists)()
    assert await sync_to_async(Event.objects.filter(kind="job.finished", subject_id=row.pk).exists)()
    await alice_ws.disconnect()
    await bob_ws.disconnect()


@pytest.mark.parametrize(
    "handler,error",
    [("fail", "The engine could not read this file."), ("crash", "ValueError: unexpected value 42")],
)
def test_failing_job_ends_failed_with_readable_error(user, handler, error):
    row = enqueue_test_job(user, handler)
    worker = run_worker_burst()
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert row.error == error
    log = SystemLog.objects.get(action="emotion.read.run", detail__row=f"emotion.EmotionReading#{row.pk}")
    assert log.status == "failed" and log.message == error


def test_job_over_its_time_limit_fails(user, settings):
    settings.JOB_TIMEOUTS = {**settings.JOB_TIMEOUTS, "emotion.read": 2}
    row = enqueue_test_job(user, "hang")
    worker = run_worker_burst()  # the handler would hang for a minute
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert row.error == "Stopped: the job ran longer than its limit of 2 s."


def test_job_that_swallows_its_time_limit_alarm_still_stops(user, settings):
    settings.JOB_TIMEOUTS = {**settings.JOB_TIMEOUTS, "emotion.read": 2}
    row = enqueue_test_job(user, "swallow_alarm")
    started = time.monotonic()
    worker = run_worker_burst()
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert row.error == "Stopped: the job ran longer than its limit of 2 s."
    assert time.monotonic() - started < 30  # not the handler's full minute


def test_worker_killed_mid_job_is_reaped(user):
    row = enqueue_test_job(user, "hang")
    worker = start_worker(env={"WORKER_HEARTBEAT_SECONDS": "1"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.status == JobStatus.RUNNING:
                break
            time.sleep(0.2)
        assert row.status == JobStatus.RUNNING
        assert row.worker_name in jobs.live_worker_names()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # The worker's heartbeat key expires after three beats; then the reaper ends the row.
    deadline = time.monotonic() + 10
    while row.worker_name in jobs.live_worker_names() and time.monotonic() < deadline:
        time.sleep(0.5)
    result = jobs.jobs_reap()
    assert result.failed == 1
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert "worker running this job went away" in row.error
    assert not EmotionReading.objects.filter(status=JobStatus.RUNNING).exists()


def test_reaper_resends_a_queued_row_whose_queue_entry_was_lost(user):
    import django_rq

    row = enqueue_test_job(user, "succeed")
    django_rq.get_queue("gpu").empty()  # as if Redis restarted without persistence
    EmotionReading.objects.filter(pk=row.pk).update(created_at=row.created_at - jobs.timezone.timedelta(minutes=5))
    assert jobs.jobs_reap().resent == 1
    from rq.job import Job

    job = Job.fetch(row.job_id, connection=django_rq.get_connection("gpu"))
    assert job.args == ("emotion.EmotionReading", row.pk, EmotionReading.job_handler)
    assert job.get_status() == "queued" and job.timeout == 300
    assert jobs.jobs_reap().resent == 0  # present again: nothing to do


def test_cancel_queued_job_never_runs(user):
    row = enqueue_test_job(user, "succeed")
    assert jobs.job_cancel(row)
    assert run_worker_burst().returncode == 0
    row.refresh_from_db()
    assert row.status == JobStatus.CANCELLED and row.started_at is None


def test_requeue_failed_job(user):
    row = enqueue_test_job(user, "fail")
    run_worker_burst()
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    row.job_handler = f"{HANDLERS}.succeed"  # the cause was fixed
    assert jobs.job_requeue(row)
    run_worker_burst()
    row.refresh_from_db()
    assert row.status == JobStatus.SUCCEEDED and row.error == ""


def test_worker_whose_db_connection_is_killed_records_the_failure(user):
    row = enqueue_test_job(user, "lose_db_connection")
    worker = run_worker_burst()
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.FAILED
    assert row.error.startswith("OperationalError")
    assert row.progress_note == "connected"


def test_reaper_ends_a_row_its_live_worker_is_not_running(user):
    worker = start_worker(env={"WORKER_HEARTBEAT_SECONDS": "1"})
    try:
        deadline = time.monotonic() + 30
        while not jobs.live_worker_names() and time.monotonic() < deadline:
            time.sleep(0.2)
        (name,) = jobs.live_worker_names()
        row = EmotionReading.objects.create(
            user=user, source="image", media="readings/x.jpg", status=JobStatus.RUNNING, worker_name=name,
            job_id="lost-job", started_at=jobs.timezone.now() - jobs.timezone.timedelta(minutes=2),
        )
        fresh = EmotionReading.objects.create(
            user=user, source="image", media="readings/y.jpg", status=JobStatus.RUNNING, worker_name=name,
            job_id="just-started", started_at=jobs.timezone.now(),
        )
        jobs.jobs_reap()
        row.refresh_from_db()
        fresh.refresh_from_db()
        assert row.status == JobStatus.FAILED and "without recording its outcome" in row.error
        assert fresh.status == JobStatus.RUNNING  # within the grace period
    finally:
        worker.terminate()
        worker.wait(10)


def test_a_failed_reap_closes_its_database_connection(monkeypatch):
    """The heartbeat thread's reaper must not keep a connection a failed run may have broken."""
    import threading

    from django.db import DatabaseError, connection

    from emotune import worker

    def broken_reap(**kwargs):
        connection.ensure_connection()  # the run had opened its connection, then failed
        raise DatabaseError("server has gone away")

    monkeypatch.setattr(worker, "jobs_reap", broken_reap)
    seen = {}

    def beat():
        worker.reap_once()
        seen["open"] = connection.connection is not None

    thread = threading.Thread(target=beat)
    thread.start()
    thread.join()
    assert seen == {"open": False}
