"""Sentence synthesis as ``gpu`` jobs, streamed back to one websocket connection.

A voice turn makes one small job per sentence. They carry no database row (a
row per sentence would add database round trips to the latency path); the
turn's assistant Message is the durable record. Each job sends its audio to the
connection's channel as ``voice.tts`` messages: ``start``, ``audio`` chunks
numbered from 0, and ``end`` with the chunk count, so the consumer can put
sentences in order and detect a lost chunk. With RQ the jobs run in a resident
``gpu`` worker (model warm); in the embedded mode they run in this process, one
at a time, off the event loop.

Barge-in marks the turn cancelled (a mark of the jobs backend: a short-lived Redis
key, or memory in the embedded mode); a job checks the mark before it starts and
between chunks.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import close_old_connections

from emotune.audio import float_to_pcm16
from emotune.backends import backend

logger = logging.getLogger(__name__)

CHUNK_BYTES = 32 * 1024  # ≤ 64 KiB per binary frame (README, websocket protocol); 32 KiB ≈ 0.74 s at 22.05 kHz
CANCEL_KEY = "emotune:voice:cancel:{turn}"
CANCEL_SECONDS = 600  # how long a turn's cancel mark lives (both backends)


def turn_cancel(turn: str, job_ids: list[str] | None = None) -> None:
    """Barge-in: mark ``turn`` cancelled for every process, and drop its sentences not yet started."""
    jobs_backend = backend()
    jobs_backend.mark(CANCEL_KEY.format(turn=turn), CANCEL_SECONDS)
    for job_id in job_ids or []:
        jobs_backend.drop(job_id, "gpu")


def turn_cancelled(turn: str) -> bool:
    return backend().marked(CANCEL_KEY.format(turn=turn))


def tts_enqueue(*, channel: str, turn: str, seq: int, text: str, speaker_id: int | None,
                language: str | None = None) -> str | None:
    """Send one sentence to the ``gpu`` queue; returns the queue entry's id (queued backends only:
    the embedded mode synthesises in the consumer's own loop instead)."""
    return backend().call(
        "gpu", "voicechat.jobs.tts_sentence",
        timeout=settings.JOB_TIMEOUTS.get("voicechat.tts", 120), result_ttl=60, failure_ttl=3600,
        description=f"voicechat.tts {turn}#{seq}",
        channel=channel, turn=turn, seq=seq, text=text, speaker_id=speaker_id, language=language,
    )


def tts_job_state(job_id: str | None) -> str:
    """Whether a sentence job may still deliver: "queued" (while some worker lives) or "running" on a
    live worker; otherwise why not ("missing", "no live worker", "worker gone", or the queue's final status)."""
    return backend().call_state(job_id)


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
    speaker = None
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
        error = f"{type(exc).__name__}: {exc}"[:300]
        # In the system log too, so that staff searching it for "tts" find the failure and its cause.
        from emotune.logbook import log_write

        log_write(action="voice.tts", status="failed", message=f"TTS failed ({language or 'auto'}): {error}",
                  user_id=speaker.user_id if speaker else None, detail={"turn": turn, "seq": seq})
        send(channel, {**base, "kind": "error", "message": error})
        return "failed"
    finally:
        close_old_connections()
