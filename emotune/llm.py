"""The OpenAI-compatible LLM client shared by the music agents and the voice companion.

Any endpoint that speaks the chat-completions API works (OpenAI, Moonshot,
DeepSeek, vLLM, Ollama, llama.cpp server). Every failure (no endpoint,
refused connection, timeout, HTTP error, unusable answer) surfaces as
:class:`LLMUnavailable`, so callers have one thing to fall back on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from django.conf import settings

logger = logging.getLogger(__name__)


class LLMUnavailable(Exception):
    """The LLM could not give a usable answer; the message says why."""


def llm_configured() -> bool:
    return bool(settings.OPENAI_BASE_URL or settings.OPENAI_API_KEY)


def llm_client(*, timeout: float | None = None):
    if not llm_configured():
        raise LLMUnavailable("no LLM endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY)")
    from openai import OpenAI

    return OpenAI(
        api_key=settings.OPENAI_API_KEY or "not-needed",
        base_url=settings.OPENAI_BASE_URL,
        timeout=timeout or settings.LLM_TIMEOUT,
        max_retries=0,
    )


def _describe(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "the LLM endpoint timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "the LLM endpoint is unreachable"
    if isinstance(exc, openai.APIStatusError):
        return f"the LLM endpoint answered HTTP {exc.status_code}"
    return f"LLM error: {type(exc).__name__}"


def chat_json(messages: list[dict], *, model: str | None = None, timeout: float | None = None) -> dict:
    """One completion asked for a JSON object; returns the parsed object."""
    client = llm_client(timeout=timeout)
    try:
        response = client.chat.completions.create(
            model=model or settings.LLM_MODEL,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=0.7,
        )
    except Exception as exc:
        raise LLMUnavailable(_describe(exc)) from exc
    content = (response.choices[0].message.content or "").strip() if response.choices else ""
    if content.startswith("```"):  # some models fence JSON despite response_format
        content = content.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise LLMUnavailable("the LLM answer was not valid JSON") from exc
    if not isinstance(value, dict):
        raise LLMUnavailable("the LLM answer was not a JSON object")
    return value


def chat_stream(messages: list[dict], *, model: str | None = None, timeout: float | None = None) -> Iterator[str]:
    """Stream the answer's text pieces as they arrive."""
    client = llm_client(timeout=timeout)
    try:
        stream = client.chat.completions.create(model=model or settings.LLM_MODEL, messages=messages, stream=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
    except LLMUnavailable:
        raise
    except Exception as exc:
        raise LLMUnavailable(_describe(exc)) from exc
