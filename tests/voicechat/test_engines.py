"""Voice engines on real models: pocketsphinx's packaged en-US model on Debian's
recorded speech, Silero VAD, the Piper voice from PyPI, espeak-ng, and the
CosyVoice2 adapter against an object with the upstream call signature (here, in .venv, where
the upstream code is not installed; test_cosyvoice2_real.py runs it on the upstream code in .venv-gpu)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from emotune.audio import AudioDecodeError, audio_decode, float_to_pcm16, resample, wav_bytes
from voicechat import tts
from voicechat.asr import PocketSphinxRecognizer, TurnDetector
from voicechat.companion import SentenceSplitter

DATA = Path("/usr/share/pocketsphinx/test/data")
GOFORWARD = DATA / "goforward.raw"  # 16 kHz mono PCM16: "go forward ten meters"


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = reference.split(), hypothesis.split()
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / len(ref)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def stream(recognizer, pcm: bytes, frame_ms: int = 20) -> list[str]:
    step = 16 * frame_ms * 2
    partials = []
    for offset in range(0, len(pcm), step):
        partial = recognizer.accept(pcm[offset : offset + step])
        if partial:
            partials.append(partial)
    return partials


def test_pocketsphinx_streams_real_speech_with_partials():
    pcm = GOFORWARD.read_bytes()
    recognizer = PocketSphinxRecognizer()
    partials = stream(recognizer, pcm)
    final = recognizer.finish()
    assert len(partials) >= 2, "partials must arrive while speaking"
    assert wer("go forward ten meters", final) < 0.30, final
    # The recogniser is reusable for the next utterance.
    stream(recognizer, pcm)
    assert recognizer.finish().startswith("go forward")


def test_vad_ends_turn_after_silence_not_during_speech():
    pcm = GOFORWARD.read_bytes()
    detector = TurnDetector(end_silence_ms=500)
    started_at = ended_at = None
    audio = b"\x00\x00" * 16000 + pcm + b"\x00\x00" * 16000  # 1 s silence, speech, 1 s silence
    for n, offset in enumerate(range(0, len(audio), 640)):
        started, ended = detector.accept(audio[offset : offset + 640])
        if started and started_at is None:
            started_at = n * 0.02
        if ended and ended_at is None:
            ended_at = n * 0.02
    speech_end = 1.0 + len(pcm) / 32000
    assert started_at is not None and 0.9 <= started_at <= 2.0
    assert ended_at is not None and ended_at > 1.5 and ended_at <= speech_end + 1.0


def test_vad_ignores_silence():
    detector = TurnDetector()
    assert detector.accept(b"\x00\x00" * 32000) == (False, False)


def test_audio_decode_resamples_and_rejects_garbage(tmp_path):
    t = np.linspace(0, 1, 44100, endpoint=False)
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate=44100))
    ogg = tmp_path / "tone.ogg"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), str(ogg)], check=True)
    for source in (path, ogg.read_bytes()):
        samples = audio_decode(source)
        assert abs(len(samples) - 16000) < 400 and 0.3 < np.abs(samples).max() <= 1.0
    with pytest.raises(AudioDecodeError):
        audio_decode(b"this is not audio")


def _asr_words(samples: np.ndarray, rate: int) -> list[str]:
    recognizer = PocketSphinxRecognizer()
    stream(recognizer, float_to_pcm16(resample(samples, rate, 16000)))
    return words(recognizer.finish())


@pytest.mark.skipif(not tts.piper_available(), reason="piper-tts (optional, GPL-3.0) is not installed")
def test_piper_voice_is_intelligible():
    engine = tts.PiperSynthesizer(tts.piper_voice_path())
    try:
        sentence = "go forward ten meters"
        chunks = list(engine.stream(sentence))
        samples = np.concatenate(chunks)
        assert engine.sample_rate == 22050 and 0.8 < len(samples) / engine.sample_rate < 4
        heard = _asr_words(samples, engine.sample_rate)
        recovered = sum(w in heard for w in sentence.split())
        assert recovered >= 3, heard
        # The resident process serves the next sentence too.
        assert len(np.concatenate(list(engine.stream("Thank you.")))) > 5000
    finally:
        engine.close()


def test_espeak_produces_speech():
    engine = tts.EspeakSynthesizer()
    samples = np.concatenate(list(engine.stream("go forward ten meters")))
    assert len(samples) / engine.sample_rate > 0.8 and np.abs(samples).max() > 0.1


def test_sentence_splitter_emits_sentences_as_soon_as_complete():
    splitter = SentenceSplitter()
    out = []
    for token in ["Hello", " there", "! ", "How", " are", " you", "? I", " am", " fine", ". Dr", ". Who", " is", " here"]:
        out.append(splitter.feed(token))
    assert out[3] == [] and ["Hello there!"] in out
    assert ["How are you?"] in out
    assert out[-1] == [] and splitter.flush() == ["Dr. Who is here"]



@pytest.mark.parametrize(
    "tokens, first, rest",
    [
        # The first piece ends at a clause once it is long enough; later pieces are sentences.
        (["I hear", " you,", " that", " sounds hard,", " truly. ", "Rest", " now."],
         "I hear you,", ["that sounds hard, truly.", "Rest now."]),
        (["我明白", "你的感受", "，", "休息", "一下吧", "。", "好吗", "？"], "我明白你的感受，", ["休息一下吧。", "好吗？"]),
        # A clause too short to stand alone waits for the next mark or the sentence's end.
        (["So,", " I", " think,", " yes. ", "Ok."], "So, I think,", ["yes. Ok."]),
        (["Yes,", " ok. ", "Fine,", " then."], "Yes, ok.", ["Fine, then."]),
        # A comma inside a number is no clause.
        (["It is 1,000", " miles. ", "Go."], "It is 1,000 miles.", ["Go."]),
    ],
)
def test_sentence_splitter_first_piece_may_end_at_a_clause(tokens, first, rest):
    splitter = SentenceSplitter()
    pieces = [piece for token in tokens for piece in splitter.feed(token)] + splitter.flush()
    assert pieces == [first, *rest]


# --- CosyVoice2 adapter ------------------------------------------------------------


class UpstreamLikeCosyVoice2:
    """An object with upstream CosyVoice2's call signature (not a model: a test double).

    ``add_zero_shot_spk`` runs the (expensive) frontend and stores features in
    ``frontend.spk2info``; ``inference_zero_shot(..., stream=True)`` yields
    ``{"tts_speech": tensor[1, n]}`` pieces. The audio is a tone whose length
    follows the text, so ordering and chunking can be checked.
    """

    sample_rate = 24000

    def __init__(self):
        self.frontend = type("Frontend", (), {"spk2info": {}})()
        self.frontend_calls = 0
        self.calls = []

    def add_zero_shot_spk(self, prompt_text, prompt_speech_16k, zero_shot_spk_id):
        assert prompt_speech_16k.ndim == 2 and prompt_speech_16k.shape[0] == 1
        self.frontend_calls += 1
        self.frontend.spk2info[zero_shot_spk_id] = {"prompt_text": prompt_text, "embedding": torch.ones(1, 192)}
        return True

    def inference_zero_shot(self, tts_text, prompt_text, prompt_speech_16k, zero_shot_spk_id="", stream=False,
                            speed=1.0, text_frontend=True):
        assert zero_shot_spk_id in self.frontend.spk2info
        self.calls.append((tts_text, zero_shot_spk_id, stream))
        for i, word in enumerate(tts_text.split()):
            n = 2400 * len(word)
            yield {"tts_speech": torch.full((1, n), (i + 1) / 100.0)}


@pytest.mark.django_db
def test_cosyvoice2_adapter_streams_in_order_and_caches_speaker(user, settings, tmp_path):
    from django.core.files.base import ContentFile

    from voicechat.services import speaker_create

    settings.MEDIA_ROOT = tmp_path
    clip = ContentFile(wav_bytes(np.zeros(16000 * 4, dtype=np.float32) + 0.01), name="ref.wav")
    speaker = speaker_create(user=user, name="Mum", reference=clip, reference_seconds=4.0, transcript="hello there", consent=True)
    model = UpstreamLikeCosyVoice2()
    engine = tts.CosyVoice2Synthesizer(model)
    pieces = list(engine.stream("one three fives", speaker))
    assert [len(p) for p in pieces] == [2400 * 3, 2400 * 5, 2400 * 5]
    assert [round(float(p[0]), 2) for p in pieces] == [0.01, 0.02, 0.03]
    list(engine.stream("again", speaker))
    assert model.frontend_calls == 1 and all(stream for _, _, stream in model.calls)
    speaker.refresh_from_db()
    assert speaker.embedding.name  # features persisted for other processes
    # A fresh process (new adapter, empty spk2info) reloads the features without the frontend.
    other_model = UpstreamLikeCosyVoice2()
    list(tts.CosyVoice2Synthesizer(other_model).stream("hi", speaker))
    assert other_model.frontend_calls == 0 and torch.equal(
        other_model.frontend.spk2info[engine.speaker_key(speaker)]["embedding"], torch.ones(1, 192)
    )
    with pytest.raises(tts.TTSError):
        list(engine.stream("no voice", None))
