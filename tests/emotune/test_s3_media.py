"""Media in an S3-compatible bucket: a real S3-speaking server (moto's, started here), a web side
and a worker process with different local media folders, files only in the bucket."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import wave
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from emotion.services import reading_create
from emotune.models import JobStatus
from emotune.storage import S3MediaStorage, local_path
from music.models import MusicGeneration
from music.services import generation_create
from tests.emotion.media import astronaut_rgb, jpeg_bytes
from tests.helpers import child_env, free_port, run_worker_burst, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "emotune-media"
KEYS = {"MEDIA_S3_ACCESS_KEY_ID": "test-key", "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret",
        "MEDIA_S3_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on a free port, with an empty bucket; yields the environment that selects it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = {"MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_ENDPOINT_URL": endpoint, **KEYS}
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEYS["MEDIA_S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["MEDIA_S3_SECRET_ACCESS_KEY"], region_name="us-east-1")

    def up():
        try:
            client.list_buckets()
            return True
        except Exception:  # noqa: BLE001 - still starting
            return False

    try:
        assert wait_until(up, 30), "moto's S3 server did not start"
        client.create_bucket(Bucket=BUCKET)
        yield {"env": env, "client": client}
    finally:
        proc.terminate()
        proc.wait(10)


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture
def s3_media(settings, s3_server, tmp_path):
    """This process on the bucket, as the settings select it from the environment; MEDIA_ROOT its own."""
    env = s3_server["env"]
    settings.MEDIA_S3_BUCKET = BUCKET
    settings.MEDIA_ROOT = tmp_path / "web-media"
    settings.MEDIA_ROOT.mkdir()
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "emotune.storage.S3MediaStorage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": env["MEDIA_S3_ENDPOINT_URL"], "region_name": "us-east-1",
                    "access_key": KEYS["MEDIA_S3_ACCESS_KEY_ID"], "secret_key": KEYS["MEDIA_S3_SECRET_ACCESS_KEY"],
                    "location": "", "addressing_style": "path", "file_overwrite": False, "default_acl": None},
    }}
    return s3_server


def test_the_environment_selects_the_bucket(s3_server, tmp_path):
    """settings.py reads MEDIA_S3_* (as every process on every machine would)."""
    code = ("import django; django.setup(); from django.core.files.storage import storages; "
            "s = storages['default']; print(type(s).__name__, s.bucket_name, s.url('music/a b.wav'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**child_env(), **s3_server["env"], "DJANGO_SETTINGS_MODULE": "emotune.settings"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["S3MediaStorage", BUCKET, "/media/music/a%20b.wav"]


def test_files_go_to_the_bucket_and_are_served_by_the_site(s3_media, user, settings):
    client = s3_media["client"]
    reading = reading_create(user=user, upload=SimpleUploadedFile("me.jpg", jpeg_bytes(astronaut_rgb())))
    assert isinstance(reading.media.storage, S3MediaStorage)
    assert reading.media.name in keys(client)
    assert files_under(settings.MEDIA_ROOT) == []  # nothing on this machine
    assert reading.media.url == f"/media/{reading.media.name}"  # through the site, never the bucket

    browser = Client()
    browser.force_login(user)
    response = browser.get(reading.media.url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    stored = client.get_object(Bucket=BUCKET, Key=reading.media.name)["Body"].read()
    assert stored.startswith(b"\xff\xd8") and b"".join(response.streaming_content) == stored
    assert browser.get("/media/readings/../../etc/passwd").status_code == 404
    assert browser.get("/media/readings/no-such-file.jpg").status_code == 404

    with local_path(reading.media) as path:  # a temporary copy for OpenCV, gone afterwards
        assert path.read_bytes() == stored
    assert not path.exists()


def test_purge_finds_orphans_in_the_bucket(s3_media, user):
    client = s3_media["client"]
    orphan = default_storage.save("music/2020/01/orphan.wav", ContentFile(b"RIFF-not-a-row"))
    kept = MusicGeneration.objects.create(user=user, emotion="calm", status=JobStatus.SUCCEEDED)
    kept.audio.save("kept.wav", ContentFile(b"RIFF-a-row"), save=True)
    time.sleep(1.1)  # S3 keeps modification times to the second
    MusicGeneration.objects.filter(pk=kept.pk).update(created_at=timezone.now() + timedelta(days=1))
    call_command("purge_media", "--older-than", "0", stdout=io.StringIO())
    assert orphan not in keys(client)
    assert kept.audio.name in keys(client)


def test_a_worker_on_another_machine_reads_and_writes_through_the_bucket(s3_media, user, settings, tmp_path):
    """The web side stores the upload; a worker with its own (empty) MEDIA_ROOT reads it from the
    bucket, renders music into the bucket; the web side serves it. Neither folder gets a file."""
    client = s3_media["client"]
    worker_media = tmp_path / "worker-media"
    worker_media.mkdir()
    worker_env = {**s3_media["env"], "MEDIA_ROOT": str(worker_media)}

    reading = reading_create(user=user, upload=SimpleUploadedFile("me.jpg", jpeg_bytes(astronaut_rgb())))
    row = generation_create(user=user, emotion="sad", description="soft piano",
                            params={"engine": "offline", "duration": 5, "seed": 3})
    worker = run_worker_burst("gpu", "default", env=worker_env)
    assert worker.returncode == 0, worker.stderr

    reading.refresh_from_db()
    assert reading.status == JobStatus.SUCCEEDED, reading.error
    assert reading.face_found and reading.emotion
    row.refresh_from_db()
    assert row.status == JobStatus.SUCCEEDED, row.error
    assert {row.audio.name, row.audio_preview.name} <= keys(client)
    assert files_under(worker_media) == [] and files_under(settings.MEDIA_ROOT) == []

    browser = Client()
    browser.force_login(user)
    response = browser.get(row.audio.url)
    assert response.status_code == 200
    with wave.open(io.BytesIO(b"".join(response.streaming_content))) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(5.0, abs=0.01)
