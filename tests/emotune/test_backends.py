"""The two jobs backends keep one contract: calls run where the queue's jobs run, marks expire,
queue entries can be dropped and found lost, workers are known by their heartbeats."""

from __future__ import annotations

import json
import os
import time

import pytest

from emotune.backends import HEARTBEAT_KEY, INPROCESS_WORKER, InProcessBackend, RQBackend, backend, redis_client
from tests.helpers import run_worker_burst, wait_until


@pytest.fixture(params=["inprocess", "rq"])
def each_backend(request, settings):
    settings.JOBS_BACKEND = request.param
    return backend()


def test_the_setting_picks_one_instance_per_backend(settings):
    settings.JOBS_BACKEND = "rq"
    assert isinstance(backend(), RQBackend) and backend() is backend()
    settings.JOBS_BACKEND = "inprocess"
    assert isinstance(backend(), InProcessBackend) and backend().in_process


def test_marks_are_seen_until_they_run_out(each_backend):
    key = f"emotune:test:mark:{each_backend.name}:{time.time_ns()}"
    assert not each_backend.marked(key)
    each_backend.mark(key, 1)
    assert each_backend.marked(key)
    assert wait_until(lambda: not each_backend.marked(key), 5)


def test_a_call_runs_where_the_queue_runs(each_backend, tmp_path):
    target = tmp_path / "ran"
    job_id = each_backend.call("default", "tests.emotune.handlers.touch", timeout=30, path=str(target))
    if each_backend.in_process:
        assert job_id is None
        assert wait_until(target.exists, 10)
        assert target.read_text() == str(os.getpid())
        return
    assert each_backend.call_state(job_id) == "no live worker"  # queued, and nobody to take it yet
    assert not each_backend.lost(job_id, "default")
    assert run_worker_burst("default").returncode == 0
    assert target.read_text() != str(os.getpid())  # a worker process ran it
    assert each_backend.call_state(job_id) == "finished"


def test_a_dropped_entry_never_runs(settings, tmp_path):
    settings.JOBS_BACKEND = "rq"
    target = tmp_path / "ran"
    job_id = backend().call("default", "tests.emotune.handlers.touch", timeout=30, path=str(target))
    backend().drop(job_id, "default")
    assert run_worker_burst("default").returncode == 0
    assert not target.exists()
    assert backend().call_state(job_id) == "canceled"
    assert backend().lost("no-such-job", "default")
    assert backend().call_state("no-such-job") == "missing"


def test_workers_are_known_by_their_heartbeats(settings):
    settings.JOBS_BACKEND = "rq"
    client = redis_client()
    key = HEARTBEAT_KEY.format(name="test-worker")
    client.set(key, json.dumps({"name": "test-worker", "current_job_id": "j1", "queues": ["gpu"], "at": time.time(),
                                "gpu": {"used": 1, "total": 4}}), ex=30)
    try:
        assert backend().live_workers()["test-worker"] == {"j1"}
        beat = next(b for b in backend().worker_beats() if b["name"] == "test-worker")
        assert beat["queues"] == ["gpu"] and beat["gpu_percent"] == 25.0 and beat["age_s"] < 5
    finally:
        client.delete(key)
    assert "test-worker" not in backend().live_workers()
    settings.JOBS_BACKEND = "inprocess"
    assert backend().live_workers() == {INPROCESS_WORKER: set()}
    assert backend().worker_beats() == [] and backend().queue_stats() == []
