from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from emotune.realtime import user_group
from emotune.websocket import (
    CLOSE_BAD_FRAMES,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    CancellableLayerReceive,
    FrameGuard,
    language_activate,
)

# The page only ever sends small pings here.
MAX_FRAME_BYTES = 4096
MAX_MESSAGES_PER_SECOND = 20


class EventsConsumer(CancellableLayerReceive, AsyncWebsocketConsumer):
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

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    async def receive(self, text_data=None, bytes_data=None) -> None:
        refused = self.guard.admit(text_data, bytes_data)
        if refused:
            close_code, code, message = refused
            await self.send_json({"type": "error", "code": code, "message": message})
            await self.close(code=close_code)
            return
        if text_data is None:
            await self.reject("bad_type", _("This socket takes JSON text frames only."))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.reject("bad_json", _("Text frames must be JSON objects."))
            return
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.reject("bad_type", _("The only message this socket takes is ping."))
            return
        self.guard.good()
        await self.send_json({"type": "pong"})

    async def reject(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})
        if self.guard.bad():
            await self.close(code=CLOSE_BAD_FRAMES)

    async def user_event(self, message: dict) -> None:
        await self.send_json(message["event"])

    async def user_close(self, message: dict) -> None:
        await self.close(code=message.get("code", CLOSE_FORBIDDEN))
