"""/metrics: Prometheus text with a bearer token."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emotion.models import EmotionReading
from ops.services import event_record

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_needs_the_token(client, token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403


def test_metrics_reports_jobs_queues_and_durations(client, token, user):
    row = EmotionReading.objects.create(user=user, source="image", media="readings/x.jpg")
    for seconds in (1.0, 2.0, 3.0, 4.0):
        event_record(kind="job.finished", subject=row, data={"job": "emotion.read", "outcome": "succeeded",
                                                             "seconds": seconds, "queue": "gpu"})
    event_record(kind="job.finished", subject=row, data={"job": "emotion.read", "outcome": "failed",
                                                         "seconds": 0.1, "queue": "gpu"})
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    values = samples(response.content.decode())
    assert values[("emotune_jobs_finished_24h", (("job", "emotion.read"), ("outcome", "succeeded")))] == 4
    assert values[("emotune_jobs_finished_24h", (("job", "emotion.read"), ("outcome", "failed")))] == 1
    assert values[("emotune_job_duration_p50_seconds", (("job", "emotion.read"),))] == 2.0
    assert values[("emotune_job_duration_p95_seconds", (("job", "emotion.read"),))] == 4.0
    assert values[("emotune_queue_depth", (("queue", "gpu"),))] == 0
    assert values[("emotune_workers_alive", (("queue", "default"),))] == 0
    assert values[("emotune_redis_up", ())] == 1
    assert ("emotune_websocket_sessions", ()) in values


@pytest.mark.django_db(transaction=True)
async def test_metrics_counts_open_websocket_sessions(token, user):
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from tests.helpers import session_cookie, ws_client

    client = AsyncClient()

    async def sessions() -> float:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        return samples(response.content.decode())[("emotune_websocket_sessions", ())]

    before = await sessions()
    socket = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    assert (await socket.connect())[0]
    assert await sessions() == before + 1
    await socket.disconnect()
    assert await sessions() == before
