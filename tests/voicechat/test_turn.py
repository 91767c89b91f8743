"""voicechat.turn without a websocket: a session driven through a port that records what it is told.

The rest is the real thing: the LLM stream from the scripted OpenAI-compatible server
(``fake_llm``), sentences synthesised by espeak-ng through voicechat.jobs, their audio
coming back over the channel layer as it does to a consumer, the Redis rate limit,
and, for the watchdog, RQ's ``gpu`` queue with no worker to take the job.
"""

from __future__ import annotations

import ast
import asyncio
import itertools
import random
import uuid
from pathlib import Path

import pytest
from channels.layers import get_channel_layer

from voicechat.turn import Port, TurnContext, VoiceSession

ROOT = Path(__file__).resolve().parents[2]
_users = itertools.count(random.randrange(10**6, 10**7) * 100)  # rate-limit keys of their own


class RecordingPort(Port):
    """The adapter boundary: events, audio and messages kept in lists."""

    def __init__(self, history: list | None = None) -> None:
        self.events: list[dict] = []
        self.audio: list[bytes] = []
        self.messages: dict[int, dict] = {}
        self.history = history or []
        self.careful = False
        self.titles: list[str] = []
        self.got = asyncio.Event()

    async def send_event(self, event: dict) -> None:
        self.events.append(event)
        self.got.set()

    async def send_bytes(self, data: bytes) -> None:
        self.audio.append(data)
        self.events.append({"type": "audio", "size": len(data)})

    async def save(self, *, message_id: int | None = None, **fields) -> int:
        if message_id is None:
            message_id = len(self.messages) + 1
            self.messages[message_id] = dict(fields)
        else:
            self.messages[message_id].update(fields)
        return message_id

    async def context(self):
        return TurnContext(history=self.history, careful=self.careful)

    async def message_count(self) -> int:
        return len(self.messages)

    async def title_write(self) -> str | None:
        self.titles.append("asked")
        return "A calm talk"

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def until(self, kind: str, timeout: float = 20.0) -> None:
        async def wait():
            while kind not in self.kinds():
                self.got.clear()
                await self.got.wait()

        await asyncio.wait_for(wait(), timeout)


async def session_with(port: RecordingPort):
    """A session whose synthesis jobs answer on a channel of its own, read as a consumer reads it."""
    layer = get_channel_layer()
    # A plain channel, receivable from any test's event loop (a process-local one shares a lock
    # that a cancelled receive of an earlier test may leave bound to that test's loop).
    channel = f"turntest.{uuid.uuid4().hex}"
    session = VoiceSession(port, user_id=next(_users), reply_to=channel)

    async def pump():
        while True:
            await session.tts_message(await layer.receive(channel))

    session.tasks.spawn(pump())
    return session


async def test_a_typed_turn_is_answered_spoken_in_order_and_saved(voice, fake_llm):
    fake_llm.script = [{"tokens": ["I hear", " you.", " Let's", " breathe", " together."]}]
    port = RecordingPort()
    session = await session_with(port)
    await session.typed("I feel tense today")
    await port.until("conversation.title")
    kinds = port.kinds()
    assert kinds[0] == "turn.start" and port.events[0]["text"] == "I feel tense today"
    # Each piece is sent (and spoken) once it has passed the answer screen.
    assert [e["text"] for e in port.events if e["type"] == "llm.token"] == ["I hear you.", " Let's breathe together."]
    spoken = [(e["type"], e.get("seq")) for e in port.events if e["type"] in ("tts.start", "tts.end")]
    assert spoken == [("tts.start", 0), ("tts.end", 0), ("tts.start", 1), ("tts.end", 1)]
    assert "audio" in kinds[kinds.index("tts.start"):kinds.index("tts.end")]
    assert sum(map(len, port.audio)) > 22050 and "error" not in kinds
    assert kinds.index("turn.metrics") > kinds.index("llm.done") and kinds.index("turn.metrics") > max(
        i for i, k in enumerate(kinds) if k == "tts.end")
    user, answer = port.messages[1], port.messages[2]
    assert user["role"] == "user" and user["text"] == "I feel tense today" and user["telemetry"]["asr_final_ms"] == 0
    assert answer["role"] == "assistant" and answer["text"] == "I hear you. Let's breathe together."
    assert not answer["interrupted"] and answer["voice"] == "espeak:en-us" and answer["language"] == "en"
    metrics = next(e for e in port.events if e["type"] == "turn.metrics")
    telemetry = answer["telemetry"]
    assert metrics["message_id"] == 2 and telemetry["sentences"] == 2
    assert telemetry["tts_first_audio_ms"] == metrics["tts_first_audio_ms"] >= metrics["llm_first_token_ms"] >= 0
    assert {"turn", "context", "llm_request", "llm_first_token", "first_sentence", "tts_queued", "audio_out"} <= set(telemetry["stages_ms"])
    assert port.events[-1] == {"type": "conversation.title", "title": "A calm talk"}
    session.tasks.cancel()


class SlowPort(RecordingPort):
    """Writes that take a while, as on a busy database: the turn's saves overlap."""

    async def save(self, *, message_id: int | None = None, **fields) -> int:
        await asyncio.sleep(0.5)
        return await super().save(message_id=message_id, **fields)


async def test_the_answer_is_one_message_when_its_saves_overlap(voice, fake_llm):
    """The LLM's end saves the answer; the last sentence played while that write was in flight
    saves it again: one assistant message, updated, never two."""
    fake_llm.script = [{"tokens": ["Okay."]}]
    port = SlowPort()
    session = await session_with(port)
    await session.typed("Hi")
    await port.until("turn.metrics")
    roles = [m["role"] for m in port.messages.values()]
    assert roles == ["user", "assistant"], port.messages
    assert port.messages[2]["text"] == "Okay." and port.messages[2]["voice"] == "espeak:en-us"
    session.tasks.cancel()


async def test_interrupt_keeps_the_partial_answer_and_nothing_plays_after_it(voice, fake_llm):
    words = ["This", " is", " a", " long", " answer."] + [f" Sentence {i} goes on and on." for i in range(30)]
    fake_llm.script = [{"tokens": words, "interval": 0.05}]
    port = RecordingPort()
    session = await session_with(port)
    await session.typed("tell me a story")
    await port.until("tts.start")
    await session.interrupt(reason="client")
    after = len(port.events)
    assert port.events[-1]["type"] == "turn.interrupted" and port.events[-1]["reason"] == "client"
    await asyncio.sleep(1.5)
    assert len(port.events) == after  # no token, audio or end of this turn once interrupted
    answer = port.messages[port.events[-1]["message_id"]]
    assert answer["interrupted"] and answer["text"].startswith("This is a long answer.")
    assert len(answer["text"]) < len("".join(words))
    assert "turn.metrics" not in port.kinds() and not port.titles
    session.tasks.cancel()


async def test_a_new_turn_interrupts_the_one_under_way(voice, fake_llm):
    fake_llm.script = [{"tokens": ["One", " two", " three", " four."] * 20, "interval": 0.05}, {"tokens": ["Yes."]}]
    port = RecordingPort()
    session = await session_with(port)
    await session.typed("count for me")
    await port.until("llm.token")
    await session.typed("stop counting")
    await port.until("turn.metrics")
    interrupted = next(e for e in port.events if e["type"] == "turn.interrupted")
    assert interrupted["reason"] == "new_turn"
    starts = [e for e in port.events if e["type"] == "turn.start"]
    assert [s["text"] for s in starts] == ["count for me", "stop counting"]
    second = port.events[port.kinds().index("turn.start", port.kinds().index("turn.interrupted")):]
    assert [e["text"] for e in second if e["type"] == "llm.token"] == ["Yes."]
    roles = [(m["role"], m.get("interrupted", False)) for m in port.messages.values()]
    assert roles == [("user", False), ("assistant", True), ("user", False), ("assistant", False)]
    session.tasks.cancel()


async def test_llm_down_is_told_and_the_turn_still_ends_saved(voice, fake_llm):
    fake_llm.script = [{"status": 503}]
    port = RecordingPort()
    session = await session_with(port)
    await session.typed("hello?")
    await port.until("turn.metrics")
    error = next(e for e in port.events if e["type"] == "error")
    assert error["code"] == "llm_unavailable" and "503" in error["message"]
    answer = port.messages[2]
    assert answer["text"] == "" and "503" in answer["telemetry"]["error"]
    assert not port.titles  # a failed first exchange does not name the conversation
    session.tasks.cancel()


async def test_over_the_tts_limit_the_answer_goes_on_as_text(voice, fake_llm):
    voice.RATE_LIMITS = {**voice.RATE_LIMITS, "tts": (1, 3600)}
    fake_llm.script = [{"tokens": ["First sentence here.", " Second one now.", " And a third."]}]
    port = RecordingPort()
    session = await session_with(port)
    await session.typed("talk to me")
    await port.until("turn.metrics")
    errors = [e["code"] for e in port.events if e["type"] == "error"]
    assert errors == ["tts_rate_limited"]  # told once
    assert [e["seq"] for e in port.events if e["type"] == "tts.end"] == [0]
    assert port.messages[2]["text"] == "First sentence here. Second one now. And a third."
    assert port.messages[2]["telemetry"]["sentences"] == 1
    session.tasks.cancel()


async def test_watchdog_ends_a_turn_whose_sentence_job_nobody_runs(voice, fake_llm):
    import django_rq

    voice.JOBS_BACKEND = "rq"
    voice.VOICE_TTS_STALL_SECONDS = 0.5
    # Past the job's time limit the watchdog gives up whatever RQ says (a stale heartbeat may look alive).
    voice.JOB_TIMEOUTS = {**voice.JOB_TIMEOUTS, "voicechat.tts": 1}
    fake_llm.script = [{"tokens": ["Nobody will say this."]}]
    port = RecordingPort()
    session = await session_with(port)
    try:
        await session.typed("anyone there")
        await port.until("turn.metrics", timeout=15)
    finally:
        django_rq.get_queue("gpu").empty()  # the job no worker took must not reach later tests' workers
    error = next(e for e in port.events if e["type"] == "error")
    assert error["code"] == "tts_failed" and "sentence 1 was lost" in error["message"]
    assert [e["seq"] for e in port.events if e["type"] == "tts.end"] == [0]
    assert port.messages[2]["telemetry"]["error"] == "speech synthesis was lost"
    session.tasks.cancel()


def _module_imports(path: Path) -> set[str]:
    """Modules a file imports when it is imported (not those imported inside its functions)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("module", ["voicechat.turn", "voicechat.sequencer", "voicechat.hearing"])
def test_the_turn_modules_do_not_depend_on_channels(module):
    seen, todo, reached = set(), [module], set()
    while todo:
        name = todo.pop()
        path = ROOT / (name.replace(".", "/") + ".py")
        if name in seen or not path.exists():
            continue
        seen.add(name)
        for imported in _module_imports(path):
            reached.add(imported.split(".")[0])
            todo.append(imported)
    assert "channels" not in reached and "daphne" not in reached, sorted(seen)
