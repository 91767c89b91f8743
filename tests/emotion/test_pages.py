"""Emotion pages, history filters, warm-up, and the detect_emotion command."""

from __future__ import annotations

import json
import re
from io import StringIO
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from emotion.models import EmotionReading
from tests.emotion.media import astronaut_rgb, jpeg_bytes, no_face_rgb, video_write

pytestmark = pytest.mark.django_db


def _links(html: str) -> int:
    return len(re.findall(r'href="/emotion/\d+/"', html))


def _reading(user, **fields):
    defaults = {"source": "image", "media": "readings/x.jpg", "status": "succeeded"}
    return EmotionReading.objects.create(user=user, **{**defaults, **fields})


def test_page_offers_upload_and_webcam(alice_client):
    html = alice_client.get("/emotion/").content.decode()
    assert 'id="tab-upload"' in html and 'id="tab-webcam"' in html and "emotion/capture.js" in html
    assert 'action="/emotion/warmup/"' in html


def test_upload_redirects_to_the_reading(alice_client, user, media_root):
    with mock.patch("emotion.services.job_enqueue"):
        response = alice_client.post("/emotion/", {"media": SimpleUploadedFile("me.jpg", jpeg_bytes(astronaut_rgb())),
                                                   "webcam": "on"})
    reading = EmotionReading.objects.get(user=user)
    assert response.status_code == 302 and response.url == f"/emotion/{reading.pk}/"
    assert reading.source == "webcam"
    html = alice_client.get(response.url).content.decode()
    assert 'id="bar"' in html and "emotion/reading.js" in html  # still queued: progress bar


def test_result_page_shows_emotion_bars_box_and_music_link(alice_client, user):
    scores = {"angry": 0.01, "disgust": 0.0, "fear": 0.01, "happy": 0.9, "sad": 0.02, "surprise": 0.05, "neutral": 0.01}
    r = _reading(user, emotion="happy", confidence=0.9, face_found=True, scores=scores,
                 face_box={"x": 176, "y": 64, "w": 97, "h": 97, "image_w": 512, "image_h": 512})
    html = alice_client.get(f"/emotion/{r.pk}/").content.decode()
    assert 'id="verdict"' in html and "Happy" in html
    assert html.count('class="fill emo-bg-') == 7
    assert "left:34.375%;top:12.5%" in html
    assert f'href="/music/?reading={r.pk}&amp;emotion=happy"' in html


def test_video_result_shows_timeline(alice_client, user):
    timeline = [{"start": 0, "end": 2.0, "emotion": "happy", "frames": 4, "confidence": 0.9, "face": True},
                {"start": 2.0, "end": 4.0, "emotion": "", "frames": 4, "confidence": None, "face": False}]
    r = _reading(user, source="video", emotion="happy", confidence=0.9, face_found=True,
                 scores={"happy": 0.9}, timeline=timeline, media_seconds=4.0, frames_analysed=8,
                 frames_without_face=4)
    html = alice_client.get(f"/emotion/{r.pk}/").content.decode()
    assert 'class="seg emo-bg-happy" style="width:50.0%"' in html
    assert 'class="seg noface" style="width:50.0%"' in html
    assert "8 frames analysed over 4.0 s, 4 without a face" in html


def test_no_face_is_its_own_state_with_advice(alice_client, user):
    no_face = _reading(user, face_found=False)
    html = alice_client.get(f"/emotion/{no_face.pk}/").content.decode()
    assert 'id="noface"' in html and "No face found" in html
    for advice in ("Light", "Angle", "Distance", "an arm's length"):
        assert advice in html.replace("&#x27;", "'"), advice
    assert "make-music" not in html and 'id="correct"' not in html
    assert alice_client.post(f"/emotion/{no_face.pk}/correct/", {"emotion": "sad"}, follow=True).status_code == 200
    no_face.refresh_from_db()
    assert no_face.corrected_emotion == ""  # nothing to correct without a face


SCORES = {"angry": 0.05, "disgust": 0.02, "fear": 0.04, "happy": 0.1, "sad": 0.38, "surprise": 0.1, "neutral": 0.31}


def test_an_uncertain_reading_offers_its_two_likeliest_and_music_from_the_one_chosen(alice_client, user):
    from ops.models import Event

    unsure = _reading(user, face_found=True, uncertain=True, confidence=0.38, scores=SCORES)
    html = alice_client.get(f"/emotion/{unsure.pk}/").content.decode()
    likeliest = re.search(r'<p id="likeliest">(.*?)</p>', html, re.S)[1]
    assert re.sub(r"<[^>]+>|\s+", " ", likeliest).split() == ["Likeliest:", "Sad", "38", "%", "·", "Neutral", "31", "%"]
    assert "Which is right?" in html and 'value="sad"' in html and 'value="neutral"' in html
    assert "make-music" not in html  # nothing to make music from until the person says
    page = alice_client.post(f"/emotion/{unsure.pk}/correct/", {"emotion": "neutral"}, follow=True).content.decode()
    unsure.refresh_from_db()
    assert unsure.corrected_emotion == "neutral" and unsure.corrected_at is not None and unsure.felt == "neutral"
    assert "You said you feel <strong>Neutral</strong>." in page
    assert f'href="/music/?reading={unsure.pk}&amp;emotion=neutral"' in page
    event = Event.objects.get(kind="emotion.corrected")
    assert event.data == {"read": "", "uncertain": True, "said": "neutral"}  # no photo, no words


def test_a_confident_reading_can_be_corrected_in_the_persons_own_word(alice_client, user):
    sure = _reading(user, face_found=True, emotion="sad", confidence=0.7, scores={**SCORES, "sad": 0.7})
    html = alice_client.get(f"/emotion/{sure.pk}/").content.decode()
    assert f'href="/music/?reading={sure.pk}&amp;emotion=sad"' in html and '<select id="own-emotion"' in html
    alice_client.post(f"/emotion/{sure.pk}/correct/", {"emotion": "fear"})
    sure.refresh_from_db()
    assert (sure.emotion, sure.corrected_emotion, sure.felt) == ("sad", "fear", "fear")  # what was read is kept
    refused = alice_client.post(f"/emotion/{sure.pk}/correct/", {"emotion": "bored"}, follow=True).content.decode()
    assert "Choose one of" in refused
    sure.refresh_from_db()
    assert sure.corrected_emotion == "fear"


def test_someone_elses_reading_cannot_be_corrected(client, user, other_user):
    theirs = _reading(user, face_found=True, emotion="happy", scores=SCORES)
    client.force_login(other_user)
    assert client.post(f"/emotion/{theirs.pk}/correct/", {"emotion": "sad"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.corrected_emotion == ""


def test_the_page_says_how_long_the_reading_took(alice_client, user):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    r = _reading(user, face_found=True, emotion="happy", scores=SCORES, started_at=now - timedelta(seconds=1.4),
                 finished_at=now)
    assert "Read in 1.4 s" in alice_client.get(f"/emotion/{r.pk}/").content.decode()


def test_corrections_are_counted_in_the_ops_panel(client, user, staff_user):
    from emotion.services import reading_correct
    from ops.selectors import reading_corrections

    agree = _reading(user, face_found=True, emotion="sad", scores=SCORES)
    differ = _reading(user, face_found=True, emotion="happy", scores=SCORES)
    reading_correct(reading=agree, emotion="sad")
    reading_correct(reading=differ, emotion="angry")
    counts = reading_corrections()
    assert (counts["day"], counts["all"], counts["agreed"]) == (2, 2, 1)
    client.force_login(staff_user)
    page = client.get("/admin/ops/").content.decode()
    assert "2 in the last day, 2 in all (1 agreed with the reading)." in page
    listed = client.get(counts["admin_url"])
    assert listed.status_code == 200 and f"/admin/emotion/emotionreading/{differ.pk}/change/" in listed.content.decode()


def test_other_users_reading_is_404(client, user, other_user):
    r = _reading(user)
    client.force_login(other_user)
    assert client.get(f"/emotion/{r.pk}/").status_code == 404


def test_history_filters_and_pages(alice_client, user, other_user):
    for i in range(23):
        _reading(user, emotion="happy" if i % 2 else "sad", source="video" if i % 3 == 0 else "image")
    _reading(other_user, emotion="happy")
    page1 = alice_client.get("/emotion/history/").content.decode()
    assert _links(page1) == 20 and "Page 1 of 2" in page1
    page2 = alice_client.get("/emotion/history/?page=2").content.decode()
    assert _links(page2) == 3
    happy = alice_client.get("/emotion/history/?emotion=happy").content.decode()
    assert _links(happy) == 11 and "Sad</span>" not in happy
    both = alice_client.get("/emotion/history/?emotion=sad&source=video").content.decode()
    assert _links(both) == len([i for i in range(23) if i % 2 == 0 and i % 3 == 0])


def test_warmup_enqueues_on_the_gpu_queue(alice_client, django_capture_on_commit_callbacks):
    import django_rq

    queue = django_rq.get_queue("gpu")
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues after commit
        response = alice_client.post("/emotion/warmup/")
    assert response.status_code == 302
    jobs = queue.get_jobs()
    assert [j.func_name for j in jobs] == ["emotion.jobs.engines_warmup_run"]
    queue.empty()


def test_detect_emotion_command(tmp_path, settings):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(jpeg_bytes(astronaut_rgb()))
    out = StringIO()
    call_command("detect_emotion", str(photo), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["emotion"] == "happy" and result["kind"] == "image" and len(result["scores"]) == 7
    text = StringIO()
    call_command("detect_emotion", str(photo), stdout=text)
    assert "happy (confidence" in text.getvalue()

    settings.EMOTION_SAMPLE_FPS = 2
    clip = video_write(tmp_path / "clip.mp4", "F.")
    result = json.loads(_run(clip, "--json"))
    assert result["kind"] == "video" and result["frames_without_face"] == 2 and result["timeline"]

    empty = tmp_path / "coffee.jpg"
    empty.write_bytes(jpeg_bytes(no_face_rgb()))
    assert "no face found" in _run(empty)
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    with pytest.raises(CommandError, match="neither a photo"):
        _run(bad)


def _run(path, *args) -> str:
    out = StringIO()
    call_command("detect_emotion", str(path), *args, stdout=out)
    return out.getvalue()


def test_music_from_a_corrected_reading_is_made_from_the_persons_word(user, django_capture_on_commit_callbacks):
    from emotion.services import reading_correct
    from music.forms import StudioForm
    from music.services import generation_create

    unsure = _reading(user, face_found=True, uncertain=True, confidence=0.38, scores=SCORES)
    assert unsure not in StudioForm(user=user).fields["reading"].queryset  # nothing to start from yet
    reading_correct(reading=unsure, emotion="sad")
    assert unsure in StudioForm(user=user).fields["reading"].queryset
    with django_capture_on_commit_callbacks():
        row = generation_create(user=user, params={}, reading=unsure)
    assert row.emotion == "sad" and row.reading_id == unsure.pk


def test_the_dashboard_tells_no_face_uncertain_and_the_persons_word_apart(alice_client, user):
    from emotion.services import reading_correct

    no_face = _reading(user, face_found=False)
    unsure = _reading(user, face_found=True, uncertain=True, scores=SCORES)
    said = _reading(user, face_found=True, uncertain=True, scores=SCORES)
    reading_correct(reading=said, emotion="sad")
    home = alice_client.get("/").content.decode()
    items = {int(m[1]): " ".join(re.sub(r"<[^>]+>", " ", m[2]).split())
             for m in re.finditer(r'<li><a href="/emotion/(\d+)/">#\d+</a>(.*?)</li>', home, re.S)}
    assert items[no_face.pk].startswith("no face found") and "Succeeded" not in items[no_face.pk]
    assert items[unsure.pk].startswith("uncertain")
    assert items[said.pk].startswith("Sad (your word)")
