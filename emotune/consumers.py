from __future__ import annotations

import asyncio
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from emotune.realtime import user_group
from emotune.sockets import SocketLease
from emotune.websocket import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    CancellableLayerReceive,
    FrameGuard,
    GuardedFrames,
    language_activate,
)

# The page only ever sends small pings here.
MAX_FRAME_BYTES = 4096
MAX_MESSAGES_PER_SECOND = 20


class EventsConsumer(GuardedFrames, CancellableLayerReceive, AsyncWebsocketConsumer):
    """/ws/events/: the signed-in user's job progress and status, nobody else's."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.guard = FrameGuard(max_bytes=MAX_FRAME_BYTES, per_second=MAX_MESSAGES_PER_SECOND)
        language_activate(self.scope)
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # No cap on these sockets; the lease only counts them (the sessions metric).
        self.lease = SocketLease("events", user.pk, self.channel_name, limit=None)
        self.lease_task = asyncio.ensure_future(self._keep_lease())

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.to_thread(self.lease.take)
            await asyncio.sleep(settings.SOCKET_LEASE_SECONDS / 3)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if hasattr(self, "lease_task"):
            self.lease_task.cancel()
            await asyncio.to_thread(self.lease.give_back)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def on_binary(self, data: bytes) -> None:
        await self.reject("bad_type", _("This socket takes JSON text frames only."))

    async def on_message(self, content) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.reject("bad_type", _("The only message this socket takes is ping."))
            return
        await self.send_json({"type": "pong"})

    async def user_event(self, message: dict) -> None:
        await self.send_json(message["event"])

    async def user_close(self, message: dict) -> None:
        await self.close(code=message.get("code", CLOSE_FORBIDDEN))
