"""The one place that sends realtime events to users' sockets.

Events are JSON objects with a ``type`` (``job.progress``, ``job.status``...).
The database stays the source of truth: a page that reconnects re-reads state,
so an event lost while Redis restarts costs nothing but a stale bar.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rq.timeouts import JobTimeoutException

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _message(event: dict) -> dict:
    return {"type": "user.event", "event": event}


def send_to_user(user_id: int, event: dict) -> None:
    """Send ``event`` to every open /ws/events/ socket of the user (from sync code)."""
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(user_group(user_id), _message(event))
    except JobTimeoutException:
        raise  # the job's time limit struck while sending: it must still stop the job
    except Exception:
        logger.warning("realtime event %s for user %s not sent", event.get("type"), user_id, exc_info=True)


async def asend_to_user(user_id: int, event: dict) -> None:
    layer = get_channel_layer()
    try:
        await layer.group_send(user_group(user_id), _message(event))
    except Exception:
        logger.warning("realtime event %s for user %s not sent", event.get("type"), user_id, exc_info=True)


def close_user_sockets(user_id: int, code: int = 4403) -> None:
    """Close every socket of the user (deactivation, sign-out everywhere)."""
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "user.close", "code": code})
    except Exception:
        logger.warning("close for user %s not sent", user_id, exc_info=True)
