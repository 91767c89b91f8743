"""Admin actions call the job and account services and leave a SystemLog line."""

from __future__ import annotations

import django_rq
import pytest
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.test import Client

from emotion.models import EmotionReading
from emotune.models import JobStatus
from music.models import Journey, MusicGeneration
from ops.models import SystemLog
from tests.helpers import session_cookie, ws_client
from voicechat.models import Conversation, Speaker

pytestmark = pytest.mark.django_db(transaction=True)


def act(client, model: str, action: str, pks) -> None:
    response = client.post(f"/admin/{model}/", {"action": action, "_selected_action": [str(pk) for pk in pks]},
                           follow=True)
    assert response.status_code == 200
    return response


def reading(user, status, **fields):
    return EmotionReading.objects.create(user=user, source="image", media="readings/a.jpg", status=status, **fields)


def test_requeue_failed_job_puts_it_back_on_its_queue(client, staff_user, user):
    client.force_login(staff_user)
    failed = reading(user, JobStatus.FAILED, error="boom")
    succeeded = reading(user, JobStatus.SUCCEEDED)
    queue = django_rq.get_queue("gpu")
    queue.empty()
    response = act(client, "emotion/emotionreading", "requeue_jobs", [failed.pk, succeeded.pk])
    assert "1 job(s) requeued." in response.content.decode()
    failed.refresh_from_db()
    succeeded.refresh_from_db()
    assert failed.status == JobStatus.QUEUED and failed.error == "" and succeeded.status == JobStatus.SUCCEEDED
    assert queue.get_job_ids() == [failed.job_id]
    log = SystemLog.objects.get(action="admin.requeue")
    assert log.user_id == staff_user.pk and log.detail["ids"] == [failed.pk] and log.ip == "127.0.0.1"
    queue.empty()


def test_cancel_queued_and_mark_stuck_failed(client, staff_user, user):
    client.force_login(staff_user)
    queued = MusicGeneration.objects.create(user=user)
    stuck = MusicGeneration.objects.create(user=user, status=JobStatus.RUNNING, worker_name="w1")
    act(client, "music/musicgeneration", "cancel_jobs", [queued.pk])
    act(client, "music/musicgeneration", "mark_stuck_failed", [stuck.pk, queued.pk])
    queued.refresh_from_db()
    stuck.refresh_from_db()
    assert queued.status == JobStatus.CANCELLED  # already ended: marking it failed left it alone
    assert stuck.status == JobStatus.FAILED and "stuck" in stuck.error
    assert SystemLog.objects.filter(action="admin.cancel", user=staff_user).count() == 1
    assert SystemLog.objects.get(action="admin.mark_failed").detail["ids"] == [stuck.pk]


async def test_deactivate_user_closes_their_sockets(staff_user, user):
    socket = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    connected, _ = await socket.connect()
    assert connected

    def deactivate():
        client = Client()
        client.force_login(staff_user)
        act(client, "accounts/user", "deactivate_users", [user.pk, staff_user.pk])

    await sync_to_async(deactivate)()
    output = await socket.receive_output(timeout=3)
    assert output["type"] == "websocket.close" and output["code"] == 4403
    await sync_to_async(user.refresh_from_db)()
    await sync_to_async(staff_user.refresh_from_db)()
    assert not user.is_active and staff_user.is_active
    assert await sync_to_async(SystemLog.objects.filter(action="admin.deactivate", message=user.username).exists)()


def test_purge_user_media_deletes_rows_and_files(client, staff_user, user, other_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine = EmotionReading(user=user, source="image", status=JobStatus.SUCCEEDED)
    mine.media.save("a.jpg", ContentFile(b"jpg"), save=True)
    song = MusicGeneration(user=user, status=JobStatus.SUCCEEDED)
    song.audio.save("a.wav", ContentFile(b"wav"), save=True)
    journey = Journey(user=user, status=JobStatus.SUCCEEDED, start_emotion="sad", target="calm")
    journey.audio.save("j.wav", ContentFile(b"wav"), save=True)
    voice = Speaker(user=user, name="me", transcript="hello")
    voice.reference.save("me.wav", ContentFile(b"ref"), save=True)
    theirs = EmotionReading(user=other_user, source="image", status=JobStatus.SUCCEEDED)
    theirs.media.save("b.jpg", ContentFile(b"jpg"), save=True)
    user.preferences.active_speaker = voice
    user.preferences.save()

    client.force_login(staff_user)
    response = act(client, "accounts/user", "purge_user_media", [user.pk])
    assert "Deleted 4 row(s) and 4 file(s)." in response.content.decode()
    assert not EmotionReading.objects.filter(user=user).exists()
    assert not MusicGeneration.objects.filter(user=user).exists() and not Speaker.objects.filter(user=user).exists()
    assert not Journey.objects.filter(user=user).exists()
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [theirs.media.name.rsplit("/", 1)[-1]]
    log = SystemLog.objects.get(action="admin.purge_media")
    assert log.detail["rows"] == 4 and log.detail["target_user"] == user.pk and log.user_id == staff_user.pk


def test_admin_edits_and_deletes_are_logged(client, staff_user, user):
    client.force_login(staff_user)
    conversation = Conversation.objects.create(user=user, title="old title")
    response = client.post(f"/admin/voicechat/conversation/{conversation.pk}/change/", {
        "user": user.pk, "title": "新的标题",
        "messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "0", "messages-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    change = SystemLog.objects.get(action="admin.change")
    assert change.user_id == staff_user.pk and change.detail["ids"] == [conversation.pk]
    assert change.detail["changes"] == [{"changed": {"fields": ["Title"]}}]
    response = client.post("/admin/voicechat/conversation/", {
        "action": "delete_selected", "_selected_action": [str(conversation.pk)], "post": "yes"})
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    delete = SystemLog.objects.get(action="admin.delete")
    assert delete.detail == {"model": "voicechat.Conversation", "ids": [conversation.pk]}


async def test_mark_stuck_failed_ends_the_job_the_normal_way(staff_user, user):
    """Staff's "mark stuck failed" tells the owner's page and records the job's end like any failure."""
    from ops.models import Event

    socket = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    connected, _ = await socket.connect()
    assert connected
    stuck = await MusicGeneration.objects.acreate(user=user, status=JobStatus.RUNNING, worker_name="w1")

    def mark():
        client = Client()
        client.force_login(staff_user)
        act(client, "music/musicgeneration", "mark_stuck_failed", [stuck.pk])

    await sync_to_async(mark)()
    message = await socket.receive_json_from(timeout=3)
    assert message["type"] == "job.status" and message["id"] == stuck.pk and message["status"] == "failed"
    assert "stuck" in message["error"]
    event = await Event.objects.aget(kind="job.finished", subject_id=stuck.pk)
    assert event.data["outcome"] == "failed" and event.user_id == user.pk
    await socket.disconnect()
