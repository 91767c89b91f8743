"""Limits every websocket of the site shares: frame size, message rate, bad frames, slow readers.

Close codes (the client sees them in ``CloseEvent.code``):

====  ======================================================================
1006  a frame above daphne's ``--websocket-max-message-size`` (1 MiB by
      default): autobahn drops the TCP connection, no close frame is sent
4400  too many bad frames in a row (malformed JSON, unknown type, audio
      before ``start``...); each one got an ``error`` event first
4401  not signed in
4403  closed by the site (account deactivated, signed out everywhere)
4404  no such conversation for this user
4408  slow reader: the server could not hand the client anything for
      ``WS_SEND_TIMEOUT`` seconds, so it stops buffering for it
4409  the user already holds ``VOICE_MAX_SOCKETS_PER_USER`` voice sockets
      open (after an ``error`` event)
4413  a frame above the socket's own cap (after an ``error`` event)
4429  more messages than the socket's rate cap (after an ``error`` event)
====  ======================================================================

One bad frame gets an ``error`` event and the session goes on; only abuse
(size, rate, nothing but bad frames, never reading) ends it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

CLOSE_BAD_FRAMES = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_SLOW_READER = 4408
CLOSE_TOO_MANY_SOCKETS = 4409
CLOSE_TOO_LARGE = 4413
CLOSE_RATE = 4429


def language_activate(scope: dict) -> None:
    """Speak the socket's messages in the page's language: the language cookie, else Accept-Language.

    Called from ``connect``; the activation lives in the consumer's context, which every later
    handler, turn task and ``sync_to_async`` call of that socket inherits.
    """
    from django.utils.translation import trans_real

    candidates = [scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")]
    accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in trans_real.parse_accept_lang_header(accept) if code != "*"]
    for code in filter(None, candidates):
        try:
            translation.activate(translation.get_supported_language_variant(code))
            return
        except LookupError:
            continue
    translation.activate(settings.LANGUAGE_CODE)


class FrameGuard:
    """Per-connection admission of incoming frames: size cap, token bucket, bad-frame budget."""

    def __init__(self, *, max_bytes: int, per_second: float) -> None:
        self.max_bytes, self.rate = max_bytes, per_second
        # Bursts of two seconds' worth absorb frames that queued up while the server was busy.
        self.tokens, self.last = 2.0 * per_second, time.monotonic()
        self.bad_in_a_row = 0

    def admit(self, text_data: str | None, bytes_data: bytes | None) -> tuple[int, str, str] | None:
        """None when the frame may be handled, else (close code, error code, message)."""
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > self.max_bytes:
            return CLOSE_TOO_LARGE, "too_large", _("Frames are limited to %(n)d bytes.") % {"n": self.max_bytes}
        now = time.monotonic()
        self.tokens = min(2.0 * self.rate, self.tokens + (now - self.last) * self.rate) - 1
        self.last = now
        if self.tokens < 0:
            return CLOSE_RATE, "rate_limited", _("Too many messages; the connection is closed.")
        return None

    def bad(self) -> bool:
        """Count a bad frame; True once the client has sent nothing else for too long."""
        self.bad_in_a_row += 1
        return self.bad_in_a_row >= settings.WS_MAX_BAD_FRAMES

    def good(self) -> None:
        self.bad_in_a_row = 0


class GuardedFrames:
    """Consumer mixin: every frame passes ``self.guard`` before its handler sees it.

    Over the size or rate cap: an error event, then the socket closes. A text frame
    that is not JSON, or anything a handler turns down with :meth:`reject`, gets an
    error event and counts as a bad frame; a frame handled without one ends a run of
    bad frames. The consumer sets ``self.guard`` when it accepts and provides
    ``error(code, message)``, ``on_message(content)`` (parsed JSON of a text frame) and
    ``on_binary(data)``.
    """

    guard: FrameGuard
    # Provided by the consumer (above); declared here for the type checker only.
    error: Callable[[str, str], Awaitable[None]]
    close: Callable[..., Awaitable[None]]
    on_binary: Callable[[bytes], Awaitable[None]]
    on_message: Callable[[Any], Awaitable[None]]

    async def receive(self, text_data=None, bytes_data=None) -> None:
        refused = self.guard.admit(text_data, bytes_data)
        if refused:  # size or rate: abuse, the socket closes
            close_code, code, message = refused
            await self.error(code, message)
            await self.close(code=close_code)
            return
        bad_before = self.guard.bad_in_a_row
        if text_data is None:
            await self.on_binary(bytes_data)
        else:
            try:
                content = json.loads(text_data)
            except ValueError:
                await self.reject("bad_json", _("Text frames must be JSON objects."))
                return
            await self.on_message(content)
        if self.guard.bad_in_a_row == bad_before:
            self.guard.good()

    async def reject(self, code: str, message: str) -> None:
        """A bad frame from the client: an error, and the socket closes once it sends nothing else."""
        await self.error(code, message)
        if self.guard.bad():
            await self.close(code=CLOSE_BAD_FRAMES)


# --- the channel layer's receive, cancellable ---------------------------------------------


async def cancel_until_done(task: asyncio.Task, *, tries: int = 50) -> None:
    """Cancel ``task`` and, while it survives, cancel it again (0.1 s apart, ``tries`` times)."""
    for _attempt in range(tries):
        if task.done():
            return
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)


async def layer_receive(receive):
    """Await the channel layer's ``receive()`` so that cancelling the caller always ends it.

    redis-py can lose a cancel that lands just as a command finishes, and channels_redis
    then goes back to waiting for the next message: a consumer whose socket has gone
    would keep a task and a Redis connection for ever. The receive runs in a task of
    its own, shielded, and is cancelled again until it is really gone.
    """
    inner = asyncio.ensure_future(receive())
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        await cancel_until_done(inner)
        raise


class CancellableLayerReceive:
    """Consumer mixin: the channel layer's receive goes through :func:`layer_receive`."""

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        self._channel_receive = functools.partial(layer_receive, receive)


# --- slow readers -------------------------------------------------------------------------


class _WriteFlow:
    """A Twisted streaming producer standing for the application: told when the socket's buffer is full."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    def pauseProducing(self) -> None:  # noqa: N802 (Twisted's interface)
        self.writable.clear()

    def resumeProducing(self) -> None:  # noqa: N802
        self.writable.set()

    def stopProducing(self) -> None:  # noqa: N802
        self.gone = True
        self.writable.set()


def _daphne_protocol(send):
    """The autobahn protocol behind daphne's ``send`` callable (a partial of ``handle_reply``), if any."""
    if isinstance(send, functools.partial) and send.args and hasattr(send.args[0], "registerProducer"):
        return send.args[0]
    return None


def _attach(protocol, flow: _WriteFlow) -> None:
    """Have Twisted pause ``flow`` while the socket's write buffer is full.

    The connection's HTTPChannel stays registered as the transport's producer
    after the websocket upgrade and relays pause/resume to a producer of its own.
    """
    transport = protocol.transport
    consumer = getattr(transport, "producer", None) or transport
    try:
        consumer.registerProducer(flow, True)
    except Exception:  # another server layout (TLS wrapper...): no backpressure, but no failure either
        logger.warning("websocket backpressure unavailable on %r", transport, exc_info=True)


class SlowReaderGuard:
    """ASGI middleware: give websocket sends backpressure, and close sockets whose client stops reading.

    daphne writes every message straight into Twisted's transport, whose buffer
    grows without limit when the client does not read. Here the application is
    registered as the transport's streaming producer: once more than 64 KiB
    wait to go out, Twisted pauses it, and the next send waits until the
    buffer has drained. So the consumer slows down to its reader's pace (and
    its own sources back up: the channel layer's capacity, the LLM stream).
    A send that waits longer than ``WS_SEND_TIMEOUT`` closes the socket with
    4408; later sends are dropped. Under other servers it does nothing.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        protocol = _daphne_protocol(send)
        if scope["type"] != "websocket" or protocol is None:
            return await self.app(scope, receive, send)
        flow = _WriteFlow()
        closed = False

        async def guarded_send(message: dict) -> None:
            nonlocal closed
            if closed:
                return
            if message["type"] == "websocket.send" and not flow.writable.is_set():
                try:
                    await asyncio.wait_for(flow.writable.wait(), settings.WS_SEND_TIMEOUT)
                except TimeoutError:
                    closed = True
                    logger.warning("websocket %s: client stopped reading, closing %s", scope["path"], CLOSE_SLOW_READER)
                    # The close frame waits behind the unread backlog: give the client as long
                    # to read up to it as a send may wait (autobahn's default is 1 s, then 1006).
                    protocol.closeHandshakeTimeout = max(protocol.closeHandshakeTimeout, settings.WS_SEND_TIMEOUT)
                    await send({"type": "websocket.close", "code": CLOSE_SLOW_READER})
                    return
                if flow.gone:
                    return
            await send(message)
            if message["type"] == "websocket.accept":
                _attach(protocol, flow)
            elif message["type"] == "websocket.close":
                closed = True

        return await self.app(scope, receive, guarded_send)
