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
    assert f'href="/music/?reading={r.pk}"' in html


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


def test_no_face_and_uncertain_are_plain_results(alice_client, user):
    no_face = _reading(user, face_found=False)
    unsure = _reading(user, face_found=True, uncertain=True, scores={"sad": 0.3})
    assert "No face found." in alice_client.get(f"/emotion/{no_face.pk}/").content.decode()
    html = alice_client.get(f"/emotion/{unsure.pk}/").content.decode()
    assert "Uncertain" in html and "/music/?reading=" not in html


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
