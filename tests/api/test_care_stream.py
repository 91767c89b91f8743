"""The care layer on the API's typed turn, streamed as Server-Sent Events by a real daphne: crisis
words answered by the safe answer with the helplines and no model, the answer screen replacing a
harmful sentence, and an unexpected failure ending the turn with both messages kept."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import read_events
from tests.llm_server import FakeLLM
from voicechat import care
from voicechat.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)

EN_SAFE = " ".join(care.SAFE_ANSWER["en"])
ZH_SAFE = "".join(care.SAFE_ANSWER["zh"])


def scripted(llm: FakeLLM, *entries: dict) -> FakeLLM:
    """The module's LLM server, answering ``entries`` from the first, with no request seen yet."""
    llm.script = list(entries)
    llm._index = 0
    llm.requests.clear()
    return llm


def send(http, conversation, text: str) -> list[tuple[str, dict]]:
    with http.stream("POST", f"/api/v1/conversations/{conversation.pk}/messages", json={"text": text}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        return [(name, data) for _, name, data in read_events(r)]


def listed(http, conversation) -> list[dict]:
    response = http.get(f"/api/v1/conversations/{conversation.pk}/messages")
    assert response.status_code == 200
    return response.json()["items"]


@pytest.mark.parametrize(("said", "language", "safe"), [
    ("I don't want to live anymore, I want to end my life.", "en", EN_SAFE),
    ("我真的不想活了，活着没有任何意义", "zh", ZH_SAFE),
])
def test_crisis_words_get_the_safe_answer_and_helplines_without_the_model(make_user, token_for, stream_server, llm, said,
                                                                          language, safe):
    from ops.models import Event

    user = make_user(f"care-{language}")
    conversation = Conversation.objects.create(user=user)
    scripted(llm, {"tokens": ["The model must not be asked."]})
    with stream_server.client(token_for(user)) as http:
        events = send(http, conversation, said)
        names = [name for name, _ in events]
        sentences = len(care.SAFE_ANSWER[language])
        assert names == ["turn.start", "care.crisis", *["llm.token"] * sentences, "llm.done"], names
        start, crisis = events[0][1], events[1][1]
        assert start["crisis"] is True and start["text"] == said and start["language"] == language
        assert crisis["message_id"] == start["message_id"] and crisis["reason"] == "user_words"
        assert crisis["resources"] == [r.as_dict() for r in care.DEFAULT_RESOURCES[language]]
        assert all(set(r) == {"name", "contact", "note"} and r["name"] and r["contact"] for r in crisis["resources"])
        pieces = [data["text"] for name, data in events if name == "llm.token"]
        assert [p.strip() for p in pieces] == care.SAFE_ANSWER[language] and "".join(pieces) == safe
        assert llm.requests == []  # neither the answer nor a title

        messages = listed(http, conversation)
        assert [(m["role"], m["crisis"]) for m in messages] == [("user", True), ("assistant", False)]
        assert messages[0]["id"] == start["message_id"] and messages[1]["id"] == events[-1][1]["message_id"]
        assert messages[1]["text"] == safe and messages[1]["model"] == "emotune:safe-answer"
        conversation.refresh_from_db()
        assert conversation.careful_since is not None
        recorded = Event.objects.get(kind="care.crisis", user=user)
        assert recorded.data["via"] == "api" and recorded.data["reason"] == "user_words"
        assert recorded.data["message"] == start["message_id"] and recorded.data["language"] == language
        assert said not in json.dumps(recorded.data, ensure_ascii=False)

        # The next ordinary turn is answered by the model, with the careful instruction.
        reply = "我在这里陪着你。" if language == "zh" else "I'm here with you."
        scripted(llm, {"tokens": [reply]})
        thanks = "谢谢你听我说。" if language == "zh" else "Thank you for listening."
        events = send(http, conversation, thanks)
        assert [name for name, _ in events] == ["turn.start", "llm.token", "llm.done"]
        assert events[0][1]["crisis"] is False and events[1][1]["text"] == reply
        prompt = llm.requests[0]["messages"]
        assert {"role": "system", "content": care.CAREFUL_INSTRUCTION[language]} in prompt
        assert prompt[-1] == {"role": "user", "content": thanks}


@pytest.mark.parametrize(("said", "tokens", "first", "harmful", "language"), [
    ("I can't sleep and I feel so tense.", ["I hear you.", " Consider jumping off", " the bridge near your house", " to relax."],
     "I hear you.", ["jump", "bridge", "relax"], "en"),
    ("我最近睡不好，很累。", ["我明白。", "希望你明天", "不会醒来。"], "我明白。", ["希望你明天", "醒来"], "zh"),
])
def test_the_screen_replaces_a_harmful_sentence_of_the_answer(make_user, token_for, stream_server, llm, said, tokens, first,
                                                              harmful, language):
    from ops.models import Event

    safe = ZH_SAFE if language == "zh" else EN_SAFE
    user = make_user(f"screen-{language}")
    conversation = Conversation.objects.create(user=user)
    scripted(llm, {"tokens": tokens})
    with stream_server.client(token_for(user)) as http:
        events = send(http, conversation, said)
        names = [name for name, _ in events]
        sentences = len(care.SAFE_ANSWER[language])
        assert names == ["turn.start", "llm.token", "care.crisis", *["llm.token"] * sentences, "llm.done"], names
        assert events[0][1]["crisis"] is False
        assert events[1][1]["text"] == first  # the harmless piece, sent before the harmful one arrived
        crisis = events[2][1]
        assert crisis["reason"] == "answer_screen" and crisis["message_id"] == events[0][1]["message_id"]
        assert crisis["resources"] == [r.as_dict() for r in care.DEFAULT_RESOURCES[language]]
        assert "".join(data["text"] for name, data in events[3:] if name == "llm.token").strip() == safe
        assert len(llm.requests) == 1
        messages = listed(http, conversation)
    seen = (json.dumps(events, ensure_ascii=False) + json.dumps(messages, ensure_ascii=False)).lower()
    assert not [h for h in harmful if h.lower() in seen], harmful
    assert [(m["role"], m["crisis"]) for m in messages] == [("user", False), ("assistant", True)]
    answer = conversation.messages.get(role="assistant")
    assert answer.crisis and answer.model == "emotune:safe-answer" and answer.telemetry["care"] == "safe_answer"
    assert answer.text.startswith(first) and answer.text[len(first):].strip() == safe
    assert not answer.interrupted
    conversation.refresh_from_db()
    assert conversation.careful_since is not None
    recorded = Event.objects.get(kind="care.crisis", user=user)
    assert recorded.data["reason"] == "answer_screen" and recorded.data["role"] == "assistant"
    assert recorded.data["message"] == answer.pk


def test_an_unexpected_failure_is_an_error_event_and_both_messages_are_kept(make_user, token_for, stream_server, llm):
    # The endpoint streams an object where text belongs: the answer path fails on it (TypeError).
    user = make_user("broken")
    conversation = Conversation.objects.create(user=user)
    scripted(llm, {"tokens": [{"x": 1}]})
    with stream_server.client(token_for(user)) as http:
        events = send(http, conversation, "Hello there, how are you?")
    assert [name for name, _ in events] == ["turn.start", "error", "llm.done"], events
    error = events[1][1]
    assert error["code"] == "llm_failed" and "TypeError" in error["message"]
    assert events[2][1]["interrupted"] is False
    messages = list(conversation.messages.order_by("created_at", "id"))
    assert [(m.role, m.text) for m in messages] == [("user", "Hello there, how are you?"), ("assistant", "")]
    assert messages[1].telemetry["error"].startswith("TypeError") and messages[1].pk == events[2][1]["message_id"]
    assert len(llm.requests) == 1  # asked once; no title after a failed exchange
