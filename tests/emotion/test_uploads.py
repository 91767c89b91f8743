"""Uploads are judged by content; every bad one is refused with a message and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from emotion.media import MediaError
from emotion.models import EmotionReading
from emotion.services import reading_create
from ops.models import SystemLog
from tests.emotion.conftest import stored_files
from tests.emotion.media import astronaut_rgb, jpeg_bytes, video_write

pytestmark = pytest.mark.django_db


def _huge_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # 400 megapixels, a few hundred KB
    return out.getvalue()


def _bad_inputs(tmp_path):
    good_jpeg = jpeg_bytes(astronaut_rgb())
    long_video = video_write(tmp_path / "long.mp4", "FFF", fps=5).read_bytes()
    return {
        "empty": ("photo.jpg", b"", "empty"),
        "truncated jpeg": ("photo.jpg", good_jpeg[: len(good_jpeg) // 3], "damaged or incomplete"),
        "png header then html": ("photo.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
                                 "neither a photo"),
        "text named jpg": ("photo.jpg", b"just some words, not a picture\n" * 20, "neither a photo"),
        "20000x20000 image": ("big.png", _huge_png(), "too many pixels"),
        "video over the cap": ("clip.mp4", long_video, "the limit is 2 s"),
        "non-video named mp4": ("clip.mp4", b"this is not a video at all" * 40, "neither a photo"),
        "mp4 signature, no video": ("clip.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00garbage" * 300,
                                    "cannot be read"),
    }


@pytest.mark.parametrize("case", [
    "empty", "truncated jpeg", "png header then html", "text named jpg", "20000x20000 image",
    "video over the cap", "non-video named mp4", "mp4 signature, no video",
])
def test_bad_upload_is_refused_and_nothing_is_stored(case, user, media_root, settings, tmp_path, alice_client):
    settings.EMOTION_VIDEO_MAX_SECONDS = 2
    name, content, message = _bad_inputs(tmp_path)[case]
    with pytest.raises(MediaError, match=message):
        reading_create(user=user, upload=SimpleUploadedFile(name, content, content_type="image/jpeg"))
    response = alice_client.post("/emotion/", {"media": SimpleUploadedFile(name, content, "image/jpeg")})
    assert response.status_code == 400
    assert message.split()[0] in response.content.decode()
    assert not EmotionReading.objects.exists()
    assert stored_files(media_root) == []
    assert SystemLog.objects.filter(action="emotion.upload", status="failed").exists()


def test_photo_is_reencoded_under_a_generated_name(user, media_root):
    png = io.BytesIO()
    Image.fromarray(astronaut_rgb()).save(png, "PNG")
    from unittest import mock

    with mock.patch("emotion.services.job_enqueue") as enqueue:
        reading = reading_create(user=user, upload=SimpleUploadedFile("../../etc/passwd.png", png.getvalue()))
    enqueue.assert_called_once_with(reading)
    assert reading.source == "image" and reading.status == "queued"
    files = stored_files(media_root)
    assert len(files) == 1 and files[0].suffix == ".jpg" and "passwd" not in files[0].name
    assert len(files[0].stem) == 32
    with Image.open(files[0]) as stored:
        assert stored.format == "JPEG" and stored.size == (512, 512)


def test_video_upload_is_stored_as_video(user, media_root, tmp_path):
    from unittest import mock

    content = video_write(tmp_path / "c.mov", "F.", fps=5).read_bytes()
    with pytest.raises(MediaError, match=r"ends in \.jpg, but the file is a video"):  # a misnamed file is refused
        reading_create(user=user, upload=SimpleUploadedFile("holiday.jpg", content))
    with mock.patch("emotion.services.job_enqueue"):
        reading = reading_create(user=user, upload=SimpleUploadedFile("holiday.mp4", content))
    assert reading.source == "video" and reading.media_seconds == pytest.approx(2.0)
    assert reading.media.name.endswith(".mov")  # QuickTime signature: stored as what it is
