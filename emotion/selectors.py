from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from emotion.models import EmotionReading


def reading_list(*, user, emotion: str | None = None, source: str | None = None) -> QuerySet[EmotionReading]:
    qs = EmotionReading.objects.filter(user=user)
    if emotion:
        qs = qs.filter(emotion=emotion)
    if source:
        qs = qs.filter(source=source)
    return qs


def reading_get(*, user, pk: int) -> EmotionReading:
    """The user's reading, or 404 (another user's reading does not exist for them)."""
    return get_object_or_404(EmotionReading, pk=pk, user=user)


def felt_readings(*, user) -> QuerySet[EmotionReading]:
    """The user's finished readings that name an emotion to start from: what was read, or the
    person's own word where they corrected it (EmotionReading.felt)."""
    return EmotionReading.objects.filter(user=user, status="succeeded").exclude(emotion="", corrected_emotion="")


def corrected_photos() -> QuerySet[EmotionReading]:
    """Photo readings whose owners said which emotion was right: labels for the calibration fit
    (bench/emotion_calibrate.py --corrections). Videos are left out (no single frame is labelled)."""
    return EmotionReading.objects.exclude(corrected_emotion="").exclude(source=EmotionReading.Source.VIDEO)
