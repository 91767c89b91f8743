import time

import pytest

from emotune.llm import LLMUnavailable, chat_json, chat_stream


def test_chat_json_parses_the_answer(fake_llm):
    fake_llm.script = [{"content": '{"mood": "calm"}'}]
    assert chat_json([{"role": "user", "content": "hi"}]) == {"mood": "calm"}
    assert fake_llm.requests[0]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    "entry,reason",
    [({"content": "not json"}, "not valid JSON"), ({"status": 500}, "HTTP 500"), ({"hang": 3}, "timed out")],
)
def test_chat_json_failures_are_one_exception(fake_llm, entry, reason):
    fake_llm.script = [entry]
    with pytest.raises(LLMUnavailable, match=reason):
        chat_json([{"role": "user", "content": "hi"}])


def test_chat_stream_relays_tokens_in_order(fake_llm):
    fake_llm.script = [{"tokens": ["Hel", "lo", ", ", "friend", "."], "interval": 0.01}]
    assert list(chat_stream([{"role": "user", "content": "hi"}])) == ["Hel", "lo", ", ", "friend", "."]


def test_unconfigured_llm_is_unavailable(settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None
    with pytest.raises(LLMUnavailable, match="no LLM endpoint"):
        chat_json([])


def test_unreachable_endpoint(settings):
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, settings.LLM_TIMEOUT = "http://127.0.0.1:9/v1", "k", 2
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="unreachable"):
        list(chat_stream([{"role": "user", "content": "hi"}]))
    assert time.monotonic() - started < 5


def test_one_client_keeps_its_connection_between_calls(fake_llm):
    fake_llm.script = [{"tokens": ["Hi", " there."]}]
    for _ in range(3):
        assert list(chat_stream([{"role": "user", "content": "hi"}])) == ["Hi", " there."]
    fake_llm.script = [{"content": '{"a": 1}'}]
    assert chat_json([{"role": "user", "content": "hi"}]) == {"a": 1}
    assert len(fake_llm.peers) == 4 and len(set(fake_llm.peers)) == 1


def test_a_stream_left_early_does_not_spoil_the_next_call(fake_llm):
    fake_llm.script = [{"tokens": [f"w{i} " for i in range(40)], "interval": 0.01}]
    stream = chat_stream([{"role": "user", "content": "hi"}])
    assert next(stream) == "w0 "
    stream.close()  # barge-in: the consumer stops reading
    assert list(chat_stream([{"role": "user", "content": "hi"}])) == [f"w{i} " for i in range(40)]


def test_the_client_follows_the_configured_endpoint(fake_llm, settings):
    from tests.llm_server import FakeLLM

    other = FakeLLM().start()
    try:
        other.script = [{"tokens": ["from", " the", " other."]}]
        settings.OPENAI_BASE_URL = other.base_url
        assert list(chat_stream([{"role": "user", "content": "hi"}])) == ["from", " the", " other."]
        assert not fake_llm.requests
    finally:
        other.stop()


def test_a_stream_that_stalls_times_out_with_a_clear_reason(fake_llm):
    fake_llm.script = [{"tokens": ["Hello", " again."], "interval": 4}]  # LLM_TIMEOUT is 2 s here
    with pytest.raises(LLMUnavailable, match="timed out"):
        list(chat_stream([{"role": "user", "content": "hi"}]))
