"""Per-user limits on uploads, generations and spoken sentences: past the limit the user gets
a 429 (or an error event) with a readable message and nothing is stored; the count is shared
through Redis, so the limit is exact across server processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from emotion.models import EmotionReading
from music.models import MusicGeneration
from tests.helpers import ROOT, child_env, session_cookie, ws_client
from tests.hostile import small_jpeg, tone_wav
from voicechat.models import Conversation, Message, Speaker

STUDIO = {"description": "calm piano", "engine": "offline", "duration": "10", "top_k": "250", "top_p": "0",
          "temperature": "1", "cfg_coef": "3", "decoder": "default"}


@pytest.fixture(autouse=True)
def fresh_counts(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def stored(settings) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []


UPLOADS = {
    "emotion": ("/emotion/", lambda: {"media": SimpleUploadedFile("face.jpg", small_jpeg())}, EmotionReading),
    "webcam": ("/emotion/", lambda: {"media": SimpleUploadedFile("webcam.jpg", small_jpeg()), "webcam": "on"},
               EmotionReading),
    "speaker": ("/voice/speakers/", lambda: {"name": f"Voice {time.monotonic_ns()}", "transcript": "hello there",
                                             "consent": "on", "reference": SimpleUploadedFile("me.wav", tone_wav())},
                Speaker),
    "melody": ("/music/", lambda: {**STUDIO, "melody": SimpleUploadedFile("tune.wav", tone_wav())}, MusicGeneration),
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(UPLOADS))
def test_uploads_past_the_limit_get_429_and_store_nothing(endpoint, alice_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": (2, 3600)}
    url, payload, model = UPLOADS[endpoint]
    assert [alice_client.post(url, payload()).status_code for _ in range(2)] == [302, 302]
    rows, files = model.objects.count(), len(stored(settings))
    refused = alice_client.post(url, payload())
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "You have reached the limit of 2 uploads an hour" in refused.content.decode()
    as_json = alice_client.post(url, payload(), HTTP_ACCEPT="application/json")
    assert as_json.status_code == 429 and as_json.json()["code"] == "rate_limited"
    assert model.objects.count() == rows and len(stored(settings)) == files
    # Pages without a file are not uploads and stay open.
    assert alice_client.get(url).status_code == 200


@pytest.mark.django_db
def test_generations_past_the_limit_get_429_and_store_nothing(alice_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "generation": (2, 3600)}
    assert alice_client.post("/music/", {**STUDIO, "duration": "500"}).status_code == 400  # does not count
    assert [alice_client.post("/music/", STUDIO).status_code for _ in range(2)] == [302, 302]
    refused = alice_client.post("/music/", STUDIO)
    assert refused.status_code == 429
    assert "You have reached the limit of 2 music generations an hour" in refused.content.decode()
    assert MusicGeneration.objects.count() == 2


@pytest.mark.django_db(transaction=True)
async def test_spoken_sentences_past_the_limit_get_an_error_event_and_text_goes_on(settings, user, fake_llm):
    settings.JOBS_BACKEND, settings.VOICE_TTS = "inprocess", "espeak"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tts": (1, 3600)}
    conversation = await database_sync_to_async(Conversation.objects.create)(user=user)
    fake_llm.script = [{"tokens": ["One.", " Two.", " Three."]}]
    client = ws_client(f"/ws/voicechat/{conversation.pk}/", cookie=await database_sync_to_async(session_cookie)(user))
    assert (await client.connect())[0]
    await client.send_to(text_data=json.dumps({"type": "text", "text": "talk to me"}))
    events = []
    while not events or events[-1].get("type") != "turn.metrics":
        out = await client.receive_output(20)
        if out.get("text"):
            events.append(json.loads(out["text"]))
    await client.disconnect()
    kinds = [e["type"] for e in events]
    errors = [e for e in events if e["type"] == "error"]
    assert [e["seq"] for e in events if e["type"] == "tts.start"] == [0]  # one sentence spoken
    assert len(errors) == 1 and errors[0]["code"] == "tts_rate_limited"
    assert "limited to 1 sentences an hour" in errors[0]["message"]
    # The answer goes on as text: every piece (the first sentence, then the rest) reaches the client.
    assert "".join(e["text"] for e in events if e["type"] == "llm.token") == "One. Two. Three." and "llm.done" in kinds
    answer = await database_sync_to_async(Message.objects.get)(conversation=conversation, role="assistant")
    assert answer.text == "One. Two. Three." and answer.telemetry["sentences"] == 1


# --- two real server processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_servers(tmp_path):
    env = {**child_env(), "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1", "EMOTUNE_HTTPS": "0",
           "MEDIA_ROOT": str(tmp_path / "media"), "RATE_UPLOADS": "5", "RATE_GENERATIONS": "5",
           "RATE_LOGIN": "5"}
    servers = []
    for i in range(2):
        port, log = free_port(), open(tmp_path / f"daphne{i}.log", "w+")
        proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                 "emotune.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        servers.append((port, proc, log))
    deadline = time.monotonic() + 60
    for port, proc, _log in servers:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "daphne0.log").read_text()
                time.sleep(0.2)
    yield [port for port, _, _ in servers]
    for _, proc, log in servers:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    import django_rq

    for queue in ("gpu", "default"):  # the jobs of the rows made here are not for any worker
        django_rq.get_queue(queue).empty()


def browser(port: int, cookie: str | None) -> tuple[requests.Session, str]:
    """A client with a CSRF token: signed in with ``cookie``, or anonymous on the sign-in page."""
    session = requests.Session()
    if cookie:
        session.cookies.set(django_settings.SESSION_COOKIE_NAME, cookie)
    session.get(f"http://127.0.0.1:{port}/{'emotion' if cookie else 'accounts/login'}/", timeout=10).raise_for_status()
    return session, session.cookies["csrftoken"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("scope", ["upload", "generation", "login"])
def test_limit_is_exact_across_two_server_processes(scope, user, two_servers):
    limit, tries = 5, 24
    cookie = None if scope == "login" else session_cookie(user)
    clients = [browser(port, cookie) for port in two_servers]
    if 3600 - time.time() % 3600 < 10:  # both must count in the same hourly window
        time.sleep(11)

    def fire(i: int) -> int:
        port, (session, token) = two_servers[i % 2], clients[i % 2]
        headers = {"X-CSRFToken": token}
        base = f"http://127.0.0.1:{port}"
        if scope == "upload":
            return session.post(f"{base}/emotion/", files={"media": ("face.jpg", small_jpeg())},
                                headers=headers, allow_redirects=False, timeout=30).status_code
        if scope == "login":  # wrong passwords: refused attempts say so on the sign-in page
            page = session.post(f"{base}/accounts/login/", data={"username": "alice", "password": "wrong"},
                                headers=headers, allow_redirects=False, timeout=30)
            if page.status_code == 429:
                assert "Too many sign-in attempts" in page.text and int(page.headers["Retry-After"]) > 0
                return 429
            assert page.status_code == 200 and "Please enter a correct username" in page.text
            return 302  # counted and answered: a wrong password
        return session.post(f"{base}/music/", data=STUDIO, headers=headers, allow_redirects=False,
                            timeout=30).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(fire, range(tries)))
    elapsed = time.monotonic() - started
    print(f"rate limit [{scope}] across 2 daphne processes: {tries} concurrent requests, "
          f"{codes.count(302)} allowed, {codes.count(429)} refused (limit {limit}), {elapsed:.2f} s")
    assert sorted(set(codes)) == [302, 429], codes
    assert codes.count(302) == limit
    if scope != "login":
        model = EmotionReading if scope == "upload" else MusicGeneration
        assert model.objects.filter(user=user).count() == limit
