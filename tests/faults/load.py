"""Load in the production topology: signed-in users chatting over daphne while generations run.

Used by tests/faults/test_load.py and bench/load_bench.py. Each session is a
websocket client of /ws/voicechat/<id>/ sending typed turns one after another
(the answer streams from the loopback LLM, its sentences are synthesised by the
``gpu`` worker that also renders the queued generations).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tests.faults.conftest import ChatClient

ANSWER = [
    "Thank you for telling me how today went.",
    " That sounds like a lot to carry.",
    " Let us take one slow breath together before we go on.",
]


def llm_script(first_delay: float = 0.2, interval: float = 0.02) -> list[dict]:
    words = "".join(ANSWER).split(" ")
    return [{"tokens": [w + " " for w in words[:-1]] + [words[-1]], "first_delay": first_delay, "interval": interval}]


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


@dataclass
class SessionResult:
    turns_done: int = 0
    errors: list[str] = field(default_factory=list)
    turn_s: list[float] = field(default_factory=list)  # text sent -> turn.metrics (all audio delivered)
    first_audio_s: list[float] = field(default_factory=list)  # text sent -> first audio byte
    audio_bytes: int = 0


async def session(port: int, cookie: str, conversation_id: int, turns: int, think_s: float) -> SessionResult:
    result = SessionResult()
    client = ChatClient(port, cookie, conversation_id)
    try:
        await client.connect()
        for i in range(turns):
            sent = time.monotonic()
            first_audio = None
            await client.ws.send(f'{{"type": "text", "text": "Turn {i}: today was long."}}')
            while True:
                frame = await asyncio.wait_for(client.ws.recv(), timeout=120)
                if isinstance(frame, bytes):
                    first_audio = first_audio or time.monotonic()
                    result.audio_bytes += len(frame)
                    continue
                if '"type": "error"' in frame:
                    result.errors.append(frame)
                if '"type": "turn.metrics"' in frame:
                    break
            result.turn_s.append(time.monotonic() - sent)
            if first_audio:
                result.first_audio_s.append(first_audio - sent)
            result.turns_done += 1
            await asyncio.sleep(think_s)
    except Exception as exc:  # a dropped or stuck session counts against the run
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await client.close()
    return result


async def load_run(port: int, sessions: list[tuple[str, int]], *, turns: int, think_s: float = 0.5) -> dict:
    started = time.monotonic()
    results = await asyncio.gather(*(session(port, cookie, cid, turns, think_s) for cookie, cid in sessions))
    elapsed = time.monotonic() - started
    turn_s = [s for r in results for s in r.turn_s]
    first_audio = [s for r in results for s in r.first_audio_s]
    return {
        "sessions": len(sessions),
        "sustained_sessions": sum(1 for r in results if r.turns_done == turns and not r.errors),
        "turns": sum(r.turns_done for r in results),
        "errors": [e for r in results for e in r.errors],
        "turn_p50_s": pct(turn_s, 50), "turn_p95_s": pct(turn_s, 95),
        "first_audio_p50_s": pct(first_audio, 50), "first_audio_p95_s": pct(first_audio, 95),
        "audio_bytes": sum(r.audio_bytes for r in results),
        "elapsed_s": round(elapsed, 1),
    }


def check_counts(conversation_ids: list[int], turns: int) -> dict:
    """Messages in the database against what was sent: one user and one whole assistant message per turn."""
    from voicechat.models import Message

    expected_answer = "".join(ANSWER)
    rows = list(Message.objects.filter(conversation_id__in=conversation_ids).values_list("conversation_id", "role", "text"))
    user = sum(1 for _, role, _ in rows if role == "user")
    assistant = sum(1 for _, role, text in rows if role == "assistant" and text == expected_answer)
    per_conversation_ok = all(
        sum(1 for c, _, _ in rows if c == cid) == 2 * turns for cid in conversation_ids
    )
    return {"sent": len(conversation_ids) * turns, "user_messages": user, "whole_answers": assistant,
            "other_rows": len(rows) - user - assistant, "per_conversation_ok": per_conversation_ok}
