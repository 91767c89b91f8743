"""Per-user (or per-address) rate limits, counted in the shared cache.

In production the cache is Redis, so every server process and worker counts
against the same window: ``INCR`` is atomic, so the limit is exact however the
requests are spread. In the embedded mode the cache is in this one process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class RateResult:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


def rate_limit_hit(scope: str, who: str | int, *, cost: int = 1) -> RateResult:
    """Count one use of ``scope`` by ``who`` and say whether it is within the limit.

    Limits live in ``settings.RATE_LIMITS[scope] = (count, window_seconds)``;
    windows are fixed and aligned, so all processes agree on the bucket.
    """
    limit, window = settings.RATE_LIMITS[scope]
    now = int(time.time())
    bucket = now // window
    key = f"rl:{scope}:{who}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key, cost)
    except ValueError:  # expired between add and incr
        cache.add(key, cost, timeout=window + 5)
        count = cost
    retry_after = (bucket + 1) * window - now
    return RateResult(allowed=count <= limit, limit=limit, remaining=max(limit - count, 0), retry_after=retry_after)


def rate_limit_peek(scope: str, who: str | int) -> int:
    """How many uses ``who`` has made of ``scope`` in the current window."""
    limit, window = settings.RATE_LIMITS[scope]
    return int(cache.get(f"rl:{scope}:{who}:{int(time.time()) // window}", 0))
