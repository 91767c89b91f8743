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
                telemetry: dict | None = None, language: str = "", model: str = "", voice: str = "") -> Message:
    """Persist one message (with its language, the model that produced it and, for an answer,
    the voice that spoke it); the first user message names an untitled conversation."""
    from voicechat.companion import title_from

    message = Message.objects.create(
        conversation=conversation, role=role, text=text, interrupted=interrupted, telemetry=telemetry or {},
        language=language[:8], model=model[:120], voice=voice[:120],
    )
    fields: dict[str, Any] = {"updated_at": timezone.now()}
    if role == Message.Role.USER and not conversation.title:
        fields["title"] = conversation.title = title_from(text)
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
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

    The same steps as a typed turn on the voice socket, without speech: the user's words are
    saved, the companion's answer streams from ``voicechat.companion.reply_stream`` over the
    conversation's recent history, and is saved when it ends (``interrupted`` with the text so
    far when ``stop`` is set: the client went away). Events: ``turn.start`` {message_id, text,
    language}, ``llm.token`` {text}, ``error`` {code, message}, ``llm.done`` {message_id},
    ``conversation.title`` {title} (once, after the first exchange).
    """
    import time

    from django.conf import settings

    from emotune.llm import LLMUnavailable
    from voicechat.companion import answer_model_name, prompt_messages, reply_stream
    from voicechat.language import detect_language
    from voicechat.selectors import history_window

    started = time.monotonic()
    language = detect_language(text)
    history, history_start = history_window(conversation=conversation, limit=settings.VOICE_HISTORY_MESSAGES)
    user_message = message_add(conversation=conversation, role=Message.Role.USER, text=text, language=language,
                               telemetry={"via": "api"})
    yield {"event": "turn.start", "message_id": user_message.pk, "text": text, "language": language}
    answer, error, first_token_ms = "", None, None
    room = settings.VOICE_MAX_ANSWER_CHARS  # a runaway endpoint must not fill this process
    try:
        for piece in reply_stream(prompt_messages(history=history, user_text=text, language=language,
                                                  history_start=history_start), stop=stop):
            if stop is not None and stop.is_set():
                break
            piece, room = piece[:room], room - len(piece)
            if first_token_ms is None:
                first_token_ms = round((time.monotonic() - started) * 1000)
            answer += piece
            yield {"event": "llm.token", "text": piece}
            if room <= 0:
                break
    except LLMUnavailable as exc:
        error = str(exc)
        yield {"event": "error", "code": "llm_unavailable",
               "message": _("The companion cannot answer right now (%(error)s).") % {"error": error}}
    telemetry = {"via": "api", "llm_first_token_ms": first_token_ms,
                 "total_ms": round((time.monotonic() - started) * 1000)}
    if error:
        telemetry["error"] = error
    interrupted = bool(stop is not None and stop.is_set())
    answer_message = message_add(conversation=conversation, role=Message.Role.ASSISTANT, text=answer,
                                 interrupted=interrupted, telemetry=telemetry, language=language,
                                 model=answer_model_name())
    yield {"event": "llm.done", "message_id": answer_message.pk, "interrupted": interrupted}
    if not error and not interrupted and conversation.messages.count() == 2:
        title = conversation_title_write(conversation_id=conversation.pk)
        if title:
            yield {"event": "conversation.title", "title": title}
