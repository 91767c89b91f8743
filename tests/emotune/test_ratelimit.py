"""Rate limits are exact across server processes because they count in Redis."""

import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from emotune.ratelimit import rate_limit_hit, rate_limit_peek
from tests.helpers import ROOT, child_env


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_counts_and_refuses_past_the_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": (3, 60)}
    results = [rate_limit_hit("upload", 7) for _ in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert results[2].remaining == 0 and 0 < results[3].retry_after <= 60
    assert rate_limit_hit("upload", 8).allowed  # per user


def test_uses_are_let_through_while_redis_is_down(settings, caplog):
    """A Redis outage must not fail the request (or the voice turn) that asks."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tts": (1, 60)}
    assert [rate_limit_hit("tts", 7).allowed for _ in range(3)] == [True, True, True]
    assert "Redis unavailable" in caplog.text


@pytest.mark.django_db
def test_sign_in_attempts_are_limited(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (3, 300)}
    for _ in range(3):
        response = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
        assert "Too many" not in response.content.decode()
    # Even the right password is refused once the window is spent.
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "tune-in-Pa55word"})
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 300
    assert "Too many sign-in attempts" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_exact_limit_across_two_processes(settings):
    """Two processes hammer the same scope at once: exactly `limit` uses are allowed in all."""
    assert settings.REDIS_URL, "needs the Redis cache (make test)"
    window = 60
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "generation": (50, window)}
    code = (
        "import django, sys; django.setup();"
        "from django.conf import settings; settings.RATE_LIMITS['generation'] = (50, 60);"
        "from emotune.ratelimit import rate_limit_hit;"
        "print(sum(rate_limit_hit('generation', 'shared').allowed for _ in range(200)))"
    )
    env = {**child_env(), "DJANGO_SETTINGS_MODULE": "emotune.settings"}
    # Start both near the beginning of a window so they share one bucket.
    wait = window - (time.time() % window)
    if wait < 10:
        time.sleep(wait + 0.1)
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    allowed = [int(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs]
    assert sum(allowed) == 50, allowed
    assert rate_limit_peek("generation", "shared") == 400
