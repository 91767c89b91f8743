"""The embedded mode: jobs in-process on the server loop, in-memory channel layer, SQLite."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from emotion.models import EmotionReading
from emotune import jobs
from emotune.models import JobStatus
from tests.helpers import ROOT, session_cookie, ws_client


@pytest.mark.django_db(transaction=True)
async def test_inprocess_job_end_to_end(settings, make_user):
    settings.JOBS_BACKEND = "inprocess"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    user = await sync_to_async(make_user)("alice")
    socket_ = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    assert (await socket_.connect())[0]

    def enqueue():
        with transaction.atomic():
            row = EmotionReading.objects.create(user=user, source="image", media="readings/t.jpg")
            jobs.job_enqueue(row, handler="tests.emotune.handlers.succeed")
        return row

    row = await sync_to_async(enqueue)()
    statuses = []
    while not statuses or statuses[-1] not in ("succeeded", "failed"):
        event = await socket_.receive_json_from(timeout=10)
        if event["type"] == "job.status":
            statuses.append(event["status"])
    assert statuses == ["running", "succeeded"]
    await sync_to_async(row.refresh_from_db)()
    assert row.status == JobStatus.SUCCEEDED
    assert row.worker_name == jobs.INPROCESS_WORKER
    await socket_.disconnect()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_server_serves_sign_up_and_sign_in(tmp_path):
    """What `make run` starts: daphne, SQLite, no Redis; sign up through real HTTP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DEBUG="1", EMOTUNE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="emotune.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert (tmp_path / "emotune.sqlite3").exists()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        for _ in range(100):
            try:
                page = opener.open(f"{base}/accounts/signup/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("daphne did not answer")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "erin", "password1": "Quiet-Rain-42", "password2": "Quiet-Rain-42"}
        ).encode()
        request = urllib.request.Request(f"{base}/accounts/signup/", data=data, headers={"Referer": f"{base}/accounts/signup/"})
        home = opener.open(request, timeout=10)
        assert home.geturl() == f"{base}/"
        assert "erin" in home.read().decode()
        assert opener.open(f"{base}/static/css/app.css", timeout=5).status == 200
    finally:
        server.terminate()
        server.wait(10)
