"""Writes for emotion readings: create (validate, store, enqueue) and run (the job's work)."""

from __future__ import annotations

import uuid

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from emotion.media import CheckedMedia, MediaError, media_check
from emotion.models import EmotionReading
from emotune.jobs import JobError, job_enqueue
from emotune.logbook import log_write
from emotune.storage import local_path

__all__ = ["MediaError", "emotion_from_file", "reading_analyse", "reading_correct", "reading_create"]


def _stored_name(checked: CheckedMedia) -> str:
    return f"{uuid.uuid4().hex}{checked.extension}"  # never the user's file name


def reading_create(*, user, upload, webcam: bool = False, ip: str | None = None) -> EmotionReading:
    """Validate an upload by its content, store it under a generated name and enqueue its reading.

    Raises MediaError (nothing stored) when the file is not a photo or video we read.
    """
    try:
        checked = media_check(upload)
    except MediaError as exc:
        log_write(action="emotion.upload", status="failed", user_id=user.pk, message=str(exc), ip=ip)
        raise
    source = EmotionReading.Source.VIDEO if checked.kind == "video" else (
        EmotionReading.Source.WEBCAM if webcam else EmotionReading.Source.IMAGE)
    reading = EmotionReading(user=user, source=source, media_seconds=checked.seconds)
    try:
        if checked.content is not None:
            reading.media.save(_stored_name(checked), ContentFile(checked.content), save=False)
        else:
            assert checked.temp_path is not None  # a video: kept in a temporary file, not in memory
            with open(checked.temp_path, "rb") as fh:
                reading.media.save(_stored_name(checked), File(fh), save=False)
        with transaction.atomic():
            reading.save()
            job_enqueue(reading)
    except Exception:
        if reading.media.name:
            reading.media.storage.delete(reading.media.name)
        raise
    finally:
        checked.discard()
    log_write(action="emotion.upload", user_id=user.pk, message=f"{source} reading #{reading.pk} queued", ip=ip,
              detail={"bytes": upload.size if hasattr(upload, "size") else None, "stored": reading.media.name})
    return reading


def reading_analyse(*, reading: EmotionReading, progress=None) -> EmotionReading:
    """Read the stored media and save the outcome on the row."""
    from emotion.analysis import image_read, video_read

    if progress:
        progress(0.02, "loading model", force=True)
    try:
        with local_path(reading.media) as path:  # OpenCV reads a file on this machine
            if reading.source == EmotionReading.Source.VIDEO:
                result = video_read(str(path), progress=progress)
            else:
                result = image_read(str(path))
    except FileNotFoundError as exc:
        raise JobError(f"The emotion model is not available: {exc}") from exc
    for name, value in result.items():
        setattr(reading, name, value)
    reading.progress_note = _summary(reading)
    reading.save(update_fields=[*result.keys(), "progress_note"])
    return reading


def emotion_from_file(path: str) -> str:
    """The emotion a photo or video on disk shows, read as an upload would be (Python API, CLI).

    Raises JobError when the file is neither, or no face is found in it.
    """
    from emotion.analysis import image_read, video_read
    from emotion.media import _video_extension

    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise JobError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        result = video_read(path) if _video_extension(head) else image_read(path)
    except FileNotFoundError as exc:
        raise JobError(f"The emotion model is not available: {exc}") from exc
    except ValueError as exc:  # not an image OpenCV can decode
        raise JobError(f"{path} is not a photo or video emotune can read.") from exc
    if not result.get("face_found"):
        raise JobError(f"No face was found in {path}; pass an emotion instead.")
    return result["emotion"]


def _summary(reading: EmotionReading) -> str:
    if not reading.face_found:
        return "no face found"
    if reading.uncertain:
        return "uncertain"
    return f"{reading.emotion} ({reading.confidence:.0%})"


def reading_correct(*, reading: EmotionReading, emotion: str) -> EmotionReading:
    """Record what the person says they feel for a finished reading with a face: the emotion
    music is made from, and a label for the next calibration fit (bench/emotion_calibrate.py
    --corrections). ValidationError for an unknown emotion or a reading that has none to correct."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from emotion.models import EMOTIONS
    from emotune.logbook import event_record
    from emotune.models import JobStatus

    if emotion not in EMOTIONS:
        raise ValidationError({"emotion": [f"Choose one of: {', '.join(EMOTIONS)}."]})
    if reading.status != JobStatus.SUCCEEDED or not reading.face_found:
        raise ValidationError({"emotion": ["Only a finished reading with a face can be corrected."]})
    reading.corrected_emotion, reading.corrected_at = emotion, timezone.now()
    reading.save(update_fields=["corrected_emotion", "corrected_at"])
    # No photo and no words in the event: what was read, what the person said.
    event_record(kind="emotion.corrected", user_id=reading.user_id, subject=reading,
                 data={"read": reading.emotion, "uncertain": reading.uncertain, "said": emotion})
    return reading
