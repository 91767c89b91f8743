"""API endpoints of the emotion app: upload a photo or video, follow its reading, read the result."""


import mimetypes
from datetime import datetime
from pathlib import Path

from django.http import Http404
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from emotion.media import MediaError
from emotion.models import Emotion, EmotionReading
from emotion.selectors import reading_get, reading_list
from emotion.services import reading_create
from emotune.logbook import client_ip
from emotune.media import safe_file_response
from emotune.ratelimit import rate_limit_enforce

router = Router(tags=["readings"])


class ReadingOut(Schema):
    id: int
    source: str
    status: str
    progress: float
    note: str
    error: str
    emotion: str
    uncertain: bool
    face_found: bool | None
    confidence: float | None
    scores: dict[str, float]
    face_box: dict | None
    timeline: list[dict]
    frames_analysed: int
    media_seconds: float | None
    engine: str
    model_name: str
    media_url: str
    created_at: datetime

    @staticmethod
    def resolve_note(obj: EmotionReading) -> str:
        return obj.progress_note

    @staticmethod
    def resolve_media_url(obj: EmotionReading) -> str:
        return reverse("api:reading_media", kwargs={"pk": obj.pk}) if obj.media else ""


class ReadingFilter(Schema):
    emotion: Emotion | None = None
    source: EmotionReading.Source | None = None


@router.get("", response=list[ReadingOut], summary="Your readings, newest first")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def readings(request, filters: Query[ReadingFilter]):
    return reading_list(user=request.user, emotion=filters.emotion, source=filters.source)


@router.post("", response={201: ReadingOut}, summary="Upload a photo or short video to be read")
def reading_new(request, media: File[UploadedFile], webcam: Form[bool] = False):
    """The file is judged by its content (JPEG, PNG, WebP photo; MP4, WebM, MOV video of up to a
    minute). The reading runs as a job: poll ``GET /readings/{id}`` until ``status`` is final."""
    from django.core.exceptions import ValidationError

    rate_limit_enforce("upload", request.user.pk)
    try:
        reading = reading_create(user=request.user, upload=media, webcam=webcam, ip=client_ip(request))
    except MediaError as exc:
        raise ValidationError({"media": [str(exc)]}) from exc
    return Status(201, reading)


@router.get("/{int:pk}", response=ReadingOut, summary="One reading: status while it runs, the result once done")
def reading_detail(request, pk: int):
    return reading_get(user=request.user, pk=pk)


@router.get("/{int:pk}/media", url_name="reading_media", summary="The photo or video that was read",
            response={200: None}, openapi_extra={"responses": {200: {"description": "The stored file", "content": {
                "image/jpeg": {}, "image/png": {}, "image/webp": {}, "video/mp4": {}, "video/webm": {}}}}})
def reading_media(request, pk: int):
    reading = reading_get(user=request.user, pk=pk)
    if not reading.media:
        raise Http404
    name = reading.media.name or ""
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return safe_file_response(reading.media.open("rb"), content_type=content_type, as_attachment=False,
                              filename=f"emotune-reading-{reading.pk}{Path(name).suffix}")
