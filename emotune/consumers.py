from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from emotune.realtime import user_group


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """/ws/events/: the signed-in user's job progress and status, nobody else's."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, message: dict) -> None:
        await self.send_json(message["event"])

    async def user_close(self, message: dict) -> None:
        await self.close(code=message.get("code", 4403))
