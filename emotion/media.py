"""Upload validation by content: what a file is, never what its name or Content-Type say.

An image must decode with Pillow within a pixel cap (decompression bombs) and
is re-encoded before it is stored; a video must carry an MP4/MOV or WebM
signature, open and decode with OpenCV, stay within the pixel and length caps.
Anything else raises :class:`MediaError` with a message for the user.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _


class MediaError(ValueError):
    """The upload is not something we read; the message is for the user."""


@dataclass
class CheckedMedia:
    kind: str  # "image" or "video"
    extension: str  # ".jpg", ".mp4", ".webm", ".mov"
    content: bytes | None = None  # re-encoded image bytes
    temp_path: Path | None = None  # validated video, to be moved into storage
    width: int = 0
    height: int = 0
    seconds: float | None = None

    def discard(self) -> None:
        if self.temp_path is not None:
            self.temp_path.unlink(missing_ok=True)


# A name may leave the extension out (browser blobs); one that names another kind of file is refused.
EXTENSIONS = {
    "image": {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".mpo"},
    "video": {".mp4", ".m4v", ".mov", ".qt", ".webm", ".mkv"},
}


def _name_check(name: str | None, kind: str) -> None:
    suffix = Path(name or "").suffix.lower()
    if suffix and suffix not in EXTENSIONS[kind]:
        message = _("The file name ends in %(ext)s, but the file is a photo.") if kind == "image" else \
            _("The file name ends in %(ext)s, but the file is a video.")
        raise MediaError(message % {"ext": suffix[:12]})


def _video_extension(head: bytes) -> str | None:
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm"  # EBML (Matroska/WebM)
    if head[4:8] == b"ftyp":
        return ".mov" if head[8:10] == b"qt" else ".mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return ".mov"  # old QuickTime files start with an atom other than ftyp
    return None


def media_check(upload) -> CheckedMedia:
    """Validate an uploaded file (Django UploadedFile or any binary file object)."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
    if not size:
        raise MediaError(_("The file is empty."))
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    name = getattr(upload, "name", None)
    if extension := _video_extension(head):
        _name_check(name, "video")
        return _video_check(upload, size, extension)
    if size > settings.EMOTION_IMAGE_MAX_BYTES:
        raise MediaError(_("The image is larger than %(mb)s MB.") % {"mb": settings.EMOTION_IMAGE_MAX_BYTES // 2**20})
    checked = _image_check(upload.read())
    _name_check(name, "image")
    return checked


def _image_check(data: bytes) -> CheckedMedia:
    from PIL import Image, ImageOps

    max_pixels = settings.EMOTION_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            fmt, (w, h) = probe.format, probe.size
    except Image.DecompressionBombError as err:
        raise MediaError(_("The image has far too many pixels; the limit is %(mp)s megapixels.")
                         % {"mp": max_pixels // 1_000_000}) from err
    except Exception as err:
        raise MediaError(_("This file is neither a photo (JPEG, PNG, WebP) nor a video (MP4, WebM, MOV) we can read.")) from err
    if fmt not in ("JPEG", "PNG", "WEBP", "MPO"):
        raise MediaError(_("Photos must be JPEG, PNG or WebP."))
    if w * h > max_pixels:
        raise MediaError(_("The image is too large (%(w)s×%(h)s pixels); the limit is %(mp)s megapixels.")
                         % {"w": w, "h": h, "mp": max_pixels // 1_000_000})
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()  # a truncated or corrupt file fails here
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except Exception as err:
        raise MediaError(_("The image is damaged or incomplete and cannot be read.")) from err
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)  # re-encoded: nothing of the original bytes is kept
    return CheckedMedia("image", ".jpg", content=out.getvalue(), width=image.width, height=image.height)


def _video_check(upload, size: int, extension: str) -> CheckedMedia:

    if size > settings.EMOTION_VIDEO_MAX_BYTES:
        raise MediaError(_("The video is larger than %(mb)s MB.") % {"mb": settings.EMOTION_VIDEO_MAX_BYTES // 2**20})
    fd, name = tempfile.mkstemp(suffix=extension, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
                out.write(chunk)
        info = video_probe(path)
    except MediaError:
        path.unlink(missing_ok=True)
        raise
    except Exception as err:
        path.unlink(missing_ok=True)
        raise MediaError(_("The video cannot be read.")) from err
    return CheckedMedia("video", extension, temp_path=path, width=info["width"], height=info["height"],
                        seconds=info["seconds"])


def video_probe(path: Path) -> dict:
    """Width, height, fps and length of a video that OpenCV decodes; MediaError otherwise."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MediaError(_("The video cannot be read: it is not an MP4, WebM or MOV video we can decode."))
        declared = capture.get(cv2.CAP_PROP_FRAME_WIDTH) * capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        if declared > settings.EMOTION_MAX_PIXELS:  # refuse before a frame of that size is decoded
            raise MediaError(_("The video frames are too large."))
        ok, frame = capture.read()
        if not ok or frame is None:
            raise MediaError(_("The video has no frame we can decode."))
        h, w = frame.shape[:2]
        if w * h > settings.EMOTION_MAX_PIXELS:
            raise MediaError(_("The video frames are too large."))
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        frames = capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0
        if fps <= 0 or fps > 1000:
            raise MediaError(_("The video has no usable frame rate."))
        seconds = frames / fps if frames > 0 else _count_seconds(capture, fps)
    finally:
        capture.release()
    limit = settings.EMOTION_VIDEO_MAX_SECONDS
    if seconds > limit + 0.5:
        raise MediaError(_("The video is %(s).0f s long; the limit is %(limit)s s.") % {"s": seconds, "limit": limit})
    return {"width": w, "height": h, "fps": fps, "seconds": round(seconds, 3)}


def _count_seconds(capture, fps: float) -> float:
    """WebM from browsers often has no frame count in its header: count, but stop past the cap."""
    count, cap_frames = 1, int((settings.EMOTION_VIDEO_MAX_SECONDS + 1) * fps) + 1
    while count <= cap_frames and capture.grab():
        count += 1
    return count / fps
