"""Fixtures for fault runs: real daphne, real workers, a private Redis that may be restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import dataclass, field
from subprocess import Popen

import pytest
import websockets

from tests import helpers
from tests.helpers import wait_until  # noqa: F401 - the fault tests import it from here


@dataclass
class PrivateRedis:
    """A redis-server of this test's own: the shared one on 6379 is never restarted."""

    port: int
    proc: Popen | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = helpers.start_redis(self.port)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def restart(self, down_seconds: float = 1.0) -> None:
        """SIGKILL it and start it again empty (no persistence), as a crash and restart would."""
        self.kill()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


@pytest.fixture
def private_redis(settings):
    """A private Redis; this test process's queues, channel layer and cache point at it."""
    redis = PrivateRedis(helpers.free_port())
    redis.start()
    settings.REDIS_URL = redis.url
    settings.RQ_QUEUES = {name: {**conf, "URL": redis.url} for name, conf in settings.RQ_QUEUES.items()}
    layers = json.loads(json.dumps(settings.CHANNEL_LAYERS))
    layers["default"]["CONFIG"]["hosts"][0]["address"] = redis.url
    settings.CHANNEL_LAYERS = layers
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis.url}}
    yield redis
    if redis.proc and redis.proc.poll() is None:
        redis.proc.terminate()
        redis.proc.wait(10)


@pytest.fixture
def procs():
    """Processes a test starts; all are stopped at its end (each by its own pid)."""
    started: list[Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except Exception:
                proc.kill()
        if os.environ.get("FAULTS_VERBOSE") and proc.stdout is not None:
            print(f"--- output of {proc.args[2:4]}:\n" + proc.stdout.read()[-4000:])


def kill9(proc: Popen) -> float:
    """SIGKILL ``proc``; returns the monotonic time of the kill."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return time.monotonic()


@dataclass
class ChatClient:
    """A signed-in browser-like websocket client of /ws/voicechat/<id>/ on a real daphne."""

    port: int
    cookie: str
    conversation_id: int
    ws: object = None
    events: list[dict] = field(default_factory=list)

    async def connect(self) -> None:
        uri = f"ws://127.0.0.1:{self.port}/ws/voicechat/{self.conversation_id}/"
        headers = {"Cookie": f"sessionid={self.cookie}", "Origin": f"http://localhost:{self.port}"}
        self.ws = await websockets.connect(uri, additional_headers=headers, max_size=2**20, open_timeout=10)

    async def turn(self, text: str, *, timeout: float = 60, on_event=None) -> tuple[list[dict], int]:
        """Send a typed turn; read until turn.metrics. Returns the events and the audio bytes received."""
        await self.ws.send(json.dumps({"type": "text", "text": text}))
        events, audio = [], 0
        deadline = time.monotonic() + timeout
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(frame, bytes):
                audio += len(frame)
                continue
            event = json.loads(frame)
            events.append(event)
            self.events.append(event)
            if on_event is not None:
                await on_event(event)
            if event["type"] == "turn.metrics":
                return events, audio

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
