from __future__ import annotations

import pytest
from django.conf import settings


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Tests share one Redis database: start each run with it empty."""
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield


@pytest.fixture
def make_user(db):
    from accounts.services import user_create

    counter = iter(range(1, 10_000))

    def make(username: str | None = None, *, staff: bool = False, password: str = "tune-in-Pa55word"):
        user = user_create(username=username or f"user{next(counter)}", password=password)
        if staff:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def staff_user(make_user):
    return make_user("ops", staff=True)


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def fake_llm(settings):
    """A scripted OpenAI-compatible server on loopback, configured as the LLM endpoint."""
    from tests.llm_server import FakeLLM

    server = FakeLLM().start()
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.LLM_TIMEOUT = 2.0
    yield server
    server.stop()
