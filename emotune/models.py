"""Fields and state changes shared by every row that a job works on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobRow(models.Model):
    """A row whose slow work runs as a job (see emotune.jobs).

    Subclasses name their job: ``job_type`` (timeouts, logs), ``job_handler``
    (dotted path of ``handler(row, progress)``) and ``job_queue``.
    State changes are conditional UPDATEs so that a worker, the reaper and a
    user's cancel never overwrite each other's final state.
    """

    job_type: str = ""
    job_handler: str = ""
    job_queue: str = "default"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(class)ss")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    progress_note = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    job_id = models.CharField(max_length=64, blank=True, db_index=True)
    worker_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The manager Django gives each subclass anyway, named here so that type(self).objects type-checks.
    objects = models.Manager()

    class Meta:
        abstract = True

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def _transition(self, from_statuses, **fields) -> bool:
        updated = type(self).objects.filter(pk=self.pk, status__in=list(from_statuses)).update(**fields)
        if updated:
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(updated)

    def mark_running(self, worker_name: str) -> bool:
        return self._transition(
            [JobStatus.QUEUED],
            status=JobStatus.RUNNING,
            worker_name=worker_name[:200],
            started_at=timezone.now(),
            error="",
        )

    def mark_succeeded(self) -> bool:
        return self._transition(
            [JobStatus.RUNNING], status=JobStatus.SUCCEEDED, progress=1.0, finished_at=timezone.now()
        )

    def mark_failed(self, error: str) -> bool:
        return self._transition(
            [JobStatus.QUEUED, JobStatus.RUNNING],
            status=JobStatus.FAILED,
            error=error[:5000],
            finished_at=timezone.now(),
        )

    def mark_cancelled(self) -> bool:
        return self._transition(
            [JobStatus.QUEUED, JobStatus.RUNNING], status=JobStatus.CANCELLED, finished_at=timezone.now()
        )

    def mark_requeued(self, job_id: str) -> bool:
        return self._transition(
            [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED],
            status=JobStatus.QUEUED,
            job_id=job_id,
            progress=0.0,
            progress_note="",
            error="",
            worker_name="",
            started_at=None,
            finished_at=None,
        )
