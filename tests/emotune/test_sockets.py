"""Socket leases: the per-user cap on open sockets, in Redis (several processes) and in memory (embedded)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from emotune.sockets import SocketLease


@pytest.fixture(params=["redis", "memory"])
def backend(request, settings):
    if request.param == "memory":
        settings.REDIS_URL = ""
    else:
        assert settings.REDIS_URL, "needs Redis (make test)"
    settings.SOCKET_LEASE_SECONDS = 3
    return request.param


def test_a_place_is_taken_once_renewed_and_given_back(backend):
    user = time.monotonic_ns()
    a, b, c = (SocketLease("voice", user, name, limit=2) for name in "abc")
    assert a.take() and b.take()
    assert not c.take()
    assert a.take()  # renewing one's own place is not a new place
    a.give_back()
    assert c.take()
    assert not a.take()


def test_a_dead_socket_stops_counting_when_its_lease_runs_out(backend):
    user = time.monotonic_ns()
    SocketLease("voice", user, "dead", limit=1).take()  # its process dies: never renewed, never given back
    late = SocketLease("voice", user, "late", limit=1)
    assert not late.take()
    time.sleep(3.2)
    assert late.take()


def test_concurrent_takers_get_exactly_the_limit(backend):
    user = time.monotonic_ns()
    leases = [SocketLease("voice", user, f"s{i}", limit=3) for i in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        taken = list(pool.map(lambda lease: lease.take(), leases))
    assert taken.count(True) == 3


def test_redis_down_lets_sockets_through(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    import emotune.sockets as sockets

    sockets._client = None  # the client is built from the setting on first use
    try:
        assert all(SocketLease("voice", 1, f"s{i}", limit=1).take() for i in range(3))
        assert "Redis unavailable" in caplog.text
    finally:
        sockets._client = None
