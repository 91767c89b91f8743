"""Shared test helpers: real worker processes, signed-in websocket clients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """Environment for a child process that must use the test database."""
    from django.db import connection

    env = dict(os.environ)
    env["DB_NAME"] = connection.settings_dict["NAME"]
    env["SECRET_KEY"] = settings.SECRET_KEY
    env.setdefault("ENGINE_WARMUP", "0")  # a test that wants the boot warm-up asks for it
    return env


def worker_cmd(*queues: str, burst: bool = True) -> list[str]:
    cmd = [sys.executable, "manage.py", "rqworker", *(queues or ("gpu", "default"))]
    cmd += ["--worker-class", "emotune.worker.EmotuneWorker"]
    return cmd + (["--burst"] if burst else [])


def run_worker_burst(*queues: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        worker_cmd(*queues), cwd=ROOT, env={**child_env(), **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )


def start_worker(*queues: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        worker_cmd(*queues, burst=False), cwd=ROOT, env={**child_env(), **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """``predicate()``'s first true value within ``timeout`` seconds, else None."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def ws_client(path: str, *, cookie: str | None = None, origin: str = "http://localhost",
              language: str | None = None) -> WebsocketCommunicator:
    from emotune.asgi import application

    headers = [(b"host", b"localhost"), (b"origin", origin.encode())]
    cookies = [f"{settings.SESSION_COOKIE_NAME}={cookie}"] if cookie else []
    if language:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def events_until_final(communicator: WebsocketCommunicator, timeout: float = 30) -> list[dict]:
    """Read /ws/events/ until a job.status event with a final status arrives."""
    import time

    events, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = await communicator.receive_json_from(timeout=deadline - time.monotonic())
        events.append(event)
        if event["type"] == "job.status" and event["status"] in ("succeeded", "failed", "cancelled"):
            return events
    raise AssertionError(f"no final status in {events}")


def enqueue_test_job(user, handler: str):
    """An EmotionReading whose job runs ``tests.emotune.handlers.<handler>`` (job-machinery tests)."""
    from django.db import transaction

    from emotion.models import EmotionReading
    from emotune import jobs

    with transaction.atomic():
        row = EmotionReading.objects.create(user=user, source="image", media="readings/test.jpg")
        jobs.job_enqueue(row, handler=f"tests.emotune.handlers.{handler}")
    return row


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> bool:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def start_daphne(port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """A real daphne on loopback serving the test database (its output goes to ``log_path``)."""
    env = {**child_env(), "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost", "EMOTUNE_HTTPS": "0", **(env or {})}
    log = open(log_path, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,  # a file: a full pipe would block daphne
    )
    log.close()
    if not wait_for_port(port):
        proc.kill()
        raise AssertionError(log_path.read_text())
    return proc


def start_redis(port: int) -> subprocess.Popen:
    """A private, non-persistent redis-server (for tests that restart Redis; never the shared one)."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    if not wait_for_port(port, 10):
        proc.kill()
        raise AssertionError("redis-server did not start")
    return proc
