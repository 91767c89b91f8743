"""The one place that sends realtime events to users' sockets.

Events are JSON objects with a ``type`` (``job.progress``, ``job.status``...).
The database stays the source of truth: a page that reconnects re-reads state,
so an event lost while Redis restarts costs nothing but a stale bar.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from rq.timeouts import JobTimeoutException

logger = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


def _layer_loop() -> asyncio.AbstractEventLoop:
    """An event loop of this process's own, in a daemon thread, for sends from sync code."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="emotune-channel-layer", daemon=True).start()
        return _loop


def layer_call(method: str, *args) -> None:
    """``channel_layer.<method>(*args)`` from sync code (a job, a view).

    ``async_to_sync`` outside a server starts a new event loop per call, and the
    Redis layer a new connection for each loop: milliseconds per message, which
    a voice turn pays on every audio chunk. So sync code outside a server sends
    through one loop kept for the process (its connections stay open). The
    in-memory layer of the embedded mode belongs to the server's own loop, so
    there the call goes through ``async_to_sync`` (which runs it on that loop).
    """
    layer = get_channel_layer()
    coro_function = getattr(layer, method)
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(coro_function)(*args)
        return
    asyncio.run_coroutine_threadsafe(coro_function(*args), _layer_loop()).result()


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _message(event: dict) -> dict:
    return {"type": "user.event", "event": event}


def send_to_user(user_id: int, event: dict) -> None:
    """Send ``event`` to every open /ws/events/ socket of the user (from sync code)."""
    try:
        layer_call("group_send", user_group(user_id), _message(event))
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
    try:
        layer_call("group_send", user_group(user_id), {"type": "user.close", "code": code})
    except Exception:
        logger.warning("close for user %s not sent", user_id, exc_info=True)
