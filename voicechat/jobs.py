"""Sentence synthesis as ``gpu`` jobs, streamed back to one websocket connection.

A voice turn makes one small job per sentence. They carry no database row (a
row per sentence would add database round trips to the latency path); the
turn's assistant Message is the durable record. Each job sends its audio to the
connection's channel as ``voice.tts`` messages: ``start``, ``audio`` chunks
numbered from 0, and ``end`` with the chunk count, so the consumer can put
sentences in order and detect a lost chunk. With RQ the jobs run in a resident
``gpu`` worker (model warm); in the embedded mode they run in this process, one
at a time, off the event loop.

Barge-in marks the turn cancelled (a short-lived Redis key, or a set in the
embedded mode); a job checks the mark before it starts and between chunks.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from emotune.audio import float_to_pcm16

logger = logging.getLogger(__name__)

CHUNK_BYTES = 32 * 1024  # ≤ 64 KiB per binary frame (README, websocket protocol); 32 KiB ≈ 0.74 s at 22.05 kHz
CANCEL_KEY = "emotune:voice:cancel:{turn}"
CANCEL_SECONDS = 600  # how long a turn's cancel mark lives (both backends)
_cancelled_local: dict[str, float] = {}  # turn -> when its mark runs out
_local_lock = threading.Lock()


def _redis():
    import django_rq

    return django_rq.get_connection("gpu")


def turn_cancel(turn: str, job_ids: list[str] | None = None) -> None:
    if settings.JOBS_BACKEND == "rq":
        connection = _redis()
        connection.set(CANCEL_KEY.format(turn=turn), 1, ex=CANCEL_SECONDS)
        from rq.job import Job

        for job_id in job_ids or []:
            try:
                Job.fetch(job_id, connection=connection).cancel()
            except Exception:  # already running or finished: the mark stops it
                pass
    else:
        now = time.monotonic()
        with _local_lock:
            for old in [t for t, until in _cancelled_local.items() if until <= now]:
                del _cancelled_local[old]
            _cancelled_local[turn] = now + CANCEL_SECONDS


def turn_cancelled(turn: str) -> bool:
    if settings.JOBS_BACKEND == "rq":
        return bool(_redis().exists(CANCEL_KEY.format(turn=turn)))
    with _local_lock:
        return _cancelled_local.get(turn, 0.0) > time.monotonic()


def tts_enqueue(*, channel: str, turn: str, seq: int, text: str, speaker_id: int | None,
                language: str | None = None) -> str | None:
    """Send one sentence to the ``gpu`` queue; returns the RQ job id (RQ backend only: the
    embedded mode synthesises in the consumer's own loop instead)."""
    import django_rq

    job = django_rq.get_queue("gpu").enqueue(
        tts_sentence,
        channel=channel, turn=turn, seq=seq, text=text, speaker_id=speaker_id, language=language,
        job_timeout=settings.JOB_TIMEOUTS.get("voicechat.tts", 120), result_ttl=60, failure_ttl=3600,
        description=f"voicechat.tts {turn}#{seq}",
    )
    return job.id


def tts_job_state(job_id: str | None) -> str:
    """Whether a sentence job may still deliver: "queued" (while some worker lives) or "running" on a
    live worker; otherwise why not ("missing", "no live worker", "worker gone", or RQ's final status).

    A job whose worker was killed stays "started" in RQ; one that finished while
    its messages were lost (Redis restarted) is done without a word to us.
    """
    if not job_id:
        return "missing"
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from emotune.jobs import live_worker_names

    try:
        job = Job.fetch(job_id, connection=_redis())
    except NoSuchJobError:
        return "missing"
    status = job.get_status(refresh=False)
    workers = live_worker_names()
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return "queued" if workers else "no live worker"  # with no worker alive, nobody will take it soon
    if status == JobStatus.STARTED:
        return "running" if job.worker_name in workers else "worker gone"
    return str(status.value if hasattr(status, "value") else status)


def tts_sentence(*, channel: str, turn: str, seq: int, text: str, speaker_id: int | None,
                 language: str | None = None) -> str:
    """Synthesise ``text`` (in ``language``: it picks the engine or voice) and stream it to
    ``channel``; returns the outcome."""
    from emotune.realtime import (
        layer_call,  # the channel layer: only where a job sends (voicechat.turn imports this module)
    )
    from voicechat.engines import tts_engine
    from voicechat.models import Speaker

    job_start = time.monotonic()
    def send(channel: str, message: dict) -> None:
        layer_call("send", channel, message)

    base = {"type": "voice.tts", "turn": turn, "seq": seq}
    if turn_cancelled(turn):
        return "cancelled"
    close_old_connections()
    started = time.perf_counter()
    index = 0
    try:
        speaker = Speaker.objects.filter(pk=speaker_id).first() if speaker_id else None
        engine = tts_engine(language=language)
        voice = engine.voice_label(speaker)
        first = True
        synth_start = time.monotonic()
        for samples in engine.stream(text, speaker):
            if first:
                first_chunk = time.monotonic()
                marks = {"job_start": job_start, "synth_start": synth_start, "first_chunk": first_chunk}
                send(channel, {**base, "kind": "start", "sample_rate": engine.sample_rate, "engine": engine.name,
                               "voice": voice, "first_chunk_s": round(first_chunk - synth_start, 4), "marks": marks})
                first = False
            pcm = float_to_pcm16(samples)
            for offset in range(0, len(pcm), CHUNK_BYTES):
                if turn_cancelled(turn):
                    send(channel, {**base, "kind": "end", "chunks": index, "cancelled": True})
                    return "cancelled"
                send(channel, {**base, "kind": "audio", "index": index, "data": pcm[offset : offset + CHUNK_BYTES]})
                index += 1
        if first:  # nothing to say (punctuation only)
            send(channel, {**base, "kind": "start", "sample_rate": engine.sample_rate, "engine": engine.name,
                           "voice": voice})
        send(channel, {**base, "kind": "end", "chunks": index, "compute_s": round(time.perf_counter() - started, 4)})
        return "succeeded"
    except Exception as exc:
        logger.exception("tts for turn %s seq %s failed", turn, seq)
        send(channel, {**base, "kind": "error", "message": f"{type(exc).__name__}: {exc}"[:300]})
        return "failed"
    finally:
        close_old_connections()
