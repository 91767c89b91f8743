from django.urls import path

from voicechat.consumers import VoiceChatConsumer

websocket_urlpatterns = [
    path("ws/voicechat/<int:conversation_id>/", VoiceChatConsumer.as_asgi()),
]
