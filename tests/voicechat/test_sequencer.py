"""The sentence sequencer, case by case: what reaches the client, in which order, and when the watchdog steps in.

Messages are the synthesis job's (voicechat.jobs.tts_sentence): ``start``, ``audio`` chunks
numbered from 0, ``end`` with the chunk count, or ``error``. Each case queues some
sentences, then runs steps: a job message (with what it releases), a tick of the test's
clock (with the sentence then overdue), a barge-in, or the watchdog giving a sentence up.
"""

from __future__ import annotations

import pytest

from voicechat.sequencer import Overdue, Release, Sequencer

STALL = 8.0


def start(seq):
    return {"seq": seq, "kind": "start", "sample_rate": 22050, "engine": "espeak", "voice": "espeak:en-us"}


def audio(seq, index):
    return {"seq": seq, "kind": "audio", "index": index, "data": bytes([seq, index])}


def end(seq, chunks, **extra):
    return {"seq": seq, "kind": "end", "chunks": chunks, **extra}


def error(seq):
    return {"seq": seq, "kind": "error", "message": "engine failed"}


def shown(release: Release) -> str:
    """A release as the tables write it: "start 0", "audio 0.1", "lost 0.1", "end 0"..."""
    if release.kind == "audio":
        return f"audio {release.seq}.{release.message['index']}"
    if release.kind == "chunk_lost":
        return f"lost {release.seq}.{release.chunk}"
    return f"{release.kind} {release.seq}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


TICK, STOP, GIVE_UP = "tick", "stop", "give_up"

CASES = {
    "in order": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (audio(0, 1), ["audio 0.1"]),
        (end(0, 2), ["end 0"]),
    ]),
    "sentences out of order": (3, [
        (start(2), []), (audio(2, 0), []), (end(2, 1), []),
        (start(1), []), (end(1, 0), []),
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 1), ["end 0", "start 1", "end 1", "start 2", "audio 2.0", "end 2"]),
    ]),
    "next sentence starts while one plays": (2, [
        (start(0), ["start 0"]),
        (start(1), []), (audio(1, 0), []),
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 1), ["end 0", "start 1", "audio 1.0"]),
        (end(1, 1), ["end 1"]),
    ]),
    "missing chunk in the middle": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (audio(0, 2), ["lost 0.1", "audio 0.2"]),
        (end(0, 3), ["end 0"]),  # already reported: the count now matches
    ]),
    "missing last chunk": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 2), ["incomplete 0", "end 0"]),
    ]),
    "missing start": (1, [
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 1), ["end 0"]),
    ]),
    "missing sentence, then the watchdog": (2, [
        (start(1), []), (audio(1, 0), []), (end(1, 1), []),
        ((TICK, STALL - 0.5), None),
        ((TICK, 0.5), 0),  # nothing for seq 0 for STALL seconds
        ((GIVE_UP, 0), ["failed 0", "end 0", "start 1", "audio 1.0", "end 1"]),
        ((TICK, STALL), None),  # all played
        (start(0), []), (audio(0, 0), []),  # the lost sentence turning up late plays nothing
    ]),
    "missing end, then the watchdog": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        ((TICK, STALL), 0),
        ((GIVE_UP, 0), ["failed 0", "end 0"]),
        (end(0, 1), []),
    ]),
    "a message resets the stall": (2, [
        ((TICK, STALL - 1), None),
        (start(0), ["start 0"]),
        ((TICK, STALL - 1), None),
        ((TICK, 1), 0),
    ]),
    "a message of a later sentence resets the stall too": (2, [
        ((TICK, STALL - 1), None),
        (start(1), []),
        ((TICK, STALL - 1), None),
    ]),
    "give up on a sentence no longer waited for": (2, [
        (start(0), ["start 0"]), (end(0, 0), ["end 0"]),
        ((GIVE_UP, 0), []),
    ]),
    "duplicate chunk": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (audio(0, 0), []),
        (audio(0, 1), ["audio 0.1"]),
        (end(0, 2), ["end 0"]),
    ]),
    "duplicate start": (1, [
        (start(0), ["start 0"]),
        (start(0), []),
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 1), ["end 0"]),
    ]),
    "duplicate end": (2, [
        (start(0), ["start 0"]), (end(0, 0), ["end 0"]),
        (end(0, 0), []),
        (start(1), ["start 1"]), (end(1, 0), ["end 1"]),
    ]),
    "duplicates held back": (2, [
        (start(1), []), (start(1), []), (audio(1, 0), []), (audio(1, 0), []), (end(1, 1), []), (end(1, 1), []),
        (start(0), ["start 0"]),
        (end(0, 0), ["end 0", "start 1", "audio 1.0", "end 1"]),
    ]),
    "interrupted mid-sentence": (2, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (start(1), []),
        (STOP, None),
        (audio(0, 1), []),
        (end(0, 2), []),
        ((TICK, STALL * 10), None),  # the watchdog waits for nothing any more
        ((GIVE_UP, 0), []),
    ]),
    "last chunk of a cancelled job": (1, [
        (start(0), ["start 0"]),
        (audio(0, 0), ["audio 0.0"]),
        (end(0, 1, cancelled=True), ["end 0"]),
    ]),
    "synthesis failed": (2, [
        (start(0), ["start 0"]),
        (error(0), ["failed 0", "end 0"]),
        (start(1), ["start 1"]),
        (end(1, 0), ["end 1"]),
    ]),
    "nothing to say (punctuation only)": (1, [
        (start(0), ["start 0"]),
        (end(0, 0), ["end 0"]),
    ]),
    "unknown message": (1, [
        ({"seq": 0, "kind": "progress"}, []),
        (start(0), ["start 0"]),
    ]),
}


@pytest.mark.parametrize("sentences, steps", CASES.values(), ids=CASES.keys())
def test_sequencer(sentences, steps):
    clock = Clock()
    sequencer = Sequencer(stall_seconds=STALL, clock=clock)
    for seq in range(sentences):
        assert sequencer.queued(f"job-{seq}") == seq
    for step, expected in steps:
        if step == STOP:
            sequencer.stop()
        elif isinstance(step, tuple) and step[0] == TICK:
            clock.now += step[1]
            overdue = sequencer.overdue()
            assert (overdue.seq if overdue else None) == expected, f"after {clock.now - 1000.0} s"
        elif isinstance(step, tuple) and step[0] == GIVE_UP:
            assert [shown(r) for r in sequencer.give_up(step[1], "worker gone")] == expected
        else:
            assert [shown(r) for r in sequencer.feed(step)] == expected, step


def test_released_messages_carry_what_the_client_needs():
    sequencer = Sequencer(stall_seconds=STALL)
    sequencer.queued()
    first, = sequencer.feed(start(0))
    assert first.message["sample_rate"] == 22050 and first.message["voice"] == "espeak:en-us"
    assert sequencer.feed(audio(0, 0))[0].message["data"] == bytes([0, 0])
    failed, ended = sequencer.feed(error(0))
    assert failed.message["message"] == "engine failed" and ended.kind == "end"
    assert sequencer.all_played


def test_overdue_names_the_sentence_and_its_job():
    clock = Clock()
    sequencer = Sequencer(stall_seconds=STALL, clock=clock)
    assert sequencer.overdue() is None  # nothing queued
    sequencer.queued("job-a")
    sequencer.queued(None)  # the embedded mode has no job ids
    clock.now += STALL
    assert sequencer.overdue() == Overdue(seq=0, job_id="job-a", waited=STALL)
    sequencer.give_up(0, "lost")
    clock.now += STALL + 1
    assert sequencer.overdue() == Overdue(seq=1, job_id=None, waited=STALL + 1)


@pytest.mark.parametrize("state, waited, still", [
    ("queued", 10.0, True),
    ("running", 10.0, True),
    ("unknown", 10.0, True),  # Redis unreachable: wait, within the limit
    ("running", 128.0, False),  # past the job's time limit
    ("missing", 10.0, False),
    ("no live worker", 10.0, False),
    ("worker gone", 10.0, False),
    ("finished", 10.0, False),  # done, but its messages were lost
    ("failed", 10.0, False),
])
def test_watchdog_waits_only_for_jobs_that_may_still_deliver(state, waited, still):
    assert Overdue(seq=0, job_id="j", waited=waited).may_still_arrive(state, limit=128.0) is still
