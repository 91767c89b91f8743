"""A typed turn sent over HTTP, its answer streamed back as Server-Sent Events by a real daphne."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import read_events
from voicechat.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

TOKENS = ["I hear", " you.", " Let us", " breathe", " together."]


def test_a_text_turn_streams_its_answer_and_saves_both_messages(make_user, token_for, stream_server, llm):
    user = make_user("alice")
    conversation = Conversation.objects.create(user=user)
    llm.script = [{"tokens": TOKENS, "interval": 0.4}, {"content": '{"title": "Breathing together"}'}]
    with stream_server.client(token_for(user)) as http:
        started = time.monotonic()
        with http.stream("POST", f"/api/v1/conversations/{conversation.pk}/messages", json={"text": "I feel tense."}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            events = read_events(r)
        names = [name for _, name, _ in events]
        # Each piece is sent once it has passed the answer screen: the first clause or sentence, then sentences.
        assert names == ["turn.start", "llm.token", "llm.token", "llm.done", "conversation.title"], names
        pieces = [data["text"] for _, name, data in events if name == "llm.token"]
        assert pieces == ["I hear you.", " Let us breathe together."] and "".join(pieces) == "".join(TOKENS)
        assert events[0][2]["crisis"] is False
        # Streamed: the first piece arrived while the model was still writing (0.4 s between tokens).
        first_token = next(t for t, name, _ in events if name == "llm.token")
        done = next(t for t, name, _ in events if name == "llm.done")
        assert done - first_token > 0.5, (first_token - started, done - started)
        messages = list(conversation.messages.order_by("created_at", "id"))
        assert [(m.role, m.text) for m in messages] == [("user", "I feel tense."), ("assistant", "".join(TOKENS))]
        assert events[0][2]["message_id"] == messages[0].pk and events[-2][2]["message_id"] == messages[1].pk
        assert messages[1].language == "en" and messages[1].model and not messages[1].interrupted
        assert events[-1][2]["title"] == "Breathing together"
        # The LLM saw the companion's persona and the turn.
        prompt = llm.requests[0]["messages"]
        assert prompt[0]["role"] == "system" and prompt[-1] == {"role": "user", "content": "I feel tense."}

        # The next turn carries the history.
        llm.script = [{"tokens": ["Good."], "interval": 0.01}]
        with http.stream("POST", f"/api/v1/conversations/{conversation.pk}/messages", json={"text": "Thanks"}) as r:
            assert [n for _, n, _ in read_events(r)] == ["turn.start", "llm.token", "llm.done"]
        history = llm.requests[-1]["messages"]
        assert {"role": "assistant", "content": "".join(TOKENS)} in history

        # Bad input: a JSON error before any stream, nothing saved.
        count = Message.objects.count()
        for body in ({"text": "   "}, {"text": ""}, {}, {"text": "x" * 2001}):
            bad = http.post(f"/api/v1/conversations/{conversation.pk}/messages", json=body)
            assert bad.status_code == 400 and bad.json()["error"]["fields"].keys() == {"text"}, bad.text
        assert Message.objects.count() == count


def test_an_llm_failure_is_an_error_event_and_the_turn_is_kept(make_user, token_for, stream_server, llm):
    user = make_user("bob")
    conversation = Conversation.objects.create(user=user)
    llm.script = [{"status": 500}]
    with stream_server.client(token_for(user)) as http:
        with http.stream("POST", f"/api/v1/conversations/{conversation.pk}/messages", json={"text": "Hello?"}) as r:
            events = read_events(r)
    assert [name for _, name, _ in events] == ["turn.start", "error", "llm.done"]
    assert events[1][2]["code"] == "llm_unavailable" and "500" in events[1][2]["message"]
    answer = conversation.messages.get(role="assistant")
    assert answer.text == "" and "500" in answer.telemetry["error"]


def test_a_client_that_leaves_mid_answer_keeps_the_partial_answer(make_user, token_for, stream_server, llm):
    user = make_user("carol")
    conversation = Conversation.objects.create(user=user)
    llm.script = [{"tokens": ["One.", " Two.", " Three.", " Four.", " Five.", " Six."], "interval": 0.5}]
    with stream_server.client(token_for(user)) as http:
        with http.stream("POST", f"/api/v1/conversations/{conversation.pk}/messages", json={"text": "Count"}) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and "One." in line:
                    break  # leave after the first piece
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not conversation.messages.filter(role="assistant").exists():
        time.sleep(0.2)
    answer = conversation.messages.get(role="assistant")
    assert answer.interrupted and answer.text.startswith("One.") and "Six." not in answer.text
