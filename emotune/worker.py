"""The RQ worker class for emotune queues.

``rq.SimpleWorker`` runs jobs in the worker process itself instead of a forked
child, so models loaded by one job stay warm for the next and CUDA is never
used across a fork. A heartbeat thread publishes liveness, the current job,
resident models and GPU memory under a short-lived Redis key: the reaper ends
rows whose worker's key expired, and the ops dashboard shows the rest.

    python manage.py rqworker gpu --worker-class emotune.worker.EmotuneWorker
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker

from emotune import engines
from emotune.backends import HEARTBEAT_KEY
from emotune.jobs import jobs_reap
from emotune.warmup import warmup_start, warmup_state, warmup_steps

logger = logging.getLogger(__name__)


def gpu_memory() -> dict | None:
    """Used/total bytes of this process's CUDA device, if torch is loaded and has one."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    free, total = torch.cuda.mem_get_info()
    return {
        "device": torch.cuda.get_device_name(),
        "used": total - free,
        "total": total,
        "allocated": torch.cuda.memory_allocated(),
        "reserved": torch.cuda.memory_reserved(),
    }


def reap_once() -> None:
    """One reaper run from the heartbeat thread; its database connection is closed after,
    whether the run worked or not (a broken connection must not be reused next time)."""
    try:
        jobs_reap()
    except Exception:
        logger.warning("reaper run failed", exc_info=True)
    finally:
        connection.close()


class EmotuneWorker(SimpleWorker):
    reap_every = 6  # heartbeats

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._beat_stop = threading.Event()
        self._current_job: str | None = None
        self._current_job_id: str | None = None

    def heartbeat_payload(self) -> dict:
        return {
            "name": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": [q.name for q in self.queues],
            "current_job": self._current_job,
            "current_job_id": self._current_job_id,
            "models": engines.loaded_names(),
            "warmup": warmup_state(),
            "gpu": gpu_memory(),
            "at": time.time(),
        }

    def _publish(self) -> None:
        interval = settings.WORKER_HEARTBEAT_SECONDS
        try:
            self.connection.set(HEARTBEAT_KEY.format(name=self.name), json.dumps(self.heartbeat_payload()), ex=interval * 3)
        except Exception:
            logger.warning("worker heartbeat failed", exc_info=True)

    def _beat(self) -> None:
        interval = settings.WORKER_HEARTBEAT_SECONDS
        beats = 0
        while not self._beat_stop.is_set():
            self._publish()
            if beats % self.reap_every == 0:
                reap_once()
            beats += 1
            self._beat_stop.wait(interval)

    def work(self, *args, **kwargs):
        if settings.ENGINE_WARMUP:
            for queue in self.queues:
                warmup_start(warmup_steps(f"worker:{queue.name}"))
        thread = threading.Thread(target=self._beat, name="emotune-heartbeat", daemon=True)
        thread.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._beat_stop.set()
            try:
                self.connection.delete(HEARTBEAT_KEY.format(name=self.name))
            except Exception:
                pass

    def check_for_suspension(self, burst: bool) -> None:
        self.wait_for_redis()
        return super().check_for_suspension(burst)

    def wait_for_redis(self) -> None:
        """Between jobs, wait out a Redis restart instead of quitting as RQ would (its loop ends on any error)."""
        waited = False
        while not self._stop_requested:
            try:
                self.connection.ping()
                break
            except (RedisConnectionError, RedisTimeoutError):
                if not waited:
                    logger.warning("Redis is unreachable; the worker waits for it")
                waited = True
                time.sleep(0.5)
        if waited:
            logger.info("Redis is back; the worker carries on")

    def heartbeat(self, *args, **kwargs):
        try:
            return super().heartbeat(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):  # Redis restarting: the next beat will do
            logger.warning("worker heartbeat to RQ failed: Redis is unreachable")

    def execute_job(self, job, queue):
        self._current_job, self._current_job_id = job.description or job.id, job.id
        self._publish()
        try:
            return super().execute_job(job, queue)
        except (RedisConnectionError, RedisTimeoutError):
            # RQ's own bookkeeping failed while Redis was away. The outcome is already
            # in the database (or on the user's socket); RQ would end the worker here,
            # leaving the queues unserved. Carry on: dequeueing waits for Redis.
            logger.warning("Redis went away while job %s finished; the worker carries on", job.id, exc_info=True)
        finally:
            self._current_job = self._current_job_id = None
            close_old_connections()
