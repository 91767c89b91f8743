"""/ws/voicechat/<conversation_id>/: one voice conversation over a websocket.

Protocol (README "Websocket protocol"): JSON text frames
``start``/``text``/``interrupt``/``stop``/``ping`` and binary PCM16 16 kHz audio in;
``asr.partial``/``asr.final``, ``llm.token``/``llm.done``, ``tts.start``/binary
audio/``tts.end``, ``turn.metrics``, ``turn.interrupted`` and ``error`` out.

This is the protocol adapter: it admits the connection (owner, socket lease),
checks and dispatches frames, and gives the session its :class:`voicechat.turn.Port`
(:class:`SocketPort`: events and audio to the client, the conversation's messages).
The turns themselves live in voicechat.turn, the recogniser feed in
voicechat.hearing; the synthesis jobs' audio comes back to this connection's
channel as ``voice.tts`` messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from emotune.sockets import SocketLease
from emotune.websocket import (
    CLOSE_NOT_FOUND,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
    FrameGuard,
    GuardedFrames,
    language_activate,
    layer_receive,
)
from voicechat.hearing import Hearing
from voicechat.turn import Port, TurnContext, VoiceSession

logger = logging.getLogger(__name__)


class VoiceChatConsumer(GuardedFrames, AsyncWebsocketConsumer):
    # --- the channel layer, kept through a Redis restart --------------------------

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        """Channels sets this to the layer's receive; wrap it so that a Redis restart does not end the socket.

        Unwrapped, the error kills the consumer mid-turn and the answer is never
        saved. This socket joins no group, so nothing but in-flight audio is
        lost, and the TTS watchdog reports that to the user.
        """

        async def resilient():
            while True:
                try:
                    return await layer_receive(receive)
                except (OSError, RedisError) as exc:
                    logger.warning("channel layer unreachable (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(0.5)

        self._channel_receive = resilient

    # --- connection -------------------------------------------------------------

    async def connect(self) -> None:
        from voicechat.selectors import conversation_for_socket

        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        pk = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.conversation = await database_sync_to_async(conversation_for_socket)(user_id=user.pk, pk=pk)
        if self.conversation is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.guard = FrameGuard(max_bytes=settings.VOICE_MAX_FRAME_BYTES, per_second=settings.VOICE_MAX_MESSAGES_PER_SECOND)
        language_activate(self.scope)
        self.session = VoiceSession(SocketPort(self), user_id=user.pk, reply_to=self.channel_name)
        self.hearing = Hearing(self.session)
        await self.accept()
        limit = settings.VOICE_MAX_SOCKETS_PER_USER
        lease = SocketLease("voice", user.pk, self.channel_name, limit=limit)
        if not await asyncio.to_thread(lease.take):
            await self.error("too_many_sockets", _(
                "You already have %(n)d voice chats open. Close one, then reload this page.") % {"n": limit})
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.lease = lease
        self.session.tasks.spawn(self._keep_lease())

    async def _keep_lease(self) -> None:
        """Renew this socket's place while it lives (a dead process's place runs out by itself)."""
        while not self.session.closed:
            await asyncio.sleep(settings.SOCKET_LEASE_SECONDS / 3)
            await asyncio.to_thread(self.lease.take)

    async def disconnect(self, code: int) -> None:
        session = getattr(self, "session", None)
        if session is None:  # refused before it was accepted
            return
        session.closed = True
        if getattr(self, "lease", None) is not None:
            await asyncio.to_thread(self.lease.give_back)
        await session.interrupt(reason="disconnect")
        self.hearing.close()
        session.tasks.cancel()

    async def error(self, code: str, message: str) -> None:
        await self.session.error(code, message)

    # --- input (GuardedFrames checks each frame first) -------------------------------

    async def on_message(self, content) -> None:
        kind: Any = content.get("type") if isinstance(content, dict) else None  # any JSON value
        handler = {
            "start": self.on_start, "text": self.on_text, "interrupt": self.on_interrupt,
            "stop": self.on_stop, "ping": self.on_ping,
        }.get(kind) if isinstance(kind, str) else None  # a list or an object is no dict key
        if handler is None:
            await self.reject("bad_type", _("Unknown message type: %(type)s") % {"type": str(kind)[:40]})
            return
        await handler(content)

    async def on_ping(self, content: dict) -> None:
        await self.session.send_event("pong")

    async def on_start(self, content: dict) -> None:
        if content.get("format", "pcm16") != "pcm16" or content.get("sample_rate", 16000) not in (16000, None):
            await self.reject("bad_format", _("Send 16 kHz mono PCM16 audio."))
            return
        self.hearing.start()
        await self.session.send_event("listening")

    async def on_binary(self, data: bytes) -> None:
        """Binary frames are PCM16 audio for the recogniser."""
        if not self.hearing.started:
            await self.reject("not_started", _("Send a start message before audio."))
            return
        if len(data) % 2:
            await self.reject("bad_audio", _("Audio frames must hold whole 16-bit samples."))
            return
        if not self.hearing.audio(data):  # the recogniser fell behind by seconds: tell the client, drop the frame
            await self.error("asr_overloaded", _("Speech recognition is falling behind."))

    async def on_stop(self, content: dict) -> None:
        if self.hearing.started and not self.hearing.stop_utterance():
            await self.error("asr_overloaded", _("Speech recognition is falling behind."))

    async def on_interrupt(self, content: dict) -> None:
        await self.session.interrupt(reason="client")

    async def on_text(self, content: dict) -> None:
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self.reject("bad_text", _("A text turn needs non-empty text."))
            return
        await self.session.typed(text.strip()[:2000])

    # --- audio coming back from the synthesis jobs ----------------------------------

    async def voice_tts(self, message: dict) -> None:
        await self.session.tts_message(message)


class SocketPort(Port):
    """The session's way out: events and audio to this socket, messages of its conversation."""

    def __init__(self, consumer: VoiceChatConsumer) -> None:
        self.consumer = consumer

    @property
    def conversation(self):
        return self.consumer.conversation

    async def send_event(self, event: dict) -> None:
        await self.consumer.send(text_data=json.dumps(event))

    async def send_bytes(self, data: bytes) -> None:
        await self.consumer.send(bytes_data=data)

    async def save(self, *, message_id: int | None = None, **fields) -> int:
        from voicechat.services import message_add, message_update

        if message_id is not None:
            await database_sync_to_async(message_update)(message_id=message_id, **fields)
            return message_id
        message = await database_sync_to_async(message_add)(conversation=self.conversation, **fields)
        return message.pk

    async def context(self) -> TurnContext:
        from accounts.models import Preferences
        from voicechat.models import Conversation
        from voicechat.selectors import history_window

        def load():
            history, start = history_window(conversation=self.conversation, limit=settings.VOICE_HISTORY_MESSAGES)
            speaker = Preferences.objects.filter(user_id=self.consumer.user.pk).values_list("active_speaker_id", flat=True).first()
            careful = Conversation.objects.filter(pk=self.conversation.pk, careful_since__isnull=False).exists()
            return TurnContext(history=history, history_start=start, speaker_id=speaker, careful=careful)

        return await database_sync_to_async(load)()

    async def message_count(self) -> int:
        return await database_sync_to_async(self.conversation.messages.count)()

    async def title_write(self) -> str | None:
        from voicechat.services import conversation_title_write

        return await sync_to_async(conversation_title_write, thread_sensitive=False)(conversation_id=self.conversation.pk)
