"""The OpenAI-compatible LLM client shared by the music agents and the voice companion.

Any endpoint that speaks the chat-completions API works (OpenAI, Moonshot,
DeepSeek, vLLM, Ollama, llama.cpp server). Every failure (no endpoint,
refused connection, timeout, HTTP error, unusable answer) surfaces as
:class:`LLMUnavailable`, so callers have one thing to fall back on.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator

from django.conf import settings

logger = logging.getLogger(__name__)


class LLMUnavailable(Exception):
    """The LLM could not give a usable answer; the message says why."""


def llm_configured() -> bool:
    return bool(settings.OPENAI_BASE_URL or settings.OPENAI_API_KEY)


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def llm_client():
    """The process's client for the configured endpoint, made once and shared by all threads.

    A new client per call cost every voice turn tens of milliseconds (building the
    HTTP client and its TLS context) and a fresh connection (a TLS handshake to a
    remote endpoint); this one keeps its connections alive between calls. Keyed by
    process, so a forked child never shares a parent's sockets.
    """
    if not llm_configured():
        raise LLMUnavailable("no LLM endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY)")
    key = (os.getpid(), settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY)
    client = _clients.get(key)
    if client is None:
        from openai import OpenAI

        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = OpenAI(
                    api_key=settings.OPENAI_API_KEY or "not-needed", base_url=settings.OPENAI_BASE_URL, max_retries=0
                )
    return client


def _describe(exc: Exception) -> str:
    import openai

    try:  # the HTTP library under the openai client: its errors reach us while a stream is read
        import httpx2 as httpx
    except ImportError:
        import httpx  # type: ignore[no-redef]  # the same library under its older name

    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return "the LLM endpoint timed out"
    if isinstance(exc, (openai.APIConnectionError, httpx.ConnectError)):
        return "the LLM endpoint is unreachable"
    if isinstance(exc, openai.APIStatusError):
        return f"the LLM endpoint answered HTTP {exc.status_code}"
    if isinstance(exc, httpx.TransportError):
        return "the LLM stream broke off"
    return f"LLM error: {type(exc).__name__}"


def chat_json(messages: list[dict], *, model: str | None = None, timeout: float | None = None) -> dict:
    """One completion asked for a JSON object; returns the parsed object."""
    client = llm_client()
    try:
        response = client.chat.completions.create(
            model=model or settings.LLM_MODEL,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=0.7,
            timeout=timeout or settings.LLM_TIMEOUT,
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
    """Stream the answer's text pieces as they arrive.

    The server-sent events are read here rather than through the client's ``Stream``:
    its sync version closes the response at ``[DONE]`` before the end of the body
    has been read, which throws the connection away (the async one drains it). Read
    to the end, the connection goes back to the client's pool for the next turn.
    Leaving early (barge-in) closes the response.
    """
    client = llm_client()
    try:
        with client.chat.completions.with_streaming_response.create(
            model=model or settings.LLM_MODEL, messages=messages, stream=True, timeout=timeout or settings.LLM_TIMEOUT
        ) as response:
            for line in response.iter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                chunk = json.loads(line[5:])
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise LLMUnavailable(f"the LLM endpoint reported an error: {str(chunk['error'])[:200]}")
                choices = chunk.get("choices") if isinstance(chunk, dict) else None
                delta = (choices[0].get("delta") or {}) if choices and isinstance(choices[0], dict) else {}
                if delta.get("content"):
                    yield delta["content"]
    except LLMUnavailable:
        raise
    except ValueError as exc:
        raise LLMUnavailable("the LLM stream was not valid JSON") from exc
    except Exception as exc:
        raise LLMUnavailable(_describe(exc)) from exc
