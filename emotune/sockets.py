"""How many sockets of one kind a user may hold open at once, across every server process.

Each open socket holds a *lease*: a member of a Redis sorted set per user and
kind, scored with the time it runs out. A socket renews its lease while it
lives and gives it back when it closes; one whose server process died stops
counting when its lease runs out (``SOCKET_LEASE_SECONDS``). Taking a lease is
one Lua script, so two processes cannot both take the last place.

Without Redis (the embedded mode: one process) the same rule is kept in memory.
Like the rate limits, a Redis outage lets sockets through rather than refusing
every user; the outage is reported by ``/readyz`` and the logs.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings
from redis.exceptions import RedisError

from emotune.backends import redis_client

logger = logging.getLogger(__name__)

# KEYS[1]: the user's set; ARGV: now, member, expiry, limit. 1 = held, 0 = refused.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('EXPIREAT', KEYS[1], math.ceil(tonumber(ARGV[3])) + 5)
return 1
"""

KEY_PREFIX = "emotune:sockets:"
UNLIMITED = 1 << 30  # a lease kept only to count the socket

_client: redis.Redis | None = None
_take = None
_local: dict[str, dict[str, float]] = {}
_local_lock = threading.Lock()


def _redis():
    global _client, _take
    if _client is None:
        _client = redis_client(url=settings.REDIS_URL)
        _take = _client.register_script(_TAKE)
    return _client, _take


class SocketLease:
    """One socket's place among its user's open sockets of one kind (blocking calls: run them off the loop)."""

    def __init__(self, kind: str, user_id: int, socket_id: str, *, limit: int | None) -> None:
        self.key = f"{KEY_PREFIX}{kind}:{user_id}"
        self.member, self.limit = socket_id, UNLIMITED if limit is None else limit

    def take(self) -> bool:
        """Take (or renew) the place; False when ``limit`` other live sockets hold theirs."""
        now = time.time()
        expires = now + settings.SOCKET_LEASE_SECONDS
        if not settings.REDIS_URL:
            with _local_lock:
                held = {m: t for m, t in _local.get(self.key, {}).items() if t > now}
                if self.member not in held and len(held) >= self.limit:
                    return False
                held[self.member] = expires
                _local[self.key] = held
                return True
        try:
            _client, take = _redis()
            return bool(take(keys=[self.key], args=[now, self.member, expires, self.limit]))
        except RedisError:
            logger.warning("socket lease %s not counted: Redis unavailable", self.key, exc_info=True)
            return True

    def give_back(self) -> None:
        if not settings.REDIS_URL:
            with _local_lock:
                _local.get(self.key, {}).pop(self.member, None)
            return
        try:
            _redis()[0].zrem(self.key, self.member)
        except RedisError:
            logger.warning("socket lease %s not given back: Redis unavailable (it runs out by itself)", self.key)


def sockets_open() -> dict[str, int]:
    """Live sockets per kind ("voice", "events"), counted from their leases across every process.

    A socket whose process died stops counting when its lease runs out. Raises RedisError
    when Redis cannot be read.
    """
    now = time.time()
    counts: dict[str, int] = {}
    if not settings.REDIS_URL:
        with _local_lock:
            for key, held in _local.items():
                kind = key[len(KEY_PREFIX):].split(":")[0]
                counts[kind] = counts.get(kind, 0) + sum(1 for t in held.values() if t > now)
        return counts
    client, _take = _redis()
    for key in client.scan_iter(match=f"{KEY_PREFIX}*", count=500):
        kind = key.decode()[len(KEY_PREFIX):].split(":")[0]
        counts[kind] = counts.get(kind, 0) + client.zcount(key, now, "+inf")
    return counts
