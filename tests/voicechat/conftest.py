"""Fixtures for voice tests that need the production topology: daphne and a gpu worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tests import helpers
from tests.helpers import ROOT, start_worker


@pytest.fixture
def gpu_worker():
    proc = start_worker("gpu", env={"VOICE_TTS": "piper"})
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daphne_server(fake_llm, tmp_path):
    port = free_port()
    log = open(tmp_path / "daphne.log", "w+")
    env = {**helpers.child_env(), "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost", "EMOTUNE_HTTPS": "0", "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k", "VOICE_END_SILENCE_MS": "500"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,  # a file: a full pipe would block daphne
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise AssertionError((tmp_path / "daphne.log").read_text())
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    print("daphne output:\n" + (tmp_path / "daphne.log").read_text()[-5000:])




@pytest.fixture
def voice(settings, fake_llm):
    """A voice session's settings: synthesis in this process by espeak-ng, the LLM scripted."""
    from django.utils import translation

    settings.JOBS_BACKEND = "inprocess"
    settings.VOICE_TTS = "espeak"
    # The consumer activates the connection's language before a session runs; here, English
    # (an earlier test's consumer may have left Chinese active in this thread).
    with translation.override("en"):
        yield settings


@pytest.fixture
def voice_settings(settings):
    """The consumer's settings: synthesis in this process by espeak-ng."""
    settings.JOBS_BACKEND = "inprocess"
    settings.VOICE_TTS = "espeak"
    settings.VOICE_MAX_MESSAGES_PER_SECOND = 120
    return settings
