"""Fixtures for the API tests: personal tokens, a real daphne serving the test database."""

from __future__ import annotations

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
