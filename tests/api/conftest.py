"""Fixtures for the API tests: personal tokens, a real daphne serving the test database (with a scripted
OpenAI-compatible server as its LLM for the text turn's tests)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import helpers


@pytest.fixture
def token_for(db):
    """``token_for(user)`` → a fresh token secret for ``user`` (made by the service the profile page uses)."""
    from accounts.services import token_create

    def make(user, name: str = "tests") -> str:
        return token_create(user=user, name=name)[1]

    return make


@dataclass
class Server:
    url: str
    log: Path

    def client(self, secret: str | None = None, **kwargs):
        import httpx2 as httpx  # the HTTP client the openai package brings

        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **kwargs)


def daphne_server(tmp_path_factory, env: dict | None = None):
    port = helpers.free_port()
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    proc = helpers.start_daphne(port, log, env=env)
    return proc, Server(f"http://127.0.0.1:{port}", log)


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except Exception:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def stream_server(django_db_setup, django_db_blocker, tmp_path_factory, llm):
    """daphne whose companion answers from ``llm`` (the text turn's Server-Sent Events)."""
    proc, srv = daphne_server(tmp_path_factory, env={
        "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "k", "LLM_TIMEOUT": "5"})
    yield srv
    stop(proc)


def read_events(response) -> list[tuple[float, str, dict]]:
    """(arrival time, event name, data) for each event of an SSE response, as it arrives."""
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((time.monotonic(), name, json.loads(line[6:])))
    return events
