from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from voicechat.models import Conversation, Message, Speaker


def conversation_list(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user)


def conversation_get(*, user, pk: int) -> Conversation:
    return get_object_or_404(Conversation, pk=pk, user=user)


def conversation_for_socket(*, user_id: int, pk: int) -> Conversation | None:
    """The conversation if ``user_id`` owns it, else None (websocket routes cannot 404)."""
    return Conversation.objects.filter(pk=pk, user_id=user_id).first()


def message_window(*, conversation: Conversation, limit: int = 20) -> list[Message]:
    """The last ``limit`` messages, oldest first (the LLM's context window)."""
    return list(reversed(conversation.messages.order_by("-created_at", "-id")[:limit]))


def history_window(*, conversation: Conversation, limit: int) -> tuple[list[Message], int]:
    """The LLM's context window and its place: how many messages of the conversation come before it."""
    history = message_window(conversation=conversation, limit=limit)
    return history, conversation.messages.count() - len(history)


def speaker_list(*, user) -> QuerySet[Speaker]:
    return Speaker.objects.filter(user=user)


def speaker_get(*, user, pk: int) -> Speaker:
    return get_object_or_404(Speaker, pk=pk, user=user)
