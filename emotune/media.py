"""Uploaded and generated media, served to their owner only.

Files are stored under generated names; this view still checks that the file
belongs to a row of the signed-in user (staff see all), and serves it so that a
browser never runs it: a fixed content type from a short list of media types,
``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import models
from django.http import FileResponse, Http404


def media_models() -> list:
    """Models whose rows own media files: those that say ``holds_media = True``, in
    INSTALLED_APPS order (readings and music first, voices last)."""
    return [model for model in apps.get_models() if getattr(model, "holds_media", False)]


def media_fields(model) -> list[str]:
    return [f.name for f in model._meta.fields if isinstance(f, models.FileField)]


SAFE_TYPES = {
    "image/jpeg", "image/png", "image/webp",
    "audio/wav", "audio/x-wav", "audio/mpeg", "audio/ogg", "audio/opus", "audio/webm",
    "video/mp4", "video/webm", "video/quicktime", "application/json",
}


def _owned(user, name: str) -> bool:
    if user.is_staff:
        return True
    return any(
        model.objects.filter(user=user, **{field: name}).exists()
        for model in media_models() for field in media_fields(model)
    )


@login_required
def media_serve(request, path: str):
    """A stored file from the media storage (MEDIA_ROOT or the shared bucket), to its owner."""
    if not _owned(request.user, path):
        raise Http404("No such file")
    try:
        if not default_storage.exists(path):
            raise Http404("No such file")
        fh = default_storage.open(path, "rb")
    except (SuspiciousFileOperation, ValueError, IsADirectoryError):  # outside the storage, a folder
        raise Http404("No such file") from None
    filename = PurePosixPath(path).name
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return safe_file_response(fh, content_type=content_type, as_attachment=request.GET.get("download") == "1",
                              filename=filename)


def safe_file_response(fh, *, content_type: str, as_attachment: bool, filename: str) -> FileResponse:
    """A file answer a browser will neither sniff into another type nor run as a page."""
    if content_type not in SAFE_TYPES:
        content_type, as_attachment = "application/octet-stream", True
    response = FileResponse(fh, content_type=content_type, as_attachment=as_attachment, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
