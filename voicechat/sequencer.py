"""A spoken answer's sentences, played in order: what may go to the client now, and what is overdue.

Each sentence's synthesis job (voicechat.jobs.tts_sentence) sends ``start``, ``audio``
chunks numbered from 0, and ``end`` with its chunk count, or ``error``. Jobs run in
parallel and the channel layer drops messages past a channel's capacity, so sentences
may arrive early, incomplete or not at all. The :class:`Sequencer` holds early sentences
back, releases each sentence's messages once the one before it has ended, reports a lost
chunk or an incomplete sentence (never silently), and tells the watchdog which sentence
it has waited for too long. It does no I/O and reads time only from the clock it is
given, so every case can be tested without sleeping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Job states (voicechat.jobs.tts_job_state) in which a late sentence may still arrive.
STATES_STILL_DELIVERING = ("queued", "running", "unknown")


@dataclass(frozen=True)
class Release:
    """One thing to tell the client, in order.

    ``kind``: ``start`` (``message`` is the job's start: sample rate, engine, voice),
    ``audio`` (``message["data"]`` is PCM16), ``chunk_lost`` (``chunk``: the index that
    never came), ``failed`` (``message["message"]``: why synthesis failed), ``incomplete``
    (the sentence ended with fewer chunks than it sent), ``end``.
    """

    kind: str
    seq: int
    message: dict | None = None
    chunk: int | None = None


@dataclass(frozen=True)
class Overdue:
    """The sentence playback waits for, ``waited`` seconds after anything last came."""

    seq: int
    job_id: str | None
    waited: float

    def may_still_arrive(self, state: str, *, limit: float) -> bool:
        """Whether to go on waiting, given its job's state: a job queued or running on a live
        worker (or one that cannot be checked) is waited for up to ``limit`` seconds."""
        return state in STATES_STILL_DELIVERING and self.waited < limit


class Sequencer:
    """One turn's sentences: queued with :meth:`queued`, their job messages fed to :meth:`feed`."""

    def __init__(self, *, stall_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_seconds = stall_seconds
        self.clock = clock
        self.count = 0  # sentences queued for synthesis
        self.next_seq = 0  # the sentence playing or next to play
        self.job_ids: list[str | None] = []  # by seq
        self.last_activity = clock()  # a sentence queued or a message received
        self.stopped = False
        self._early: dict[int, list[dict]] = {}  # seq -> messages held back until its turn
        self._chunks: dict[int, int] = {}  # seq -> the chunk index expected next (once started)

    # --- the answer's side ---------------------------------------------------------

    def queued(self, job_id: str | None = None) -> int:
        """Count one more sentence sent to synthesis; returns its seq."""
        seq = self.count
        self.count += 1
        self.job_ids.append(job_id)
        self.last_activity = self.clock()
        return seq

    @property
    def all_played(self) -> bool:
        return self.next_seq >= self.count

    def stop(self) -> None:
        """Barge-in: nothing more of this turn is released."""
        self.stopped = True
        self._early.clear()

    # --- the jobs' side ---------------------------------------------------------------

    def feed(self, message: dict) -> list[Release]:
        """Take one job message; returns what may be played now, in order."""
        if self.stopped:
            return []
        self.last_activity = self.clock()
        seq = message["seq"]
        if seq < self.next_seq:
            return []  # a sentence already ended, or given up as lost
        if seq > self.next_seq:
            self._early.setdefault(seq, []).append(message)
            return []
        return self._relay(message) + self._drain()

    def overdue(self) -> Overdue | None:
        """The sentence waited for, once nothing has come for ``stall_seconds``; else None."""
        if self.stopped or self.all_played:
            return None
        waited = self.clock() - self.last_activity
        if waited < self.stall_seconds:
            return None
        seq = self.next_seq
        return Overdue(seq=seq, job_id=self.job_ids[seq] if seq < len(self.job_ids) else None, waited=waited)

    def give_up(self, seq: int, reason: str) -> list[Release]:
        """End sentence ``seq`` as failed (its job died, its messages were lost) and release what follows."""
        if self.stopped or seq != self.next_seq:
            return []
        self.last_activity = self.clock()
        return self._relay({"seq": seq, "kind": "error", "message": reason}) + self._drain()

    # --- inside -------------------------------------------------------------------------

    def _drain(self) -> list[Release]:
        out: list[Release] = []
        while self.next_seq in self._early and not self.stopped:
            for message in self._early.pop(self.next_seq):
                if message["seq"] == self.next_seq:  # not after its sentence's end (a duplicate)
                    out += self._relay(message)
        return out

    def _relay(self, message: dict) -> list[Release]:
        seq, kind = message["seq"], message["kind"]
        expected = self._chunks.get(seq)
        if kind == "start":
            if expected is not None:
                logger.warning("sentence %s started twice; the repeat is dropped", seq)
                return []
            self._chunks[seq] = 0
            return [Release("start", seq, message)]
        if kind == "audio":
            index, expected = message["index"], expected or 0
            if index < expected:
                logger.warning("chunk %s of sentence %s came again or late; dropped", index, seq)
                return []
            self._chunks[seq] = index + 1
            lost = [Release("chunk_lost", seq, chunk=expected)] if index != expected else []
            return lost + [Release("audio", seq, message)]
        if kind in ("end", "error"):
            if kind == "error":
                out = [Release("failed", seq, message)]
            elif message.get("chunks", 0) != (expected or 0):
                out = [Release("incomplete", seq, message)]
            else:
                out = []
            self.next_seq += 1
            return out + [Release("end", seq, message)]
        logger.warning("unknown synthesis message %r for sentence %s; dropped", kind, seq)
        return []
