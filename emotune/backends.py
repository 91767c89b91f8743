"""Where jobs run: one backend behind one interface, chosen by ``settings.JOBS_BACKEND``.

``RQBackend`` (``REDIS_URL`` set): jobs are entries on RQ queues served by ``rqworker``
processes, which announce themselves with heartbeat keys; marks such as a cancelled turn
are short-lived Redis keys, so every process sees them.

``InProcessBackend`` (the embedded mode): jobs run in this process, in threads beside the
server's event loop, a few at a time per queue; marks live in memory.

Code that needs to know where work runs asks :func:`backend` instead of reading the
setting, and every Redis client outside the channel layer and RQ's own worker comes from
:func:`redis_client`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
import weakref
from concurrent.futures import Future
from datetime import UTC
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "emotune:worker:{name}"
INPROCESS_WORKER = f"inprocess:{socket.gethostname()}:{os.getpid()}"


def redis_client(queue: str = "default", *, timeout: float = 2.0, url: str | None = None):
    """A Redis client for ``queue``'s server (or ``url``) with short timeouts: callers must answer
    when Redis does not."""
    import redis

    url = url or str(settings.RQ_QUEUES[queue]["URL"])
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


class JobsBackend:
    """What the rest of the code may ask of the place where jobs run."""

    name: str
    in_process: bool  # jobs run in this process (no queue entries to watch, no workers elsewhere)
    keeps_failures: bool  # a failed job is re-raised to the backend, which keeps it for ops

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server's event loop has started (embedded mode: jobs run beside it)."""

    def send(self, label: str, pk: int, handler: str, queue_name: str, timeout: int, job_id: str) -> None:
        """Run ``emotune.jobs.execute(label, pk, handler)`` on ``queue_name``."""
        raise NotImplementedError

    def call(self, queue_name: str, func: str, *, timeout: int, description: str = "",
             result_ttl: int = 600, failure_ttl: int = 3600, **kwargs: Any) -> str | None:
        """Run the function at dotted path ``func`` with ``kwargs`` where ``queue_name``'s jobs run,
        with no database row; returns the queue entry's id (None in-process, or inside a transaction,
        which holds the entry back until it commits)."""
        raise NotImplementedError

    def drop(self, job_id: str, queue_name: str) -> None:
        """Take a job that has not started off its queue (best effort: a started one checks its row)."""

    def lost(self, job_id: str, queue_name: str) -> bool:
        """Whether a queued job's entry is gone (Redis lost it); raises when the queue cannot be read."""
        return False

    def call_state(self, job_id: str | None) -> str:
        """Whether a :meth:`call` may still deliver: "queued" or "running", otherwise why not."""
        return "running"

    def live_workers(self) -> dict[str, set[str]]:
        """Workers alive now, each with the ids of the jobs it is running."""
        raise NotImplementedError

    def worker_beats(self) -> list[dict]:
        """The live workers' heartbeats, for the ops pages."""
        return []

    def queue_stats(self) -> list[dict]:
        """Depth, oldest waiting job and registry sizes per queue, for the ops pages."""
        return []

    def mark(self, key: str, seconds: float) -> None:
        """Set a flag every process sees for ``seconds`` (a cancelled turn)."""
        raise NotImplementedError

    def marked(self, key: str) -> bool:
        raise NotImplementedError

    def ping(self) -> None:
        """Raise when the backend's server cannot be reached."""

    def slot(self, name: str) -> asyncio.Semaphore:
        """In-process backends: the running loop's semaphore that limits how many ``name`` jobs run at once."""
        raise NotImplementedError(f"{self.name} runs no jobs in this process")


# --- RQ ------------------------------------------------------------------------------------------


class RQBackend(JobsBackend):
    name, in_process, keeps_failures = "rq", False, True

    def _queue(self, name: str):
        import django_rq

        return django_rq.get_queue(name, connection=redis_client(name, timeout=30))

    def send(self, label, pk, handler, queue_name, timeout, job_id):
        from emotune.jobs import execute

        try:
            self._queue(queue_name).enqueue(
                execute, label, pk, handler, job_id=job_id, job_timeout=timeout, result_ttl=3600,
                failure_ttl=7 * 86400, description=f"{label}#{pk}",
            )
        except Exception:  # Redis down: the row stays queued and the reaper re-sends it.
            logger.exception("enqueue failed for %s#%s; the reaper will retry", label, pk)

    def call(self, queue_name, func, *, timeout, description="", result_ttl=600, failure_ttl=3600, **kwargs):
        job = self._queue(queue_name).enqueue(
            func, job_timeout=timeout, result_ttl=result_ttl, failure_ttl=failure_ttl,
            description=description or func, kwargs=kwargs,
        )
        return job.id if job is not None else None  # django-rq holds it back until a transaction commits

    def drop(self, job_id, queue_name):
        from rq.job import Job

        try:
            Job.fetch(job_id, connection=redis_client(queue_name)).cancel()
        except Exception:  # already started, finished or gone: the row's status (or a mark) stops it
            pass

    def lost(self, job_id, queue_name):
        from rq.job import Job

        return not Job.exists(job_id, connection=redis_client(queue_name))

    def call_state(self, job_id):
        """A job whose worker was killed stays "started" in RQ; one that finished while its messages
        were lost (Redis restarted) is done without a word to us."""
        if not job_id:
            return "missing"
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            job = Job.fetch(job_id, connection=redis_client("gpu"))
        except NoSuchJobError:
            return "missing"
        status = job.get_status(refresh=False)
        workers = self.live_workers()
        if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return "queued" if workers else "no live worker"  # with no worker alive, nobody will take it soon
        if status == JobStatus.STARTED:
            return "running" if job.worker_name in workers else "worker gone"
        return str(status.value if hasattr(status, "value") else status)

    def _beats(self) -> list[tuple[str, dict]]:
        """(worker name from its key, heartbeat) for every fresh heartbeat key."""
        conn = redis_client()
        prefix = HEARTBEAT_KEY.format(name="")
        keys = sorted(conn.scan_iter(match=prefix + "*"))
        beats = []
        for key, raw in zip(keys, conn.mget(keys) if keys else [], strict=True):
            if not raw:  # expired since the scan
                continue
            try:
                beats.append((key.decode()[len(prefix):], json.loads(raw)))
            except ValueError:
                continue
        return beats

    def live_workers(self):
        return {name: {beat["current_job_id"]} if beat.get("current_job_id") else set() for name, beat in self._beats()}

    def worker_beats(self):
        now = time.time()
        workers = []
        for _name, beat in self._beats():
            beat["age_s"] = round(now - float(beat.get("at") or now), 1)
            gpu = beat.get("gpu") or None
            if gpu and gpu.get("total"):
                beat["gpu_percent"] = round(100 * gpu["used"] / gpu["total"], 1)
            workers.append(beat)
        return workers

    def queue_stats(self):
        from rq import Queue
        from rq.job import Job

        queues = []
        for index, name in enumerate(settings.RQ_QUEUES):
            queue = Queue(name, connection=redis_client(name))
            oldest = None
            first = queue.get_job_ids(0, 1)
            job = Job.fetch(first[0], connection=queue.connection) if first and Job.exists(first[0], queue.connection) else None
            if job is not None and job.enqueued_at:
                enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
                waiting = (timezone.now() - enqueued).total_seconds()
                oldest = {"id": job.id, "description": job.description, "waiting_s": round(waiting, 1)}
            queues.append({
                "name": name,
                "index": index,
                "depth": queue.count,
                "oldest": oldest,
                "started": queue.started_job_registry.count,
                "failed": queue.failed_job_registry.count,
            })
        return queues

    def mark(self, key, seconds):
        redis_client("gpu").set(key, 1, ex=max(1, round(seconds)))

    def marked(self, key):
        return bool(redis_client("gpu").exists(key))

    def ping(self):
        redis_client().ping()


# --- In this process -----------------------------------------------------------------------------


class InProcessBackend(JobsBackend):
    """Runs jobs on the server's event loop in threads, a few at a time per queue.

    Realtime events sent from a job thread reach the in-memory channel layer
    because the thread was started by sync_to_async from the server loop. With
    no server loop (a management command, the shell) a job runs at once, in the
    caller's thread.
    """

    name, in_process, keeps_failures = "inprocess", True, False
    concurrency = {"gpu": 1, "default": 2, "voice": 1}  # "voice": the companion's sentences

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self.pending: set[Future] = set()
        self.running: set[str] = set()
        self._marks: dict[str, float] = {}  # key -> when it runs out

    def bind(self, loop):
        with self._lock:
            if self.loop is loop:
                return
            first = self.loop is None
            self.loop = loop
        if first and not settings.TESTING:
            loop.run_in_executor(None, self._recover)

    def slot(self, name: str) -> asyncio.Semaphore:
        """The running loop's semaphore for ``name``: how many of its jobs may run at once."""
        loop = asyncio.get_running_loop()
        with self._lock:
            slots = self._slots.setdefault(loop, {})
            return slots.setdefault(name, asyncio.Semaphore(self.concurrency.get(name, 1)))

    def _recover(self) -> None:
        """At start: rows left running by a previous process fail, queued ones run."""
        from emotune.jobs import job_models, jobs_reap
        from emotune.models import JobStatus

        close_old_connections()
        jobs_reap()
        for model in job_models():
            for row in model.objects.filter(status=JobStatus.QUEUED):
                self.send(row._meta.label, row.pk, row.job_handler, row.job_queue, 0, row.job_id)
        close_old_connections()

    def send(self, label, pk, handler, queue_name, timeout, job_id):
        from emotune.jobs import execute

        loop = self.loop
        if loop is None or loop.is_closed():
            execute(label, pk, handler)
            return
        future = asyncio.run_coroutine_threadsafe(self._run(queue_name, label, pk, handler, job_id), loop)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)

    async def _run(self, queue_name: str, label: str, pk: int, handler: str, job_id: str) -> None:
        from emotune.jobs import execute

        async with self.slot(queue_name):
            self.running.add(job_id)
            try:
                await sync_to_async(execute, thread_sensitive=False)(label, pk, handler)
            finally:
                self.running.discard(job_id)

    def call(self, queue_name, func, *, timeout, description="", result_ttl=600, failure_ttl=3600, **kwargs):
        target = import_string(func)
        threading.Thread(target=target, kwargs=kwargs, daemon=True, name=description or func).start()
        return None

    def live_workers(self):
        return {INPROCESS_WORKER: set(self.running)}

    def mark(self, key, seconds):
        now = time.monotonic()
        with self._lock:
            for old in [k for k, until in self._marks.items() if until <= now]:
                del self._marks[old]
            self._marks[key] = now + seconds

    def marked(self, key):
        with self._lock:
            return self._marks.get(key, 0.0) > time.monotonic()


_backends: dict[str, JobsBackend] = {}
_backends_lock = threading.Lock()
_CLASSES: dict[str, type[JobsBackend]] = {"rq": RQBackend, "inprocess": InProcessBackend}


def backend() -> JobsBackend:
    """The backend ``settings.JOBS_BACKEND`` names (one instance per name, so tests may switch)."""
    name = settings.JOBS_BACKEND
    with _backends_lock:
        if name not in _backends:
            _backends[name] = _CLASSES[name]()
        return _backends[name]
