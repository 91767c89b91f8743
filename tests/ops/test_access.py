"""Staff, non-staff and anonymous on every admin and ops URL: nothing leaks to non-staff."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from emotion.models import EmotionReading
from emotune.logbook import log_write
from music.models import Feedback, MusicGeneration
from voicechat.models import Conversation, Message, Speaker

pytestmark = pytest.mark.django_db

SECRET = "leak-canary-心情"


@pytest.fixture
def rows(user):
    """One row of every admin model, each carrying text that must never reach a non-staff page."""
    reading = EmotionReading.objects.create(user=user, source="image", media="readings/x.jpg", error=SECRET)
    generation = MusicGeneration.objects.create(user=user, reading=reading, description=SECRET)
    Feedback.objects.create(generation=generation, user=user, comment=SECRET)
    conversation = Conversation.objects.create(user=user, title=SECRET)
    Message.objects.create(conversation=conversation, role="user", text=SECRET)
    Speaker.objects.create(user=user, name=SECRET, reference="speakers/x.wav", transcript=SECRET)
    log_write(action="test.secret", user_id=user.pk, message=SECRET)
    from emotune.logbook import event_record

    event_record(kind="job.finished", user_id=user.pk, subject=generation, data={"job": SECRET})
    return user


def admin_urls() -> list[str]:
    urls = [reverse("admin:index"), reverse("ops:dashboard"), reverse("ops:dashboard_json"), reverse("django_rq:home"),
            reverse("django_rq:jobs", args=[0]), reverse("django_rq:failed_jobs", args=[0]), reverse("django_rq:workers", args=[0])]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if not opts.managed:  # django-rq's stand-in model for its own pages
            continue
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return urls


def test_staff_sees_every_admin_and_ops_page(client, staff_user, rows):
    client.force_login(staff_user)
    urls = admin_urls()
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("admin:ops_systemlog_changelist")).content.decode()
    assert SECRET in page


@pytest.mark.parametrize("who", ["anonymous", "signed-in user"])
def test_non_staff_get_nothing(client, rows, who):
    if who != "anonymous":
        client.force_login(rows)  # alice, the owner of every row, but not staff
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url
        assert SECRET not in response.content.decode(), url
        assert b"leak-canary" not in response.content, url
    assert client.get("/metrics").status_code == 404  # no token configured


def test_every_model_is_registered():
    from django.apps import apps

    ours = [m for m in apps.get_models() if m._meta.app_label in {"accounts", "emotion", "music", "voicechat", "ops"}]
    assert ours and all(m in admin.site._registry for m in ours)
