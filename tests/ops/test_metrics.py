"""/metrics: Prometheus text with a bearer token."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emotion.models import EmotionReading
from emotune.logbook import event_record

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
    assert ("emotune_websocket_sessions", (("kind", "voice"),)) in values


@pytest.mark.django_db(transaction=True)
async def test_metrics_counts_open_websocket_sessions_by_kind(token, user, settings):
    """Every kind of socket counts, from its lease; a dead process's socket stops counting."""
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from emotune.sockets import SocketLease
    from tests.helpers import session_cookie, ws_client
    from voicechat.models import Conversation

    client = AsyncClient()

    async def sessions() -> dict:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        values = samples(response.content.decode())
        return {kind: values[("emotune_websocket_sessions", (("kind", kind),))] for kind in ("events", "voice")}

    before = await sessions()
    cookie = await sync_to_async(session_cookie)(user)
    events = ws_client("/ws/events/", cookie=cookie)
    assert (await events.connect())[0]
    conversation = await Conversation.objects.acreate(user=user)
    voice = ws_client(f"/ws/voicechat/{conversation.pk}/", cookie=cookie)
    assert (await voice.connect())[0]
    # a socket of a process that died: its lease was taken once, never renewed
    settings.SOCKET_LEASE_SECONDS = 3
    await sync_to_async(SocketLease("voice", user.pk, "dead-socket", limit=4).take)()
    assert await sessions() == {"events": before["events"] + 1, "voice": before["voice"] + 2}
    import asyncio

    await asyncio.sleep(3.2)
    # the live sockets' leases (taken for 60 s, renewed while they live) hold; the dead one's 3 s ran out
    assert await sessions() == {"events": before["events"] + 1, "voice": before["voice"] + 1}
    await events.disconnect()
    await voice.disconnect()
    assert await sessions() == before
