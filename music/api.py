"""API endpoints of the music app: create a generation, follow its progress, fetch its files, rate it."""

import mimetypes
from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from pydantic import Field

from emotion.models import Emotion
from emotion.selectors import reading_get
from emotune.api_support import body_doc, body_of
from emotune.media import safe_file_response
from music import services
from music.models import MusicGeneration
from music.selectors import feedback_get, generation_get, generation_list, generation_queue_position

router = Router(tags=["generations"])

FILE_KINDS = ("audio", "audio_preview", "video")


class Params(Schema):
    """Rendering parameters; any left out take the studio's defaults (see the music studio page)."""

    engine: str | None = None
    model: str | None = None
    duration: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    temperature: float | None = None
    cfg_coef: float | None = None
    seed: int | None = None
    decoder: str | None = None
    video: bool | None = None
    use_suggested: bool | None = None


class GenerationIn(Schema):
    """Start from an emotion, one of your readings, your own words, or a complete English prompt."""

    emotion: Emotion | None = None
    reading_id: int | None = None
    description: str = Field("", max_length=2000)
    manual_prompt: str = Field("", max_length=600)
    params: Params = Field(default_factory=Params)


class GenerationOut(Schema):
    id: int
    status: str
    progress: float
    note: str
    error: str
    queue_position: int | None
    emotion: str
    reading_id: int | None
    description: str
    prompt_final: str
    prompt_path: str
    params: dict
    engine: str
    model_name: str
    duration: float | None
    sample_rate: int | None
    score: float | None
    files: dict[str, str]
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_note(obj: MusicGeneration) -> str:
        return obj.progress_note

    @staticmethod
    def resolve_queue_position(obj: MusicGeneration) -> int | None:
        return generation_queue_position(generation=obj)

    @staticmethod
    def resolve_files(obj: MusicGeneration) -> dict[str, str]:
        if obj.status != "succeeded":
            return {}
        return {kind: reverse("api:generation_file", kwargs={"pk": obj.pk, "kind": kind})
                for kind in FILE_KINDS if getattr(obj, kind)}


class HistoryFilter(Schema):
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = None
    emotion: Emotion | None = None
    engine: str | None = None
    q: str | None = Field(None, max_length=100)


class FeedbackIn(Schema):
    stars: int | None = Field(None, ge=1, le=5)
    liked: bool | None = None
    comment: str = Field("", max_length=1000)


class FeedbackOut(Schema):
    stars: int | None
    liked: bool | None
    comment: str


@router.get("", response=list[GenerationOut], summary="Your generations, newest first")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def generations(request, filters: Query[HistoryFilter]):
    return generation_list(user=request.user, **{k: v for k, v in filters.dict().items() if v})


@router.post("", response={201: GenerationOut}, summary="Create a generation (queued; poll it for progress)")
def generation_new(request, payload: GenerationIn):
    reading = None
    if payload.reading_id is not None:
        reading = reading_get(user=request.user, pk=payload.reading_id)  # 404: not yours
        if reading.status != "succeeded" or not reading.felt:
            raise ValidationError({"reading_id": ["That reading has no emotion to start from (not finished, "
                                                  "or no clear face)."]})
    if not (payload.emotion or reading or payload.description.strip() or payload.manual_prompt.strip()):
        raise ValidationError("Give an emotion or a reading_id, describe the music, or send a manual_prompt.")
    generation = services.generation_create(
        user=request.user, params=payload.params.dict(), emotion=payload.emotion or "",
        description=payload.description, manual_prompt=payload.manual_prompt, reading=reading,
    )
    return Status(201, generation)


@router.get("/{int:pk}", response=GenerationOut, summary="One generation: status, progress, files")
def generation_detail(request, pk: int):
    return generation_get(user=request.user, pk=pk)


@router.post("/{int:pk}/cancel", response=GenerationOut, summary="Cancel a queued generation")
def generation_cancel(request, pk: int):
    generation = generation_get(user=request.user, pk=pk)
    services.generation_cancel(generation=generation)
    generation.refresh_from_db()
    return generation


@router.get("/{int:pk}/files/{kind}", url_name="generation_file", summary="Download a file (audio, audio_preview, video)",
            response={200: None}, openapi_extra={"responses": {200: {"description": "The file", "content": {
                "audio/wav": {}, "audio/mpeg": {}, "video/mp4": {}}}}})
def generation_file(request, pk: int, kind: Literal["audio", "audio_preview", "video"]):
    generation = generation_get(user=request.user, pk=pk)
    field = getattr(generation, kind)
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    return safe_file_response(field.open("rb"), content_type=content_type, as_attachment=True,
                              filename=f"emotune-{generation.pk}{field.name[field.name.rfind('.'):]}")


@router.get("/{int:pk}/feedback", response={200: FeedbackOut, 404: None}, summary="Your rating of a generation")
def feedback_read(request, pk: int):
    feedback = feedback_get(user=request.user, generation=generation_get(user=request.user, pk=pk))
    if feedback is None:
        raise Http404
    return feedback


@router.put("/{int:pk}/feedback", response=FeedbackOut, summary="Rate a finished generation (nudges your taste)",
            openapi_extra=body_doc(FeedbackIn))
def feedback_put(request, pk: int):
    generation = generation_get(user=request.user, pk=pk)
    payload = body_of(request, FeedbackIn)
    if generation.status != "succeeded":
        raise ValidationError("Only finished music can be rated.")
    return services.feedback_set(user=request.user, generation=generation, stars=payload.stars,
                                 liked=payload.liked, comment=payload.comment)
