from __future__ import annotations

import asyncio

import pytest
from django.conf import settings


def _cancel_all_tasks_until_done(loop, _cancel_once=asyncio.runners._cancel_all_tasks):
    """Close a test's event loop the way daphne ends an application: cancel again while tasks survive.

    redis-py can lose a cancel that lands while a command is finishing (the task was
    already woken with its result), and channels_redis then waits for the next message
    for ever: asyncio's own teardown cancels only once and would hang the whole run.
    daphne cancels a lingering application every second, so the server is not affected.
    """
    for _ in range(50):
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not pending:
            break
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.wait(pending, timeout=0.1))
    _cancel_once(loop)  # retrieves the results and reports unexpected errors, as asyncio does


asyncio.runners._cancel_all_tasks = _cancel_all_tasks_until_done


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Tests share one Redis database: start each run with it empty."""
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield


@pytest.fixture(autouse=True)
def _default_language_between_tests():
    """Each test starts in the site's default language. A request through the test client leaves
    its language active in the thread (LocaleMiddleware activates it and nothing puts it back), and
    messages built with gettext in a later test would come out in Chinese."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_connections_for_async_tests(request):
    """Give each async database test fresh MariaDB connections.

    Async tests reach the database from asgiref's one shared sync thread, whose
    connection outlives the test that opened it (CONN_MAX_AGE) and, unlike in a
    served request, is never health-checked: a later test would inherit a
    connection the server may have dropped. Closing it here, in both threads,
    makes every async test start and end clean.
    """
    marker = request.node.get_closest_marker("django_db")
    if not (asyncio.iscoroutinefunction(request.function) and marker and marker.kwargs.get("transaction")):
        yield
        return
    from asgiref.sync import SyncToAsync
    from django.db import connections

    def close_all():
        connections.close_all()
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()

    close_all()
    yield
    close_all()


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


@pytest.fixture(scope="module")
def llm():
    """A scripted OpenAI-compatible server on loopback for a module's child processes (daphne,
    workers), which are pointed at ``llm.base_url`` through their environment."""
    from tests.llm_server import FakeLLM

    server = FakeLLM().start()
    yield server
    server.stop()
