from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

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


# --- journeys, check-ins, mood history --------------------------------------------------


def journey_get(*, user, pk: int):
    from music.models import Journey

    return get_object_or_404(Journey, pk=pk, user=user)


def journey_list(*, user, since=None) -> QuerySet:
    from music.models import Journey

    qs = Journey.objects.filter(user=user)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.prefetch_related("checkins")


def checkins_for_journey(*, user, journey) -> dict:
    """{"before": CheckIn | None, "after": CheckIn | None} of the user's journey."""
    found = {c.moment: c for c in journey.checkins.filter(user=user)}
    return {"before": found.get("before"), "after": found.get("after")}


def _closeness(point, target: str) -> float:
    """How close a mood is to a target, 0–100 (100: there)."""
    from music.journeys import distance, target_point

    return round(100 * max(0.0, 1 - distance(point, target_point(target)) / 2 ** 1.5), 1)


def _reading_labels(readings: list[dict]) -> None:
    """Each reading's x-axis label, distinct and readable: ["12-07", "21:30"], with seconds where two readings share
    a minute, and the reading's number where they share a second too."""
    minutes: dict[str, int] = {}
    for r in readings:
        minutes[r["at"][:16]] = minutes.get(r["at"][:16], 0) + 1
    seen: set[tuple[str, str]] = set()
    for r in readings:
        day, time = r["at"][5:10], r["at"][11:19] if minutes[r["at"][:16]] > 1 else r["at"][11:16]
        if (day, time) in seen:
            time = f"{time} #{r['id']}"
        seen.add((day, time))
        r["label"] = [day, time]


def mood_history(*, user, since=None) -> dict:
    """The mood page's data: before/after per journey, readings over time, what helped most."""
    from emotion.selectors import felt_readings
    from emotune.labels import emotion_label, mood_label
    from music.journeys import MOODS, checkin_improvement, mood_point

    sessions: list[dict] = []
    by_target: dict[str, list] = {}
    by_style: dict[str, list] = {}
    for journey in journey_list(user=user, since=since).order_by("created_at", "id"):
        pair = {c.moment: c for c in journey.checkins.all()}
        if "before" not in pair or "after" not in pair:
            continue
        before = mood_point(pair["before"].mood, pair["before"].intensity)
        after = mood_point(pair["after"].mood, pair["after"].intensity)
        improvement = checkin_improvement(before=before, after=after, target=journey.target)
        sessions.append({
            "id": journey.pk, "date": journey.created_at.date().isoformat(), "target": journey.target,
            "label": f"#{journey.pk} {journey.created_at:%m-%d} → {journey.get_target_display()}",
            "before": _closeness(before, journey.target), "after": _closeness(after, journey.target),
            "before_mood": pair["before"].mood, "after_mood": pair["after"].mood, "improvement": improvement,
            "before_mood_label": mood_label(pair["before"].mood), "after_mood_label": mood_label(pair["after"].mood),
            "style": journey.style, "stars": journey.stars,
        })
        # how many points closer to the target (the closeness scale of the before/after chart, 0–100)
        gain = sessions[-1]["after"] - sessions[-1]["before"]
        for table, key in ((by_target, str(journey.get_target_display())), (by_style, journey.style or "—")):
            table.setdefault(key, []).append((improvement, gain))

    def ranked(table: dict) -> list[dict]:
        rows = [{"name": k, "mean": round(sum(i for i, _ in v) / len(v), 3),
                 "gain": round(sum(g for _, g in v) / len(v), 1), "count": len(v)} for k, v in table.items()]
        return sorted(rows, key=lambda r: (-r["mean"], -r["count"], r["name"]))

    # What the person felt: their own word where they corrected the reading.
    readings_qs = felt_readings(user=user)
    if since is not None:
        readings_qs = readings_qs.filter(created_at__gte=since)
    readings = [{"id": r.pk, "at": timezone.localtime(r.created_at).isoformat(timespec="seconds"), "emotion": r.felt,
                 "emotion_label": emotion_label(r.felt),
                 "valence": MOODS.get(r.felt, (0, 0))[0], "arousal": MOODS.get(r.felt, (0, 0))[1],
                 "confidence": round(r.confidence or 0, 3)}
                for r in reversed(readings_qs.order_by("-created_at", "-id")[:500])]  # the latest 500
    _reading_labels(readings)
    return {"sessions": sessions, "readings": readings, "by_target": ranked(by_target), "by_style": ranked(by_style)}
