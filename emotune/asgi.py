"""ASGI entry point: HTTP through Django, websockets through Channels (daphne)."""

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from emotune.backends import backend  # noqa: E402
from emotune.routing import websocket_urlpatterns  # noqa: E402
from emotune.websocket import SlowReaderGuard  # noqa: E402


def _websocket_routes():
    from voicechat.routing import websocket_urlpatterns as voice_routes

    return websocket_urlpatterns + voice_routes


def _warmup() -> None:
    from django.conf import settings

    from emotune.warmup import warmup_start, warmup_steps

    if settings.ENGINE_WARMUP:
        warmup_start(warmup_steps("server"))


_warmup()

_router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SlowReaderGuard(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(_websocket_routes())))),
    }
)


async def application(scope, receive, send):
    # Embedded mode runs jobs on this server's event loop (see emotune.backends).
    if scope["type"] != "lifespan":
        backend().bind(asyncio.get_running_loop())
    return await _router(scope, receive, send)
