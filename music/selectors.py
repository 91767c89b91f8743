from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from emotune.models import JobStatus
from music.models import Feedback, MusicGeneration


def generation_list(*, user, status: str | None = None, emotion: str | None = None, engine: str | None = None,
                    q: str | None = None) -> QuerySet[MusicGeneration]:
    qs = MusicGeneration.objects.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    if emotion:
        qs = qs.filter(emotion=emotion)
    if engine:
        qs = qs.filter(engine=engine)
    if q:
        qs = qs.filter(Q(description__icontains=q) | Q(prompt_final__icontains=q))
    return qs.select_related("reading")


def generation_get(*, user, pk: int) -> MusicGeneration:
    return get_object_or_404(MusicGeneration, pk=pk, user=user)


def feedback_get(*, user, generation: MusicGeneration) -> Feedback | None:
    return Feedback.objects.filter(user=user, generation=generation).first()


def generation_queue_position(*, generation: MusicGeneration) -> int | None:
    """1 = next to run. Counts every user's queued generations: they share the gpu queue."""
    if generation.status != JobStatus.QUEUED:
        return None
    ahead = MusicGeneration.objects.filter(status=JobStatus.QUEUED).filter(
        Q(created_at__lt=generation.created_at) | Q(created_at=generation.created_at, pk__lt=generation.pk)
    )
    return ahead.count() + 1
