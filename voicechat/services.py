from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Preferences, User
from emotune.jobs import JobError
from emotune.logbook import log_write
from voicechat.models import MAX_SPEAKERS_PER_USER, Conversation, Message, Speaker


class SpeakerLimitReached(JobError):
    pass


def speaker_create(*, user: User, name: str, reference, reference_seconds: float, transcript: str, consent: bool) -> Speaker:
    """Add a voice; at most MAX_SPEAKERS_PER_USER per user, checked under a lock on the user row."""
    if not consent:
        raise JobError(_("Please confirm that you have the right to use this voice."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if Speaker.objects.filter(user=user).count() >= MAX_SPEAKERS_PER_USER:
            raise SpeakerLimitReached(
                _("You already have %(n)d voices; delete one first.") % {"n": MAX_SPEAKERS_PER_USER}
            )
        speaker = Speaker(
            user=user,
            name=name,
            reference_seconds=reference_seconds,
            transcript=transcript,
            consent=True,
            consent_at=timezone.now(),
        )
        # A generated name: nothing of the uploaded one, never guessable from another.
        speaker.reference.save(f"{uuid.uuid4().hex}{Path(reference.name).suffix.lower()[:8]}", reference, save=False)
        speaker.save()
        prefs, _created = Preferences.objects.get_or_create(user=user)
        if prefs.active_speaker_id is None:
            prefs.active_speaker = speaker
            prefs.save(update_fields=["active_speaker", "updated_at"])
    log_write(action="speaker.create", user_id=user.pk, message=name, detail={"speaker": speaker.pk})
    return speaker


def speaker_activate(*, speaker: Speaker) -> None:
    prefs, _created = Preferences.objects.get_or_create(user=speaker.user)
    prefs.active_speaker = speaker
    prefs.save(update_fields=["active_speaker", "updated_at"])
    log_write(action="speaker.activate", user_id=speaker.user_id, message=speaker.name)


def speaker_delete(*, speaker: Speaker) -> None:
    user_id, name = speaker.user_id, speaker.name
    files = [(f.storage, f.name) for f in (speaker.reference, speaker.embedding) if f.name]
    speaker.delete()
    for storage, name in files:
        storage.delete(name)
    log_write(action="speaker.delete", user_id=user_id, message=name)


def conversation_create(*, user: User, title: str = "") -> Conversation:
    conversation = Conversation.objects.create(user=user, title=title[:120])
    log_write(action="conversation.create", user_id=user.pk, detail={"conversation": conversation.pk})
    return conversation


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip()[:120]
    conversation.save(update_fields=["title"])
    return conversation


def conversation_clear(*, conversation: Conversation) -> None:
    conversation.messages.all().delete()
    log_write(action="conversation.clear", user_id=conversation.user_id, detail={"conversation": conversation.pk})


def conversation_delete(*, conversation: Conversation) -> None:
    user_id, pk = conversation.user_id, conversation.pk
    conversation.delete()
    log_write(action="conversation.delete", user_id=user_id, detail={"conversation": pk})


def speaker_rename(*, speaker: Speaker, name: str) -> Speaker:
    speaker.name = name.strip()[:60]
    speaker.save(update_fields=["name"])
    return speaker


def message_add(*, conversation: Conversation, role: str, text: str, interrupted: bool = False,
                telemetry: dict | None = None, language: str = "", model: str = "", voice: str = "",
                crisis: bool = False, care_kind: str = "") -> Message:
    """Persist one message (with its language, the model that produced it and, for an answer,
    the voice that spoke it); the first user message names an untitled conversation.

    ``crisis``: the user's words were recognised as a crisis, or the answer screen stopped this
    answer (voicechat.answering). The conversation enters careful mode and an ops Event
    ``care.crisis`` records the fact, with no words of the message."""
    from emotune.logbook import event_record
    from voicechat.companion import title_from

    message = Message.objects.create(
        conversation=conversation, role=role, text=text, interrupted=interrupted, telemetry=telemetry or {},
        language=language[:8], model=model[:120], voice=voice[:120], crisis=crisis,
    )
    now = timezone.now()
    fields: dict[str, Any] = {"updated_at": now}
    if role == Message.Role.USER and not conversation.title:
        fields["title"] = conversation.title = title_from(text)
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    if crisis:
        Conversation.objects.filter(pk=conversation.pk, careful_since__isnull=True).update(careful_since=now)
        event_record(kind="care.crisis", user_id=conversation.user_id, subject=message, data={
            "conversation": conversation.pk, "message": message.pk, "role": role, "language": language[:8],
            "reason": "answer_screen" if role == Message.Role.ASSISTANT else "user_words",
            "kind": care_kind, "via": (telemetry or {}).get("via", "voice"),
        })
    return message


TITLE_PROMPT = (
    "You name conversations for a list. Answer with a JSON object {\"title\": \"...\"}: "
    "at most six words, in the language the user wrote in, no quotation marks, no final full stop."
)


def conversation_title_write(*, conversation_id: int) -> str | None:
    """After the first exchange, let the LLM name the conversation.

    The first user words already stand as its title (``message_add``); when no LLM
    is configured or it fails, that title stays. Returns the new title or None.
    """
    from emotune.llm import LLMUnavailable, chat_json, llm_configured

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not llm_configured():
        return None
    first = list(conversation.messages.order_by("created_at", "id")[:2])
    if len(first) < 2:
        return None
    exchange = "\n".join(f"{m.get_role_display()}: {m.text[:400]}" for m in first)
    try:
        answer = chat_json([{"role": "system", "content": TITLE_PROMPT}, {"role": "user", "content": exchange}], timeout=10)
    except LLMUnavailable:
        return None
    title = " ".join(str(answer.get("title", "")).split()).strip("\"'“”「」。.")[:120]
    if not title:
        return None
    Conversation.objects.filter(pk=conversation.pk).update(title=title)
    return title


def message_update(*, message_id: int, **fields) -> None:
    Message.objects.filter(pk=message_id).update(**fields)


def speaker_create_from_clip(*, user: User, name: str, samples, transcript: str, consent: bool) -> Speaker:
    """Store the clip resampled to 16 kHz mono WAV; an empty transcript is filled in by ASR."""
    from django.core.files.base import ContentFile

    from emotune.audio import audio_duration, float_to_pcm16, wav_bytes
    from voicechat.asr import recognizer_create

    if not transcript.strip():
        recognizer = recognizer_create()
        recognizer.accept(float_to_pcm16(samples))
        transcript = recognizer.finish()
        if not transcript:
            raise JobError(_("No speech was recognised in this clip; please type what is said."))
    clip = ContentFile(wav_bytes(samples), name=f"{uuid.uuid4().hex}.wav")  # never the user's file name
    return speaker_create(
        user=user, name=name.strip(), reference=clip, reference_seconds=round(audio_duration(samples), 2),
        transcript=transcript.strip(), consent=consent,
    )


def text_turn(*, conversation: Conversation, text: str, stop=None):
    """A typed turn answered as text, as events (dicts with an ``event`` name) while it streams.

    The same path as every companion turn (voicechat.answering: the crisis check, the careful
    prompt, the answer screen), without speech: the user's words are saved, the answer streams
    piece by piece once each piece has passed the screen, and is saved when it ends
    (``interrupted`` with the text so far when ``stop`` is set: the client went away). Events:
    ``turn.start`` {message_id, text, language, crisis}, ``care.crisis`` {message_id, reason,
    resources} (before the safe answer's text), ``llm.token`` {text}, ``error`` {code,
    message}, ``llm.done`` {message_id, interrupted}, ``conversation.title`` {title} (once,
    after the first exchange).
    """
    import threading
    import time

    from django.conf import settings

    from voicechat.answering import (
        SAFE_ANSWER_MARK,
        Crisis,
        Failure,
        FirstToken,
        Piece,
        answer_events,
        answer_record,
        turn_plan,
    )
    from voicechat.language import detect_language
    from voicechat.selectors import history_window

    started = time.monotonic()
    stop = stop or threading.Event()
    language = detect_language(text)
    history, history_start = history_window(conversation=conversation, limit=settings.VOICE_HISTORY_MESSAGES)
    plan = turn_plan(text=text, language=language, history=history, history_start=history_start,
                     careful=conversation.careful_since is not None)
    user_message = message_add(conversation=conversation, role=Message.Role.USER, text=text, language=language,
                               telemetry={"via": "api"}, crisis=plan.crisis is not None,
                               care_kind=plan.crisis.kind if plan.crisis else "")
    yield {"event": "turn.start", "message_id": user_message.pk, "text": text, "language": language,
           "crisis": user_message.crisis}
    answer, error, first_token_ms, care = "", "", None, None
    for event in answer_events(plan, stop=stop):
        if isinstance(event, FirstToken):
            first_token_ms = round((time.monotonic() - started) * 1000)
        elif isinstance(event, Crisis):
            care = event
            yield {"event": "care.crisis", "message_id": user_message.pk, "reason": event.reason,
                   "resources": event.resources_out()}
        elif isinstance(event, Piece):
            answer += event.text
            yield {"event": "llm.token", "text": event.text}
        elif isinstance(event, Failure):
            error = event.error
            yield {"event": "error", "code": event.code, "message": event.message}
    telemetry = {"via": "api", "llm_first_token_ms": first_token_ms, "total_ms": round((time.monotonic() - started) * 1000)}
    if error:
        telemetry["error"] = error
    if care is not None:
        telemetry["care"] = SAFE_ANSWER_MARK
    interrupted = stop.is_set() and care is None
    answer_message = message_add(
        conversation=conversation, role=Message.Role.ASSISTANT, text=answer, interrupted=interrupted, telemetry=telemetry,
        language=language, **answer_record(care))
    yield {"event": "llm.done", "message_id": answer_message.pk, "interrupted": interrupted}
    # A crisis turn's words are not sent to an LLM for a title (the first words stay the title).
    if not error and not interrupted and care is None and conversation.messages.count() == 2:
        title = conversation_title_write(conversation_id=conversation.pk)
        if title:
            yield {"event": "conversation.title", "title": title}
