"""One pattern for every slow operation.

1. A service creates the row (status ``queued``) and calls :func:`job_enqueue`,
   which sends the job after the transaction commits.
2. A worker runs :func:`execute`: it re-reads the row, marks it running, calls
   the row's handler with a :class:`Progress`, and ends the row ``succeeded``,
   ``failed`` (with a readable error) or ``cancelled``, writing a SystemLog and
   telling the user over ``/ws/events/``.
3. :func:`jobs_reap` ends rows whose worker vanished and re-sends queued rows
   whose queue entry was lost; workers run it on a timer, ``manage.py
   reap_jobs`` runs it by hand.

Where jobs run is :mod:`emotune.backends`' business: with ``REDIS_URL`` set, RQ
queues served by ``manage.py rqworker --worker-class emotune.worker.EmotuneWorker``;
without it, threads beside this process's event loop (the embedded mode).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from emotune import realtime
from emotune.backends import INPROCESS_WORKER, backend
from emotune.models import JobRow, JobStatus

logger = logging.getLogger(__name__)



class JobCancelled(Exception):
    """Raised inside a handler when the user cancelled its row."""


class JobError(Exception):
    """An expected failure whose message is shown to the user as it is."""


def _timeout_for(row: JobRow) -> int:
    return settings.JOB_TIMEOUTS.get(row.job_type, settings.JOB_DEFAULT_TIMEOUT)


def job_event(row: JobRow, kind: str, **extra) -> dict:
    return {
        "type": kind,
        "job": row.job_type,
        "id": row.pk,
        "status": row.status,
        "progress": round(row.progress, 4),
        "note": row.progress_note,
        **extra,
    }


# --- Enqueueing ---------------------------------------------------------------------


def job_enqueue(row: JobRow, *, handler: str | None = None) -> None:
    """Send ``row``'s job once the current transaction commits."""
    job_id = uuid.uuid4().hex
    type(row).objects.filter(pk=row.pk).update(job_id=job_id)
    row.job_id = job_id
    label, pk, handler = row._meta.label, row.pk, handler or row.job_handler
    queue_name, timeout = row.job_queue, _timeout_for(row)
    transaction.on_commit(lambda: _send(label, pk, handler, queue_name, timeout, job_id))


def _send(label: str, pk: int, handler: str, queue_name: str, timeout: int, job_id: str) -> None:
    backend().send(label, pk, handler, queue_name, timeout, job_id)


def job_requeue(row: JobRow) -> bool:
    """Send a failed, cancelled or lost job again (ops action, reaper)."""
    job_id = uuid.uuid4().hex
    if not row.mark_requeued(job_id):
        return False
    transaction.on_commit(
        lambda: _send(row._meta.label, row.pk, row.job_handler, row.job_queue, _timeout_for(row), job_id)
    )
    realtime.send_to_user(row.user_id, job_event(row, "job.status"))
    return True


def job_fail(row: JobRow, reason: str) -> bool:
    """End a queued or running job as failed the normal way: row, log, Event, user's socket.

    Used by the reaper and by staff's "mark stuck failed"; a job that already ended is left as it is.
    """
    if not row.mark_failed(reason):
        return False
    seconds = (timezone.now() - row.started_at).total_seconds() if row.started_at else 0.0
    _finish(row, "failed", seconds, error=row.error)
    return True


def job_cancel(row: JobRow) -> bool:
    """Cancel a queued or running job. A running handler stops at its next progress report."""
    if not row.mark_cancelled():
        return False
    if row.job_id:
        backend().drop(row.job_id, row.job_queue)
    _log(row, "job.cancel", "success", "cancelled")
    realtime.send_to_user(row.user_id, job_event(row, "job.status"))
    return True


# --- Running ------------------------------------------------------------------------


class Progress:
    """Handed to a job handler: report progress, learn of a cancel.

    Writes to the database at most every ``db_interval`` seconds and to the
    user's socket at most every ``ws_interval`` seconds, so a handler may call
    it from a tight loop.
    """

    def __init__(self, row: JobRow, *, db_interval: float = 1.0, ws_interval: float = 0.1):
        self.row = row
        self.db_interval = db_interval
        self.ws_interval = ws_interval
        self._last_db = 0.0
        self._last_ws = 0.0
        self._started = time.monotonic()
        self.limit = _current_limit(row)

    def __call__(self, fraction: float, note: str = "", *, force: bool = False, **extra) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if now - self._started > self.limit:
            # Backstop for the worker's alarm, which a handler's broad ``except`` may have
            # swallowed, and the only limit for jobs run in-process.
            from rq.timeouts import JobTimeoutException

            raise JobTimeoutException(f"over its limit of {self.limit} s")
        note_changed = note != self.row.progress_note
        self.row.progress, self.row.progress_note = fraction, note[:200]
        if force or note_changed or now - self._last_db >= self.db_interval:
            self._last_db = now
            type(self.row).objects.filter(pk=self.row.pk).update(progress=fraction, progress_note=note[:200])
            self.check_cancelled()
        if force or note_changed or now - self._last_ws >= self.ws_interval:
            self._last_ws = now
            elapsed = now - self._started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
            realtime.send_to_user(
                self.row.user_id,
                job_event(self.row, "job.progress", eta_s=round(eta, 1) if eta is not None else None, **extra),
            )

    def check_cancelled(self) -> None:
        status = type(self.row).objects.filter(pk=self.row.pk).values_list("status", flat=True).first()
        if status == JobStatus.CANCELLED:
            raise JobCancelled()


def current_worker_name() -> str:
    from rq import get_current_job

    job = get_current_job()
    if job is not None and job.worker_name:
        return job.worker_name
    return INPROCESS_WORKER


def execute(label: str, pk: int, handler_path: str) -> str:
    """Run one job: the function every queue entry names."""
    close_old_connections()
    try:
        return _execute(label, pk, handler_path)
    finally:
        close_old_connections()


def _execute(label: str, pk: int, handler_path: str) -> str:
    model = apps.get_model(label)
    row = model.objects.filter(pk=pk).first()
    if row is None:
        logger.warning("job for %s#%s: row is gone", label, pk)
        return "gone"
    if not row.mark_running(current_worker_name()):
        logger.info("job for %s#%s skipped: row is %s", label, pk, row.status)
        return row.status
    realtime.send_to_user(row.user_id, job_event(row, "job.status"))
    started = time.monotonic()
    try:
        handler = import_string(handler_path)
        handler(row, Progress(row))
    except JobCancelled:
        _finish(row, "cancelled", time.monotonic() - started)
        return "cancelled"
    except Exception as exc:
        message = _readable(exc, row)
        logger.exception("job %s#%s failed", label, pk)
        _record_failure(row, message, time.monotonic() - started)
        if backend().keeps_failures:
            raise  # RQ keeps it in its failed registry, where ops can requeue it
        return "failed"
    if not row.mark_succeeded():  # cancelled while it ran: keep the user's word
        row.refresh_from_db(fields=["status"])
        _finish(row, row.status, time.monotonic() - started)
        return row.status
    _finish(row, "succeeded", time.monotonic() - started)
    return "succeeded"


def _record_failure(row: JobRow, message: str, seconds: float) -> None:
    """Mark the row failed; if the database connection died with the job, reconnect once."""
    for attempt in (1, 2):
        try:
            row.mark_failed(message)
            _finish(row, "failed", seconds, error=message)
            return
        except Exception:
            if attempt == 2:
                logger.exception("could not record the failure of %s#%s; the reaper will", row._meta.label, row.pk)
                return
            from django.db import connections

            connections.close_all()


def _current_limit(row: JobRow) -> int:
    """The running job's time limit: the queue entry's own, else the setting for its type."""
    from rq import get_current_job

    job = get_current_job()
    return int(job.timeout) if job is not None and job.timeout else _timeout_for(row)


def _readable(exc: BaseException, row: JobRow) -> str:
    from rq.timeouts import JobTimeoutException

    if isinstance(exc, JobTimeoutException):
        return f"Stopped: the job ran longer than its limit of {_current_limit(row)} s."
    if isinstance(exc, JobError):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return "Stopped: the model ran out of memory. Try a shorter or smaller request."
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _finish(row: JobRow, outcome: str, seconds: float, *, error: str = "") -> None:
    from emotune.logbook import event_record

    row.refresh_from_db()
    _log(row, "job.run", "success" if outcome == "succeeded" else outcome, error or outcome, seconds=seconds)
    event_record(
        kind="job.finished",
        user_id=row.user_id,
        subject=row,
        data={"job": row.job_type, "outcome": outcome, "seconds": round(seconds, 3), "queue": row.job_queue},
    )
    realtime.send_to_user(row.user_id, job_event(row, "job.status", error=row.error))


def _log(row: JobRow, action: str, status: str, message: str, **detail) -> None:
    from emotune.logbook import log_write

    log_write(
        action=f"{row.job_type}.{action.split('.')[-1]}",
        status=status,
        user_id=row.user_id,
        message=message,
        detail={"row": f"{row._meta.label}#{row.pk}", "job_id": row.job_id, "worker": row.worker_name, **detail},
    )


# --- Reaping ------------------------------------------------------------------------


def live_workers() -> dict[str, set[str]]:
    """Workers whose heartbeat is fresh, each with the ids of the jobs it is running."""
    return backend().live_workers()


def live_worker_names() -> set[str]:
    return set(live_workers())


@dataclass
class ReapResult:
    failed: int = 0
    resent: int = 0


def jobs_reap(*, grace_seconds: int = 30) -> ReapResult:
    """End rows whose worker is gone; re-send queued rows whose queue entry is lost."""
    result = ReapResult()
    workers = live_workers()
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    for model in job_models():
        for row in model.objects.filter(status=JobStatus.RUNNING).exclude(worker_name__in=list(workers)):
            if job_fail(row, "Stopped: the worker running this job went away (restart or crash). Please try again."):
                result.failed += 1
        # A live worker that is not running the row's job lost it (e.g. its database
        # connection died while it tried to record the outcome).
        stale = model.objects.filter(status=JobStatus.RUNNING, worker_name__in=list(workers), started_at__lt=cutoff)
        for row in stale:
            if row.job_id not in workers.get(row.worker_name, set()) and job_fail(
                row, "Stopped: the job ended without recording its outcome. Please try again."
            ):
                result.failed += 1
        for row in model.objects.filter(status=JobStatus.QUEUED, created_at__lt=cutoff):
            try:
                lost = backend().lost(row.job_id, row.job_queue)
            except Exception:
                logger.warning("reaper cannot reach Redis; queued rows checked next time")
                break
            if lost:
                _send(row._meta.label, row.pk, row.job_handler, row.job_queue, _timeout_for(row), row.job_id)
                result.resent += 1
    if result.failed or result.resent:
        logger.info("reaper: %s rows failed, %s re-sent", result.failed, result.resent)
    return result


def job_models() -> list[type[JobRow]]:
    return [m for m in apps.get_models() if issubclass(m, JobRow)]
