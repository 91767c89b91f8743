"""The voice websocket with WebsocketCommunicator: auth, every message type, limits, typed turns.

Synthesis runs in this process here (the embedded path) with espeak-ng, so each
turn is fast; tests/voicechat/test_full_turn.py runs the RQ path with a real worker.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from tests.helpers import session_cookie, ws_client
from tests.voicechat.speech import said_go_forward
from voicechat.models import Conversation, Message

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user)


async def connect(conversation, user, **kwargs):
    cookie = await database_sync_to_async(session_cookie)(user) if user else None
    client = ws_client(f"/ws/voicechat/{conversation.pk}/", cookie=cookie, **kwargs)
    connected, code = await client.connect()
    return client, connected, code


async def events_until(client, stop_type: str, timeout: float = 10.0) -> tuple[list[dict], list[bytes]]:
    """Collect JSON events and binary frames until an event of ``stop_type``."""
    events, audio = [], []
    while True:
        out = await client.receive_output(timeout)
        if out["type"] == "websocket.close":
            events.append({"type": "closed", "code": out.get("code")})
            return events, audio
        if out.get("bytes") is not None:
            audio.append(out["bytes"])
            events.append({"type": "audio", "size": len(out["bytes"])})
            continue
        event = json.loads(out["text"])
        events.append(event)
        if event["type"] == stop_type:
            return events, audio


async def test_anonymous_is_refused(voice_settings, conversation):
    _client, connected, code = await connect(conversation, None)
    assert not connected and code == 4401


async def test_other_users_conversation_is_refused(voice_settings, conversation, other_user):
    _client, connected, code = await connect(conversation, other_user)
    assert not connected and code == 4404


async def test_foreign_origin_is_refused(voice_settings, conversation, user):
    _client, connected, _ = await connect(conversation, user, origin="http://evil.example")
    assert not connected


async def test_malformed_frames_get_errors_and_session_stays(voice_settings, conversation, user):
    client, connected, _ = await connect(conversation, user)
    assert connected
    for frame, code in [("not json", "bad_json"), ("[1,2]", "bad_type"), ('{"type": "dance"}', "bad_type"),
                        ('{"type": []}', "bad_type"), ('{"type": {"a": 1}}', "bad_type"),
                        ('{"type": "text", "text": "  "}', "bad_text"), ('{"type": "start", "sample_rate": 44100}', "bad_format")]:
        await client.send_to(text_data=frame)
        event = await client.receive_json_from(2)
        assert event == {"type": "error", "code": code, "message": event["message"]}
    await client.send_to(bytes_data=b"\x00\x01")  # audio before start
    assert (await client.receive_json_from(2))["code"] == "not_started"
    await client.send_to(text_data='{"type": "start", "sample_rate": 16000, "format": "pcm16"}')
    assert (await client.receive_json_from(5))["type"] == "listening"
    await client.send_to(bytes_data=b"\x00\x01\x02")  # odd length
    assert (await client.receive_json_from(2))["code"] == "bad_audio"
    await client.send_to(text_data='{"type": "ping"}')
    assert (await client.receive_json_from(2))["type"] == "pong"
    await client.disconnect()


async def test_oversized_frame_closes(voice_settings, conversation, user):
    client, _connected, _ = await connect(conversation, user)
    await client.send_to(bytes_data=b"\x00" * (64 * 1024 + 2))
    assert (await client.receive_json_from(2))["code"] == "too_large"
    assert (await client.receive_output(2))["type"] == "websocket.close"


async def test_rate_cap_closes(voice_settings, conversation, user):
    voice_settings.VOICE_MAX_MESSAGES_PER_SECOND = 10
    client, _connected, _ = await connect(conversation, user)
    for _ in range(25):  # a burst of two seconds' worth passes, then the cap closes
        await client.send_to(text_data='{"type": "ping"}')
    events, _ = await events_until(client, "closed", timeout=3)
    assert 20 <= [e["type"] for e in events].count("pong") <= 21
    assert events[-2]["code"] == "rate_limited" and events[-1]["code"] == 4429


async def test_voice_sockets_per_user_are_capped(voice_settings, conversation, user):
    voice_settings.VOICE_MAX_SOCKETS_PER_USER = 2
    first, _, _ = await connect(conversation, user)
    second, _, _ = await connect(conversation, user)
    third, connected, _ = await connect(conversation, user)
    assert connected  # accepted so that the page can say why it closes
    events, _ = await events_until(third, "closed", timeout=5)
    assert events[0]["code"] == "too_many_sockets" and "2 voice chats open" in events[0]["message"]
    assert events[-1] == {"type": "closed", "code": 4409}
    await second.send_to(text_data='{"type": "ping"}')
    assert (await second.receive_json_from(2))["type"] == "pong"  # the others go on
    await first.disconnect()  # closing one frees its place
    fourth, _, _ = await connect(conversation, user)
    await fourth.send_to(text_data='{"type": "ping"}')
    assert (await fourth.receive_json_from(2))["type"] == "pong"
    await second.disconnect()
    await fourth.disconnect()


async def test_typed_turn_streams_tokens_audio_and_saves(voice_settings, conversation, user, fake_llm):
    fake_llm.script = [{"tokens": ["I hear", " you.", " Let's", " breathe", " together", " for", " a minute."]}]
    client, _connected, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "I feel tense today"}))
    events, audio = await events_until(client, "turn.metrics", timeout=20)
    kinds = [e["type"] for e in events]
    tokens = [e["text"] for e in events if e["type"] == "llm.token"]
    # Pieces as they pass the answer screen: the first sentence, then the next.
    assert tokens == ["I hear you.", " Let's breathe together for a minute."]
    assert kinds.index("llm.done") > kinds.index("llm.token")
    # Two sentences, each tts.start → audio → tts.end, in order.
    starts = [e for e in events if e["type"] == "tts.start"]
    ends = [e for e in events if e["type"] == "tts.end"]
    assert [s["seq"] for s in starts] == [0, 1] and [e["seq"] for e in ends] == [0, 1]
    assert starts[0]["format"] == "pcm16" and starts[0]["sample_rate"] > 8000
    first_start, first_end = kinds.index("tts.start"), kinds.index("tts.end")
    assert "audio" in kinds[first_start:first_end]
    assert sum(len(a) for a in audio) > 22050  # over half a second of speech
    assert all(len(a) <= 64 * 1024 for a in audio)
    metrics = events[-1]
    assert metrics["llm_first_token_ms"] >= 0 and metrics["tts_first_audio_ms"] >= metrics["llm_first_token_ms"]
    assert metrics["total_ms"] >= metrics["tts_first_audio_ms"]

    messages = await database_sync_to_async(lambda: list(conversation.messages.values("role", "text", "interrupted", "telemetry")))()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["text"] == "I feel tense today"
    assert messages[1]["text"] == "I hear you. Let's breathe together for a minute." and not messages[1]["interrupted"]
    assert messages[1]["telemetry"]["tts_first_audio_ms"] == metrics["tts_first_audio_ms"]
    # The request carried the persona and the user's words.
    sent = fake_llm.requests[0]["messages"]
    assert sent[0]["role"] == "system" and sent[-1] == {"role": "user", "content": "I feel tense today"}
    title = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation.pk).title)()
    assert title == "I feel tense today"  # the LLM's title answer was unusable: the first words stay
    await client.disconnect()


async def test_first_exchange_gets_an_llm_written_title(voice_settings, conversation, user, fake_llm):
    fake_llm.script = [{"tokens": ["Let's", " slow", " down."]}, {"content": '{"title": "Easing a tense day."}'}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "I feel tense today"}))
    events, _ = await events_until(client, "conversation.title", timeout=20)
    assert events[-1]["title"] == "Easing a tense day"
    title = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation.pk).title)()
    assert title == "Easing a tense day"
    naming = fake_llm.requests[1]
    assert naming["response_format"] == {"type": "json_object"}
    assert "I feel tense today" in naming["messages"][-1]["content"] and "slow down" in naming["messages"][-1]["content"]
    await client.disconnect()


async def test_history_window_is_sent(voice_settings, conversation, user, fake_llm):
    voice_settings.VOICE_HISTORY_MESSAGES = 2
    await database_sync_to_async(lambda: [
        Message.objects.create(conversation=conversation, role=r, text=t)
        for r, t in [("user", "old one"), ("assistant", "old two"), ("user", "recent"), ("assistant", "recent reply")]
    ])()
    fake_llm.script = [{"tokens": ["Okay."]}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "next"}))
    await events_until(client, "turn.metrics", timeout=20)
    messages = fake_llm.requests[-1]["messages"][1:]
    assert [m["content"] for m in messages if m["role"] != "system"] == ["recent", "recent reply", "next"]
    assert messages[-2] == {"role": "system", "content": "Reply in English only."}  # the turn's language
    await client.disconnect()


async def test_llm_down_gives_visible_error_and_saves_turn(voice_settings, conversation, user, fake_llm):
    fake_llm.script = [{"status": 503}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "hello?"}))
    events, _audio = await events_until(client, "turn.metrics", timeout=20)
    errors = [e for e in events if e["type"] == "error"]
    assert errors and errors[0]["code"] == "llm_unavailable" and "503" in errors[0]["message"]
    messages = await database_sync_to_async(lambda: list(conversation.messages.values("role", "text", "telemetry")))()
    assert messages[0] == {"role": "user", "text": "hello?", "telemetry": messages[0]["telemetry"]}
    assert "503" in messages[1]["telemetry"]["error"]
    await client.disconnect()


async def test_llm_slow_times_out_with_error(voice_settings, conversation, user, fake_llm):
    voice_settings.LLM_TIMEOUT = 0.5
    fake_llm.script = [{"hang": 3, "tokens": ["late."]}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "are you there"}))
    events, _ = await events_until(client, "turn.metrics", timeout=20)
    errors = [e for e in events if e["type"] == "error"]
    assert errors and "timed out" in errors[0]["message"]
    assert await database_sync_to_async(lambda: conversation.messages.filter(role="user").count())() == 1
    await client.disconnect()


async def test_interrupt_stops_audio_and_saves_partial(voice_settings, conversation, user, fake_llm):
    words = ["This", " is", " a", " long", " answer."] + [f" Sentence {i} goes on and on." for i in range(30)]
    fake_llm.script = [{"tokens": words, "interval": 0.05}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data=json.dumps({"type": "text", "text": "tell me a story"}))
    events, _ = await events_until(client, "tts.start", timeout=20)
    await client.send_to(text_data='{"type": "interrupt"}')
    events, _audio = await events_until(client, "turn.interrupted", timeout=5)
    # Nothing of this turn plays after the interrupt is acknowledged.
    await asyncio.sleep(1.5)
    assert await client.receive_nothing(0.5)
    message = await database_sync_to_async(lambda: conversation.messages.get(role="assistant"))()
    assert message.interrupted
    assert message.text.startswith("This is a long answer.") and len(message.text) < len("".join(words))
    assert events[-1]["message_id"] == message.pk
    await client.disconnect()


async def test_speech_while_speaking_barges_in(voice_settings, conversation, user, fake_llm):
    from pathlib import Path

    words = ["Here", " is", " a", " long", " answer."] + [f" Part {i} keeps going for a while." for i in range(30)]
    fake_llm.script = [{"tokens": words, "interval": 0.05}]
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data='{"type": "start", "sample_rate": 16000, "format": "pcm16"}')
    await client.send_to(text_data=json.dumps({"type": "text", "text": "talk to me"}))
    await events_until(client, "tts.start", timeout=20)
    speech = Path("/usr/share/pocketsphinx/test/data/goforward.raw").read_bytes()
    for offset in range(0, len(speech), 3200):  # 100 ms frames
        await client.send_to(bytes_data=speech[offset : offset + 3200])
        await asyncio.sleep(0.02)
    events, _ = await events_until(client, "turn.interrupted", timeout=15)
    assert events[-1]["reason"] == "speech"
    message = await database_sync_to_async(lambda: conversation.messages.get(role="assistant"))()
    assert message.interrupted and message.text.startswith("Here is a long answer.")
    await client.disconnect()


async def test_a_recogniser_process_that_dies_costs_the_utterance_not_the_session(voice_settings, conversation, user, fake_llm):
    from pathlib import Path

    from voicechat import asr_pool

    voice_settings.VOICE_END_SILENCE_MS = 500
    fake_llm.script = [{"tokens": ["I", " hear", " you."], "interval": 0.01}]
    speech = Path("/usr/share/pocketsphinx/test/data/goforward.raw").read_bytes() + bytes(32000)
    client, _, _ = await connect(conversation, user)
    await client.send_to(text_data='{"type": "start", "sample_rate": 16000, "format": "pcm16"}')
    await events_until(client, "listening")
    for offset in range(0, 32000, 3200):  # the first words of an utterance...
        await client.send_to(bytes_data=speech[offset : offset + 3200])
    await asyncio.sleep(1.0)
    for process in asr_pool._pool.processes:  # ...then the recogniser dies
        process.proc.kill()
    for offset in range(0, len(speech), 3200):  # the next utterance is heard by a new recogniser
        await client.send_to(bytes_data=speech[offset : offset + 3200])
        await asyncio.sleep(0.02)
    events, _ = await events_until(client, "turn.metrics", timeout=30)
    finals = [e["text"] for e in events if e["type"] == "asr.final"]
    assert finals and said_go_forward(finals[-1])
    assert "asr_unavailable" not in [e.get("code") for e in events]
    assert await database_sync_to_async(lambda: conversation.messages.filter(role="user").count())() >= 1
    await client.disconnect()
