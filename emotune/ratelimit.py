"""Per-user (or per-address) rate limits, counted in the shared cache.

In production the cache is Redis, so every server process and worker counts
against the same window: ``INCR`` is atomic, so the limit is exact however the
requests are spread. In the embedded mode the cache is in this one process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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
    retry_after = (bucket + 1) * window - now
    try:
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key, cost)
        except ValueError:  # expired between add and incr
            cache.add(key, cost, timeout=window + 5)
            count = cost
    except RedisError:
        # Redis is down or restarting: let the use through rather than fail the request or
        # the voice turn that asked; the outage itself is reported by /readyz and the logs.
        logger.warning("rate limit %s not counted for %s: Redis unavailable", scope, who, exc_info=True)
        return RateResult(allowed=True, limit=limit, remaining=limit, retry_after=retry_after)
    return RateResult(allowed=count <= limit, limit=limit, remaining=max(limit - count, 0), retry_after=retry_after)


def rate_limit_peek(scope: str, who: str | int) -> int:
    """How many uses ``who`` has made of ``scope`` in the current window."""
    _limit, window = settings.RATE_LIMITS[scope]
    return int(cache.get(f"rl:{scope}:{who}:{int(time.time()) // window}", 0))


# --- enforcing: services raise RateLimited, the middleware answers 429 --------------------

MESSAGES = {
    "upload": _("You have reached the limit of %(limit)d uploads an hour. Try again in %(minutes)d minutes."),
    "generation": _("You have reached the limit of %(limit)d music generations an hour. "
                    "Try again in %(minutes)d minutes."),
    "tts": _("Spoken replies are limited to %(limit)d sentences an hour; answers continue as text. "
             "Voice returns in %(minutes)d minutes."),
}


class RateLimited(Exception):
    """A use over the limit of ``scope``; ``str(exc)`` is the message for the user."""

    def __init__(self, scope: str, result: RateResult) -> None:
        self.scope, self.result = scope, result
        super().__init__(rate_limit_message(scope, result))


def rate_limit_message(scope: str, result: RateResult) -> str:
    return str(MESSAGES[scope]) % {"limit": result.limit, "minutes": max(1, math.ceil(result.retry_after / 60))}


def rate_limit_enforce(scope: str, who: str | int) -> RateResult:
    """Count one use; raise :class:`RateLimited` (nothing done yet) past the limit."""
    result = rate_limit_hit(scope, who)
    if not result.allowed:
        raise RateLimited(scope, result)
    return result


def rate_limited(scope: str, *, when: Callable[[HttpRequest], bool]):
    """View decorator: count ``scope`` for the signed-in user on requests where ``when`` holds,
    before the view reads anything (an upload is refused before it is decoded)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if when(request):
                rate_limit_enforce(scope, request.user.pk)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def has_upload(request: HttpRequest) -> bool:
    return request.method == "POST" and bool(request.FILES)


class RateLimitMiddleware:
    """Answer :class:`RateLimited` with 429: JSON for scripts, a short page (its ``.error`` text) otherwise."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        message = str(exception)
        if "application/json" in request.headers.get("Accept", ""):
            response: HttpResponse = JsonResponse({"error": message, "code": "rate_limited"}, status=429)
        else:
            response = render(request, "429.html", {"message": message}, status=429)
        response["Retry-After"] = str(exception.result.retry_after)
        return response
