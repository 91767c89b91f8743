"""The dashboard and /readyz against a real Redis, a real rqworker and real failed jobs."""

from __future__ import annotations

import signal
import time

import pytest
from django.urls import reverse

from emotion.models import EmotionReading
from emotune.models import JobStatus
from tests.helpers import enqueue_test_job, start_worker

pytestmark = pytest.mark.django_db(transaction=True)






def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def clean_slate():
    """Other suites leave events, rows and RQ entries behind (threads commit outside their tests)."""
    import django_rq

    from ops.models import Event

    Event.objects.all().delete()
    EmotionReading.objects.all().delete()
    for name in ("gpu", "default"):
        queue = django_rq.get_queue(name)
        queue.empty()
        for job_id in queue.failed_job_registry.get_job_ids():
            queue.failed_job_registry.remove(job_id, delete_job=True)


@pytest.fixture
def worker(clean_slate):
    process = start_worker("gpu", "default", env={"WORKER_HEARTBEAT_SECONDS": "1"})
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_dashboard_shows_real_worker_and_real_failed_job(client, staff_user, user, worker):
    client.force_login(staff_user)

    data = _wait(lambda: (d := client.get(reverse("ops:dashboard_json")).json())["workers"] and d)
    [beat] = data["workers"]
    assert beat["pid"] == worker.pid and set(beat["queues"]) == {"gpu", "default"}
    assert beat["age_s"] < 5 and beat["current_job"] is None

    failed = enqueue_test_job(user, "crash")
    done = enqueue_test_job(user, "succeed")
    for row in (failed, done):
        _wait(lambda row=row: EmotionReading.objects.get(pk=row.pk).status in (JobStatus.FAILED, JobStatus.SUCCEEDED))
    assert EmotionReading.objects.get(pk=failed.pk).status == JobStatus.FAILED

    data = client.get(reverse("ops:dashboard_json")).json()
    [stats] = [s for s in data["stats"]["hour"] if s["job"] == "emotion.read"]
    assert (stats["succeeded"], stats["failed"]) == (1, 1)
    assert stats["p50_s"] is not None and stats["p50_s"] == stats["p95_s"]  # one success: both are its time
    assert [s["job"] for s in data["stats"]["day"]] == ["emotion.read"]
    [failure] = data["failures"]
    assert failure["id"] == failed.pk and failure["error"] == "ValueError: unexpected value 42"
    assert failure["worker"] == beat["name"]
    gpu_queue = next(q for q in data["queues"] if q["name"] == "gpu")
    assert gpu_queue["failed"] == 1 and gpu_queue["depth"] == 0

    page = client.get(reverse("ops:dashboard")).content.decode()
    assert beat["name"] in page and "ValueError: unexpected value 42" in page
    assert reverse("django_rq:home") in page

    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"]["worker:gpu"] == {"ok": True}

    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=20)
    gone = client.get("/readyz")
    assert gone.status_code == 503
    body = gone.json()
    assert body["status"] == "not ready" and body["checks"]["worker:gpu"] == {"ok": False}
    assert body["checks"]["redis"] == {"ok": True} and body["checks"]["database"] == {"ok": True}
    assert client.get(reverse("ops:dashboard_json")).json()["workers"] == []


def test_queue_depth_and_oldest_waiting_job(client, staff_user, user, clean_slate):
    client.force_login(staff_user)
    row = enqueue_test_job(user, "succeed")
    data = client.get(reverse("ops:dashboard_json")).json()
    gpu_queue = next(q for q in data["queues"] if q["name"] == "gpu")
    assert gpu_queue["depth"] == 1
    assert gpu_queue["oldest"]["id"] == row.job_id and gpu_queue["oldest"]["waiting_s"] >= 0
    import django_rq

    django_rq.get_queue("gpu").empty()


def test_readyz_reports_stopped_redis(client, settings):
    closed = "redis://127.0.0.1:1/0"  # nothing listens on port 1: Redis is "stopped" for this process only
    settings.RQ_QUEUES = {name: {**conf, "URL": closed} for name, conf in settings.RQ_QUEUES.items()}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["worker:gpu"] == {"ok": False}
    assert "127.0.0.1" not in response.content.decode() and "emotune" not in response.content.decode()


def test_dashboard_still_answers_when_redis_is_stopped(client, staff_user, settings):
    settings.RQ_QUEUES = {name: {**conf, "URL": "redis://127.0.0.1:1/0"} for name, conf in settings.RQ_QUEUES.items()}
    client.force_login(staff_user)
    data = client.get(reverse("ops:dashboard_json")).json()
    assert data["errors"] == {"queues": "ConnectionError", "workers": "ConnectionError"}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_dashboard_says_when_no_job_finished_and_speaks_the_readers_language(client, staff_user):
    client.force_login(staff_user)
    page = client.get(reverse("ops:dashboard")).content.decode()
    assert "No jobs finished today." in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("ops:dashboard")).content.decode()
    # Both the first render and the strings the refresh script writes are translated.
    assert page.count("今天还没有完成的任务。") == 2  # the table's empty row and the script's string
    assert '"paused": "自动刷新已暂停"' in page
