"""Reads of the ops app: queues, workers, job statistics, engines, readiness."""

from __future__ import annotations

import importlib
import math
from datetime import timedelta
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from emotune.backends import backend
from emotune.jobs import job_models
from emotune.models import JobStatus
from ops.models import Event, SystemLog

# Statistics read at most this many job events per window, so a flood of jobs
# cannot make the dashboard slow (p50/p95 of the newest ones stay honest).
STATS_EVENT_CAP = 20_000


# --- Workers and queues -----------------------------------------------------------


def worker_list() -> list[dict]:
    """Live workers from their heartbeat keys (the worker deletes its key on exit, expiry covers crashes)."""
    return backend().worker_beats()


def queue_list() -> list[dict]:
    """Depth, oldest waiting job and registry sizes per queue, with links to django-rq's pages."""
    return [
        {**queue, "url": reverse("django_rq:jobs", args=[queue["index"]]),
         "failed_url": reverse("django_rq:failed_jobs", args=[queue["index"]])}
        for queue in backend().queue_stats()
    ]


# --- Job statistics -------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: an actual observed duration, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def job_stats(*, since: timedelta) -> list[dict]:
    """Per job type: succeeded/failed/cancelled counts and p50/p95 seconds from ``job.finished`` events."""
    cutoff = timezone.now() - since
    rows = (
        Event.objects.filter(kind="job.finished", created_at__gte=cutoff)
        .order_by("-created_at")
        .values_list("data", flat=True)[:STATS_EVENT_CAP]
    )
    by_type: dict[str, dict] = {}
    for data in rows:
        if not isinstance(data, dict):
            continue
        stats = by_type.setdefault(
            data.get("job") or "?", {"job": data.get("job") or "?", "succeeded": 0, "failed": 0, "cancelled": 0,
                                     "seconds": []}
        )
        outcome = data.get("outcome")
        if outcome in ("succeeded", "failed", "cancelled"):
            stats[outcome] += 1
        if outcome == "succeeded" and isinstance(data.get("seconds"), (int, float)):
            stats["seconds"].append(float(data["seconds"]))
    result = []
    for job in sorted(by_type):
        stats = by_type[job]
        seconds = stats.pop("seconds")
        stats["p50_s"] = percentile(seconds, 0.50)
        stats["p95_s"] = percentile(seconds, 0.95)
        result.append(stats)
    return result


def recent_failures(*, limit: int = 10) -> list[dict]:
    """The newest failed job rows of every job model, with their errors."""
    found = []
    for model in job_models():
        # Any: django-stubs' only() check crashes on the abstract JobRow (its user FK is unresolved there).
        objects: Any = model.objects
        rows = (
            objects.filter(status=JobStatus.FAILED)
            .select_related("user")
            .order_by("-created_at")
            .only("id", "user__username", "error", "created_at", "finished_at", "worker_name", "status")[:limit]
        )
        for row in rows:
            found.append({
                "model": model._meta.label_lower,
                "job": model.job_type,
                "id": row.pk,
                "user": row.user.get_username(),
                "error": row.error[:300],
                "worker": row.worker_name,
                "at": (row.finished_at or row.created_at).isoformat(),
                "admin_url": f"/admin/{model._meta.app_label}/{model._meta.model_name}/{row.pk}/change/",
            })
    found.sort(key=lambda f: f["at"], reverse=True)
    return found[:limit]


def dashboard_data() -> dict:
    """Everything the ops dashboard shows; each part fails alone (Redis down still shows the database side)."""
    data: dict = {"at": timezone.now().isoformat(), "backend": backend().name, "errors": {}}
    for key, read in (("queues", queue_list), ("workers", worker_list)):
        try:
            data[key] = read()
        except Exception as exc:  # noqa: BLE001 - shown on the page, not raised
            data[key] = []
            data["errors"][key] = type(exc).__name__
    data["stats"] = {"hour": job_stats(since=timedelta(hours=1)), "day": job_stats(since=timedelta(days=1))}
    data["failures"] = recent_failures()
    data["corrections"] = reading_corrections()
    return data


def reading_corrections() -> dict:
    """Readings whose owners said which emotion was right (labels for the next calibration fit):
    how many, in the last day and in all, and how many of them agreed with what was read."""
    from emotion.models import EmotionReading

    corrected = EmotionReading.objects.exclude(corrected_emotion="")
    return {"day": corrected.filter(corrected_at__gte=timezone.now() - timedelta(days=1)).count(),
            "all": corrected.count(), "agreed": corrected.filter(corrected_emotion=F("emotion")).count(),
            "admin_url": reverse("admin:emotion_emotionreading_changelist") + "?corrected_at__isnull=False"}


# --- Engines ----------------------------------------------------------------------------

ENGINE_KEYS = ("name", "kind", "active", "path", "present", "size_bytes", "note")


def engine_modules(*, only: list[str] | None = None) -> list[tuple[str, ModuleType]]:
    """``<app>/engines.py`` modules that offer ``engines_describe``; apps whose module is missing are skipped."""
    names = only or [config.name for config in apps.get_app_configs()]
    found = []
    for app in names:
        module_name = f"{app}.engines"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, app):  # not written yet; a broken import inside it still raises
                continue
            raise
        if callable(getattr(module, "engines_describe", None)):
            found.append((app, module))
    return found


def engine_list(*, only: list[str] | None = None) -> list[dict]:
    engines = []
    for app, module in engine_modules(only=only):
        for item in module.engines_describe():
            engines.append({"app": app, **{key: item.get(key) for key in ENGINE_KEYS}})
    return engines


# --- Readiness ------------------------------------------------------------------------------


def readiness() -> dict[str, dict]:
    """Checks behind /readyz. Values carry no secrets: no URLs, paths or messages, only names and error types."""
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if not backend().in_process:
        try:
            backend().ping()
            checks["redis"] = {"ok": True}
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
        served: set[str] = set()
        if checks["redis"]["ok"]:
            for worker in worker_list():
                served.update(worker.get("queues") or [])
        for queue in settings.RQ_QUEUES:
            checks[f"worker:{queue}"] = {"ok": queue in served}
    from emotune.warmup import warmup_state

    # This process's engines loading in the background (the workers' are in their heartbeats).
    loading = warmup_state()
    if loading:
        checks["warmup"] = {
            "ok": all(step["state"] == "ready" for step in loading.values()),
            "engines": {name: step["state"] for name, step in loading.items()},
        }
    try:
        missing = [e["name"] for e in engine_list() if e["active"] and not e["present"]]
        checks["models"] = {"ok": not missing, "missing": missing}
    except Exception as exc:  # noqa: BLE001
        checks["models"] = {"ok": False, "error": type(exc).__name__}
    return checks


# --- Metrics support ---------------------------------------------------------------------------


def log_action_choices() -> list[str]:
    """Distinct SystemLog actions for the admin filter (an index-only scan, cached for a minute)."""
    actions = cache.get("ops:log-actions")
    if actions is None:
        actions = list(SystemLog.objects.order_by("action").values_list("action", flat=True).distinct())
        cache.set("ops:log-actions", actions, 60)
    return actions
