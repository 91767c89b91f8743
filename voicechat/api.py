"""API endpoints of the voice companion.

``router`` (under ``/api/v1/``): conversations and their messages (a typed turn answered as
Server-Sent Events), speakers (voices). ``audio_router`` (under ``/v1/audio/``): the
OpenAI-compatible ``speech`` and ``transcriptions`` endpoints, spoken and heard by the
companion's own engines (``voicechat/speech.py``).
"""

import threading
from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile as DjangoUploadedFile
from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from pydantic import Field

from accounts.models import Preferences
from emotune.api_support import body_doc, body_of
from emotune.jobs import JobError
from emotune.ratelimit import rate_limit_enforce
from voicechat import services, speech
from voicechat.forms import SpeakerForm
from voicechat.models import Message, Speaker
from voicechat.selectors import conversation_get, conversation_list, speaker_get, speaker_list

router = Router(tags=["conversations"])
audio_router = Router(tags=["audio (OpenAI-compatible)"])
models_router = Router(tags=["audio (OpenAI-compatible)"])


# --- conversations --------------------------------------------------------------------


class ConversationOut(Schema):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime


class ConversationIn(Schema):
    title: str = Field("", max_length=120)


class RenameIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)


class MessageOut(Schema):
    id: int
    role: str
    text: str
    interrupted: bool
    language: str
    model: str
    voice: str
    crisis: bool = Field(description="A user message recognised as a crisis, or an answer the answer screen stopped")
    created_at: datetime


class TurnIn(Schema):
    text: str = Field(..., min_length=1, max_length=2000)


@router.get("/conversations", response=list[ConversationOut], summary="Your conversations, most recent first")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def conversations(request):
    return conversation_list(user=request.user)


@router.post("/conversations", response={201: ConversationOut}, summary="Start a conversation")
def conversation_new(request, payload: ConversationIn):
    return Status(201, services.conversation_create(user=request.user, title=payload.title.strip()))


@router.get("/conversations/{int:pk}", response=ConversationOut, summary="One conversation")
def conversation_detail(request, pk: int):
    return conversation_get(user=request.user, pk=pk)


@router.patch("/conversations/{int:pk}", response=ConversationOut, summary="Rename a conversation",
              openapi_extra=body_doc(RenameIn))
def conversation_rename(request, pk: int):
    conversation = conversation_get(user=request.user, pk=pk)
    payload = body_of(request, RenameIn)
    if not payload.title.strip():
        raise ValidationError({"title": ["A title needs at least one visible character."]})
    return services.conversation_rename(conversation=conversation, title=payload.title)


@router.post("/conversations/{int:pk}/clear", response=ConversationOut, summary="Delete every message, keep the conversation")
def conversation_clear(request, pk: int):
    conversation = conversation_get(user=request.user, pk=pk)
    services.conversation_clear(conversation=conversation)
    return conversation


@router.delete("/conversations/{int:pk}", response={204: None}, summary="Delete a conversation and its messages")
def conversation_delete(request, pk: int):
    services.conversation_delete(conversation=conversation_get(user=request.user, pk=pk))
    return Status(204, None)


@router.get("/conversations/{int:pk}/messages", response=list[MessageOut], summary="Messages, oldest first")
@paginate(PageNumberPagination, page_size=50, max_page_size=200)
def messages(request, pk: int):
    return Message.objects.filter(conversation=conversation_get(user=request.user, pk=pk)).order_by("created_at", "id")


@router.post(
    "/conversations/{int:pk}/messages", summary="Send a typed turn; the answer streams as Server-Sent Events",
    response={200: None},
    openapi_extra={**body_doc(TurnIn), "responses": {200: {"description": (
        "`text/event-stream`: `turn.start` {message_id, text, language, crisis}, `care.crisis` {message_id, reason, "
        "resources: [{name, contact, note}]} (then the safe answer's text), `llm.token` {text} (many; each a piece "
        "that passed the answer screen), `error` {code, message}, `llm.done` {message_id, interrupted}, "
        "`conversation.title` {title}"),
        "content": {"text/event-stream": {"schema": {"type": "string"}}}}}},
)
def turn(request, pk: int):
    from emotune.api_support import event_stream

    conversation = conversation_get(user=request.user, pk=pk)
    text = body_of(request, TurnIn).text.strip()
    if not text:
        raise ValidationError({"text": ["A turn needs non-empty text."]})
    stop = threading.Event()
    return event_stream(services.text_turn(conversation=conversation, text=text, stop=stop), stop=stop)


# --- speakers -------------------------------------------------------------------------

speakers_router = Router(tags=["speakers"])
router.add_router("/speakers", speakers_router)


class SpeakerOut(Schema):
    id: int
    name: str
    transcript: str
    reference_seconds: float
    active: bool
    created_at: datetime

    @staticmethod
    def resolve_active(obj: Speaker, context) -> bool:
        return obj.pk == context["request"].active_speaker_id


def _with_active(request) -> None:
    request.active_speaker_id = Preferences.objects.filter(user=request.user).values_list(
        "active_speaker_id", flat=True).first()


@speakers_router.get("", response=list[SpeakerOut], summary="Your voices (at most three)")
def speakers(request):
    _with_active(request)
    return list(speaker_list(user=request.user))


@speakers_router.post("", response={201: SpeakerOut}, summary="Add a voice from a 3-30 s reference clip")
def speaker_new(request, reference: File[UploadedFile], name: Form[str], transcript: Form[str] = "",
                consent: Form[bool] = False):
    """``transcript`` left empty is filled in by speech recognition; ``consent`` must be true
    (you are this person or have their permission)."""
    from emotune.api_support import form_errors

    rate_limit_enforce("upload", request.user.pk)
    files: MultiValueDict[str, DjangoUploadedFile] = MultiValueDict({"reference": [reference]})
    form = SpeakerForm({"name": name, "transcript": transcript, "consent": consent}, files)
    if not form.is_valid():
        raise form_errors(form)
    try:
        speaker = services.speaker_create_from_clip(
            user=request.user, name=form.cleaned_data["name"], samples=form.samples,
            transcript=form.cleaned_data["transcript"], consent=form.cleaned_data["consent"])
    except IntegrityError as exc:
        raise ValidationError({"name": ["You already have a voice with this name."]}) from exc
    except JobError as exc:
        raise ValidationError(str(exc)) from exc
    _with_active(request)
    return Status(201, speaker)


@speakers_router.post("/{int:pk}/activate", response=SpeakerOut, summary="Make this the voice that speaks")
def speaker_activate(request, pk: int):
    speaker = speaker_get(user=request.user, pk=pk)
    services.speaker_activate(speaker=speaker)
    _with_active(request)
    return speaker


@speakers_router.delete("/{int:pk}", response={204: None}, summary="Delete a voice and its clip")
def speaker_delete(request, pk: int):
    services.speaker_delete(speaker=speaker_get(user=request.user, pk=pk))
    return Status(204, None)


# --- OpenAI-compatible audio ----------------------------------------------------------


class SpeechIn(Schema):
    model: str = Field(..., min_length=1, max_length=100, description="Any name (tts-1, …): the companion's engine speaks")
    input: str = Field(..., min_length=1, max_length=speech.MAX_INPUT_CHARS)
    voice: str | dict = Field(..., description=(
        "One of your voices by name (or `speaker:<id>`), or a built-in voice: `auto` (the text's language), "
        "`en`, `zh`; OpenAI's voice names (alloy, nova, …) speak as `auto`."))
    response_format: Literal["wav", "mp3", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=1.0, le=1.0, description="Only 1.0: the engines speak at their own pace")
    instructions: str | None = Field(None, max_length=4096, description="Accepted and ignored")
    stream_format: Literal["audio"] | None = None


class TranscriptionOut(Schema):
    text: str
    language: str | None = None
    duration: float | None = None


@audio_router.post(
    "/speech", summary="Text to speech (OpenAI `audio.speech.create`), streamed", response={200: None},
    openapi_extra={"responses": {200: {"description": "Audio as it is synthesised; `X-Voice` names the voice that spoke",
                                       "content": {"audio/mpeg": {}, "audio/wav": {}, "audio/pcm": {}}}}},
)
async def audio_speech(request, payload: SpeechIn):
    """Sentence by sentence through the companion's synthesis jobs (the ``gpu`` queue; in this
    process in the embedded mode); each sentence counts against the spoken-reply rate limit.
    ``pcm`` is 24 kHz 16-bit mono little-endian, as OpenAI's; ``wav`` and ``mp3`` are at the
    engine's own rate."""
    from asgiref.sync import sync_to_async

    voice_id = payload.voice.get("id", "") if isinstance(payload.voice, dict) else payload.voice
    voice = await sync_to_async(speech.voice_resolve)(user=request.user, voice=str(voice_id), text=payload.input)
    return await speech.speech_response(user=request.user, text=payload.input, voice=voice,
                                        response_format=payload.response_format)


@audio_router.post("/transcriptions", response=TranscriptionOut,
                   summary="Speech to text (OpenAI `audio.transcriptions.create`)",
                   openapi_extra={"responses": {200: {"description": "JSON, or plain text with response_format=text"}}})
def audio_transcriptions(request, file: File[UploadedFile], model: Form[str] = "whisper-1",
                         language: Form[str] = "", prompt: Form[str] = "",
                         response_format: Form[Literal["json", "text", "verbose_json"]] = "json",
                         temperature: Form[float] = 0.0):
    """Heard by the companion's recogniser (Whisper by default) in its recogniser processes.
    ``language`` (ISO 639-1, e.g. ``en``, ``zh``) fixes the language; left out, the likeliest of
    the site's languages is chosen. ``prompt`` and ``temperature`` are accepted and ignored."""
    rate_limit_enforce("upload", request.user.pk)
    result = speech.transcribe_upload(upload=file, language=language.strip().lower())
    if response_format == "text":
        return HttpResponse(result["text"] + "\n", content_type="text/plain; charset=utf-8")
    if response_format == "verbose_json":
        return JsonResponse({"task": "transcribe", **result, "segments": []}, json_dumps_params={"ensure_ascii": False})
    return {"text": result["text"]}


# --- what the OpenAI-compatible API offers ---------------------------------------------

# The model names OpenAI clients send: any of them is spoken by the companion's engine or heard by
# its recogniser (the names choose nothing). ``created`` is when this API first offered them.
OPENAI_MODELS = {"tts-1": "speech", "tts-1-hd": "speech", "gpt-4o-mini-tts": "speech",
                 "whisper-1": "transcription", "gpt-4o-transcribe": "transcription",
                 "gpt-4o-mini-transcribe": "transcription"}
_MODELS_CREATED = 1764547200  # 2025-12-01


class ModelOut(Schema):
    id: str
    object: Literal["model"] = "model"
    created: int = _MODELS_CREATED
    owned_by: str = "emotune"
    task: str = Field(..., description="speech (`/v1/audio/speech`) or transcription (`/v1/audio/transcriptions`)")


class ModelsOut(Schema):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class VoiceOut(Schema):
    id: str = Field(..., description="What `voice` takes in `/v1/audio/speech`")
    name: str
    kind: Literal["builtin", "yours"]
    active: bool = False


class VoicesOut(Schema):
    object: Literal["list"] = "list"
    data: list[VoiceOut]


@models_router.get("", response=ModelsOut, summary="Models (OpenAI `models.list`)")
def models_list(request):
    return {"data": [{"id": name, "task": task} for name, task in OPENAI_MODELS.items()]}


@models_router.get("/{model}", response=ModelOut, summary="One model (OpenAI `models.retrieve`)")
def models_retrieve(request, model: str):
    if model not in OPENAI_MODELS:
        from django.http import Http404

        raise Http404
    return {"id": model, "task": OPENAI_MODELS[model]}


@audio_router.get("/voices", response=VoicesOut, summary="The voices `/v1/audio/speech` can speak in")
def audio_voices(request):
    """The built-in voices (``auto`` speaks the text's language; OpenAI's names such as ``alloy``
    speak as ``auto``) and your own voices by name, the active one marked."""
    _with_active(request)
    builtin = [{"id": name, "name": name, "kind": "builtin", "active": request.active_speaker_id is None and name == "auto"}
               for name in speech.BUILTIN_VOICES]
    yours = [{"id": f"speaker:{s.pk}", "name": s.name, "kind": "yours", "active": s.pk == request.active_speaker_id}
             for s in speaker_list(user=request.user)]
    return {"data": builtin + yours}
