"""The companion's prompt, language routing, loop guard and model label (no model loaded)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from voicechat.companion import (
    PERSONA,
    LoopGuard,
    NoCopy,
    answer_model_name,
    cjk_share,
    detect_language,
    loop_guarded,
    offline_model,
    persona_language,
    prompt_messages,
    text_language,
)

LISTENER = "I'm just a listener. I'm just a listener. I'm just a listener. I'm just a listener."


def _words(text: str) -> list[str]:
    """Stream ``text`` as a model does: one word (with its leading space) at a time."""
    pieces, word = [], ""
    for ch in text:
        if ch == " " and word.strip():
            pieces.append(word)
            word = ""
        word += ch
    return pieces + [word] if word else pieces


def _chars(text: str) -> list[str]:
    return list(text)


def _run(pieces: list[str]) -> tuple[str, bool, list[str]]:
    guard = LoopGuard()
    out = list(loop_guarded(iter(pieces), guard))
    return "".join(out), guard.tripped, out


@pytest.mark.parametrize(
    "text,expected,tripped",
    [
        # The measured SmolLM2 loop: one copy stays, the repeated tail goes.
        (LISTENER, "I'm just a listener.", True),
        # Case and punctuation do not hide a repeat.
        ("Take a deep breath. take a deep breath! TAKE A DEEP BREATH, and again.", "Take a deep breath.", True),
        # A loop after a good start keeps the start and one copy.
        ("Let's breathe. In, out. In, out. In, out. In, out.", "Let's breathe. In, out.", True),
        ("ha ha ha ha ha ha ha ha", "ha", True),
        # Chinese: characters are the units.
        ("我在这里陪着你。我在这里陪着你。我在这里陪着你。我在这里陪着你。", "我在这里陪着你。", True),
        ("先深呼吸一下。我一直在这里。我一直在这里。我一直在这里。", "先深呼吸一下。我一直在这里。", True),
        # Twice is not a loop; an ordinary answer passes whole.
        ("I hear you. I hear you, and I am here with you tonight.", "I hear you. I hear you, and I am here with you tonight.", False),
        (
            "That sounds really hard. Try a slow breath in for four counts, then out for six. I'm here with you.",
            "That sounds really hard. Try a slow breath in for four counts, then out for six. I'm here with you.",
            False,
        ),
        ("听起来你今天很累。先喝点水，休息一下吧。", "听起来你今天很累。先喝点水，休息一下吧。", False),
        ("", "", False),
    ],
)
@pytest.mark.parametrize("chunking", [_words, _chars, lambda text: [text]], ids=["words", "chars", "whole"])
def test_loop_guard(text, expected, tripped, chunking):
    out, did_trip, _ = _run(chunking(text))
    assert (out, did_trip) == (expected, tripped)


def test_loop_guard_stops_reading_the_stream_once_tripped():
    read = []

    def pieces():
        for piece in _words(LISTENER * 50):
            read.append(piece)
            yield piece

    out, tripped, _ = _run(pieces())
    assert tripped and out == "I'm just a listener."
    assert len(read) < 20  # it did not drain the runaway model


def test_loop_guard_passes_text_on_while_streaming():
    # An ordinary answer comes out while it streams (only the last few words wait), so the
    # first sentence reaches TTS before the model is done.
    guard = LoopGuard()
    pieces = _words("That sounds really hard. Try a slow breath in for four counts, then out for six.")
    emitted = "".join(guard.feed(p) for p in pieces[:8])
    assert emitted.startswith("That sounds really hard.")
    assert guard.finish() and not guard.tripped


def test_loop_guard_emits_nothing_after_tripping():
    guard = LoopGuard()
    for piece in _words(LISTENER):
        guard.feed(piece)
    assert guard.tripped
    assert guard.feed(" more words that are new") == "" and guard.finish() == ""


@pytest.mark.parametrize(
    "text,language",
    [
        ("我最近压力很大，晚上睡不着。", "zh"),
        ("我今天很 stressed", "zh"),
        ("I feel sad today.", "en"),
        ("I tried 冥想 but it did not help at all", "en"),
        ("123 ...", "en"),
    ],
)
def test_detect_language_from_script(text, language):
    assert detect_language(text) == language


def test_answer_language_and_cjk_share():
    assert text_language("听起来你今天很累，OK 的。") == "zh"
    assert text_language("That sounds hard, 加油.") == "en"
    assert text_language("...") == ""
    assert cjk_share("你好") == 1.0 and cjk_share("hello") == 0.0


def _history(*pairs):
    return [SimpleNamespace(role=role, text=text) for role, text in pairs]


def test_prompt_routes_the_persona_by_language():
    zh = prompt_messages(history=[], user_text="我睡不着。")
    assert zh[0] == {"role": "system", "content": PERSONA["zh"]} and "简体中文" in zh[0]["content"]
    en = prompt_messages(history=[], user_text="I can't sleep.")
    assert en[0]["content"] == PERSONA["en"]  and "English" in en[0]["content"]
    # The recogniser's language wins over the script; unknown languages get the English persona.
    assert prompt_messages(history=[], user_text="ok", language="zh")[0]["content"] == PERSONA["zh"]
    assert prompt_messages(history=[], user_text="我睡不着", language="en")[0]["content"] == PERSONA["en"]
    assert prompt_messages(history=[], user_text="hola", language="es")[0]["content"] == PERSONA["en"]
    assert prompt_messages(history=[], user_text="hi", language="zh-CN")[0]["content"] == PERSONA["zh"]


def test_prompt_keeps_history_in_order_and_skips_empty_messages():
    history = _history(("user", "Hi."), ("assistant", ""), ("assistant", "Hello, how are you?"))
    messages = prompt_messages(history=history, user_text="Tired.", small_model=False)
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "Hi."), ("assistant", "Hello, how are you?"), ("system", "Reply in English only."), ("user", "Tired."),
    ]


def test_after_a_history_in_another_language_the_turn_carries_a_language_reminder():
    history = _history(("user", "我睡不着。"), ("assistant", "慢慢来，我在这里。"))
    messages = prompt_messages(history=history, user_text="Work has been stressful.", language="en", small_model=False)
    assert messages[-2] == {"role": "system", "content": "Reply in English only."}
    zh = prompt_messages(history=_history(("user", "Hi.")), user_text="好累", language="zh", small_model=False)
    assert zh[-2]["content"] == "请只用简体中文回答。"
    assert [m["role"] for m in prompt_messages(history=[], user_text="Hi.", small_model=False)] == ["system", "user"]


def _spoken(messages):
    """The conversation a prompt carries, without the persona and the reminders."""
    return [m["content"] for m in messages if m["role"] != "system"]


def test_a_small_model_sees_only_the_turns_in_the_utterance_language_each_after_a_reminder_but_the_first():
    history = _history(
        ("user", "Hi."), ("assistant", "Hello."), ("user", "我睡不着。"), ("assistant", "慢慢来，我在这里。"),
        ("user", "Still awake."), ("assistant", "Try a slow breath."), ("user", "..."), ("assistant", "I'm here."),
    )
    small = prompt_messages(history=history, user_text="Thanks.", language="en", small_model=True)
    assert _spoken(small) == ["Hi.", "Hello.", "Still awake.", "Try a slow breath.", "...", "I'm here.", "Thanks."]
    reminder = {"role": "system", "content": "Reply in English only."}
    assert small[1]["content"] == "Hi." and all(small[i - 1] == reminder for i, m in enumerate(small) if m["role"] == "user" and i > 1)
    assert prompt_messages(history=[], user_text="Hi.", small_model=True) == [small[0], {"role": "user", "content": "Hi."}]
    zh = prompt_messages(history=history, user_text="谢谢。", language="zh", small_model=True)
    assert _spoken(zh) == ["我睡不着。", "慢慢来，我在这里。", "...", "谢谢。"]
    assert zh[-2] == {"role": "system", "content": "请只用简体中文回答。"}
    # With no endpoint configured (the tests' default) the offline window is the default.
    assert prompt_messages(history=history, user_text="Thanks.", language="en") == small
    # An endpoint's model sees the whole window.
    assert len(prompt_messages(history=history, user_text="Thanks.", small_model=False)) == 1 + 8 + 2


@pytest.mark.parametrize("languages", ["en" * 12, "zhzhzhenenen" * 2], ids=["one-language", "alternating-runs-of-3"])
def test_a_small_model_prompt_extends_the_last_one_until_the_window_steps_forward(languages):
    """llama.cpp re-reads only what follows the longest prefix shared with the last prompt: while
    the language stays, the prompt is the last prompt + its answer + the new turn, and the window's
    start moves forward only now and then (in steps of OFFLINE_HISTORY_STEP messages, or once
    after a language switch), always keeping the last OFFLINE_HISTORY_MESSAGES of the language."""
    from voicechat.companion import OFFLINE_HISTORY_MESSAGES

    turns = [languages[i : i + 2] for i in range(0, len(languages), 2)]
    words = {"en": ("Message number {}.", "Answer {}."), "zh": ("第{}条消息。", "第{}个回答。")}
    conversation, last, moves, kept = [], None, 0, 0
    for turn, language in enumerate(turns):
        said, answer = (form.format(turn) for form in words[language])
        history = conversation[-20:]  # VOICE_HISTORY_MESSAGES
        prompt = prompt_messages(history=history, user_text=said, language=language, small_model=True,
                                 history_start=len(conversation) - len(history))
        mine = [m.text for m in conversation if text_language(m.text) == language]
        assert _spoken(prompt)[-OFFLINE_HISTORY_MESSAGES - 1 :] == [*mine[-OFFLINE_HISTORY_MESSAGES:], said]
        assert all(text_language(text) == language for text in _spoken(prompt))
        if last is not None and turns[turn - 1] == language:
            previous = [*last, {"role": "assistant", "content": conversation[-1].text}]
            if prompt[: len(previous)] == previous:
                kept += 1
            else:
                moves += 1
        conversation += _history(("user", said), ("assistant", answer))
        last = prompt
    # Sliding, the start would move at every turn from the third; anchored, it holds at most turns.
    assert kept > 2 * moves, (kept, moves)


def test_persona_language_reads_the_prompt_back():
    assert persona_language(prompt_messages(history=[], user_text="好累")) == "zh"
    assert persona_language(prompt_messages(history=[], user_text="Tired.")) == "en"
    assert persona_language([{"role": "system", "content": "You are a pirate."}]) == ""
    assert persona_language([]) == ""


@pytest.mark.parametrize(
    "answer, banned",
    [
        ([], set()),  # nothing generated yet
        ([1, 2], set()),  # shorter than n - 1: a short quote is fine
        ([1, 2, 3], {4}),  # 4 would complete a 4-token copy of the first source
        ([9, 1, 2, 3], {4}),
        ([5, 6, 7], {8, 9}),  # the span occurs twice (second source, third source)
        ([2, 3, 4], set()),  # the span ends the source: nothing follows it there
        ([3, 2, 1], set()),
    ],
)
def test_no_copy_bans_the_token_that_continues_a_copied_span(answer, banned):
    import numpy as np

    processor = NoCopy([[1, 2, 3, 4], [5, 6, 7, 8], [0, 5, 6, 7, 9]], n=4)
    prompt = [100, 101, 102]
    processor(np.array(prompt), np.zeros(16))  # the first call learns the prompt's length
    scores = processor(np.array(prompt + answer), np.zeros(16))
    assert set(np.flatnonzero(np.isinf(scores))) == banned


def test_answer_model_name(settings, tmp_path):
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, settings.LLM_MODEL = "http://127.0.0.1:9/v1", "k", "moonshot-v1-8k"
    assert answer_model_name() == "moonshot-v1-8k"
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None
    settings.COMPANION_LLM, settings.COMPANION_LLM_RUNTIME = "smollm2", "transformers"
    assert answer_model_name() == "SmolLM2-135M-Instruct-Q4_1 (transformers)"
    # A configured model that is not installed falls back to SmolLM2, and the label says so.
    settings.MODELS_DIR, settings.COMPANION_LLM, settings.COMPANION_LLM_RUNTIME = tmp_path, "qwen2.5-coder-0.5b", "llama.cpp"
    assert offline_model().key == "smollm2"
    assert answer_model_name() == "SmolLM2-135M-Instruct-Q4_1 (llama.cpp)"


def test_loop_guard_passes_fresh_words_at_once_and_holds_only_repeats():
    # Words never seen before cannot begin a repeated n-gram: they go straight to speech (the old
    # guard held the last three words back, a few hundred ms before the first audio).
    guard = LoopGuard()
    assert guard.feed("I hear you, ") == "I hear you,"
    assert guard.feed("it sounds ") == " it sounds"
    assert guard.feed("hard for you ") == " hard for"  # "you" came before: it waits for the next word
    assert guard.feed("right now.") == " you right now."
    assert guard.finish() == "" and not guard.tripped
    zh = LoopGuard()
    assert zh.feed("我明白你的感受，") == "我明白你的感受，"
    assert zh.feed("你") == ""  # seen before: held until it is clearly no loop


@pytest.mark.parametrize("end_mark", [True, False], ids=["with-end-mark", "thread-ends-without-one"])
def test_the_transformers_stream_ends_when_its_generating_thread_does(end_mark):
    import queue
    import threading
    import time

    from voicechat.companion import streamed_until_done

    streamer = SimpleNamespace(text_queue=queue.Queue(), stop_signal=None)

    def generate():
        for piece in ("I hear", " you.", ""):
            time.sleep(0.2)  # slower than the reader's poll: it must wait for a live thread
            streamer.text_queue.put(piece)
        if end_mark:
            streamer.text_queue.put(streamer.stop_signal)

    thread = threading.Thread(target=generate)
    thread.start()
    reader = []
    done = threading.Thread(target=lambda: reader.extend(streamed_until_done(streamer, thread, poll=0.05)))
    done.start()
    done.join(timeout=10)
    assert not done.is_alive(), "the reader still waits for an end mark that never comes"
    assert reader == ["I hear", " you.", ""]
