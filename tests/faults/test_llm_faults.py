"""The LLM endpoint hangs, then fails: generations fall back to the template writer, chat answers with a clear error."""

from __future__ import annotations

import asyncio
import time

import pytest

from emotune.models import JobStatus
from music.services import generation_create
from tests import helpers
from tests.faults.conftest import ChatClient
from tests.faults.test_worker_kill import final_status
from voicechat.models import Conversation

pytestmark = [pytest.mark.long, pytest.mark.django_db(transaction=True)]

LLM_TIMEOUT = 1.0


@pytest.mark.parametrize("fault,script", [
    ("hangs", [{"hang": 4}]),
    ("fails", [{"status": 503}]),
    ("hangs then fails", [{"hang": 4}, {"status": 500}]),
])
def test_generation_falls_back_to_the_template_writer(user, fake_llm, procs, fault, script):
    fake_llm.script = script
    procs.append(helpers.start_worker("gpu", env={
        "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k", "LLM_TIMEOUT": str(LLM_TIMEOUT),
    }))
    row = generation_create(user=user, params={"duration": 5}, emotion="sad", description="rain on the window")
    started = time.monotonic()
    assert final_status(row, 60) == JobStatus.SUCCEEDED, row.error
    seconds = time.monotonic() - started
    print(f"fault: LLM {fault}: generation final in {seconds:.1f} s, path {row.prompt_path}, "
          f"{len(fake_llm.requests)} LLM calls")
    assert row.prompt_path == "template" and row.audio
    notes = " ".join(n for step in row.agent_notes.values() for n in step["notes"])
    assert all(step["path"] == "template" for step in row.agent_notes.values()), row.agent_notes
    if "hang" in script[0]:
        assert "timed out" in notes
    if "status" in script[-1]:
        assert "answered HTTP" in notes
    # Three agents, two attempts each, each bounded by the LLM timeout.
    assert len(fake_llm.requests) == 6 and seconds < 6 * LLM_TIMEOUT + 10


def test_chat_answers_with_a_clear_error_when_the_llm_hangs_or_fails(user, fake_llm, procs, tmp_path):
    fake_llm.script = [
        {"hang": 6},  # no answer at all
        {"status": 500},  # an error answer
        {"tokens": ["I hear you, that sounds hard.", " And then"], "interval": 6},  # stalls mid-stream
        {"tokens": ["I am back.", " Let us breathe."], "interval": 0.01},
    ]
    port = helpers.free_port()
    procs.append(helpers.start_daphne(port, tmp_path / "daphne.log", env={
        "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k", "LLM_TIMEOUT": str(LLM_TIMEOUT),
    }))
    procs.append(helpers.start_worker("gpu", env={"VOICE_TTS": "piper"}))
    conversation = Conversation.objects.create(user=user)
    client = ChatClient(port, helpers.session_cookie(user), conversation.pk)

    async def scenario():
        await client.connect()
        turns = []
        for text in ("Hello?", "Are you there?", "I had a long day.", "Still there?"):
            started = time.monotonic()
            events, audio = await client.turn(text, timeout=30)
            turns.append((events, audio, time.monotonic() - started))
        await client.close()
        return turns

    turns = asyncio.run(scenario())
    expected = ["the LLM endpoint timed out", "the LLM endpoint answered HTTP 500", "the LLM endpoint timed out", None]
    for (events, audio, seconds), cause, name in zip(turns, expected, ["hangs", "fails", "stalls mid-stream", "recovers"]):
        errors = [e for e in events if e["type"] == "error"]
        print(f"fault: LLM {name}: chat turn final in {seconds:.1f} s, errors {[e['message'] for e in errors]}")
        assert events[-1]["type"] == "turn.metrics"
        assert seconds < LLM_TIMEOUT + 8
        if cause is None:
            assert not errors and audio > 0
        else:
            assert [e["code"] for e in errors] == ["llm_unavailable"] and cause in errors[0]["message"]
    # The sentence that arrived before the stall is kept and spoken: its first clause, then the
    # rest (the answer's first piece may end at a clause, so that speech starts sooner).
    assert [e["seq"] for e in turns[2][0] if e["type"] == "tts.end"] == [0, 1] and turns[2][1] > 0
    messages = list(conversation.messages.order_by("pk"))
    assert [m.role for m in messages] == ["user", "assistant"] * 4
    assert [m.text for m in messages[1::2]] == ["", "", "I hear you, that sounds hard.", "I am back. Let us breathe."]
    assert [m.telemetry.get("error") for m in messages[1::2]] == expected
