"""Recognisers in processes of their own (voicechat.asr_pool): real Whisper and
pocketsphinx on recorded speech (English and Mandarin), sessions spread over the
processes, and a process that dies or refuses a session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.voicechat import speech
from tests.voicechat.test_engines import wer
from voicechat import asr

GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")  # "go forward ten meters"
FRAME = 640  # 20 ms of 16 kHz PCM16


@pytest.fixture
def config(settings):
    from voicechat.asr_pool import listener_config

    settings.VOICE_ASR = "pocketsphinx"
    settings.VOICE_END_SILENCE_MS = 500
    return listener_config()


@pytest.fixture
def pool():
    from voicechat.asr_pool import RecognizerPool

    pool = RecognizerPool(2)
    yield pool
    pool.close()


def speak(listener, pcm: bytes, *, batch: int = 1) -> list[tuple]:
    """Feed ``pcm`` in 20 ms frames, ``batch`` frames per request; returns the events."""
    frames = [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]
    events = []
    for i in range(0, len(frames), batch):
        events += listener.feed(frames[i : i + batch])
    return events


def test_a_listener_in_another_process_hears_real_speech(pool, config):
    listener = pool.listener_open(config)
    assert listener.process.proc.pid != os.getpid() and listener.process.proc.poll() is None
    before = time.monotonic()
    events = speak(listener, GOFORWARD.read_bytes() + bytes(32000))
    kinds = [e[0] for e in events]
    assert kinds.count("final") == 1 and "speech" in kinds
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    _, text, speech_end, final_at, language, label = events[kinds.index("final")]
    assert wer("go forward ten meters", text) < 0.3
    assert (language, label) == ("en", "pocketsphinx:en-us")
    # Times on this machine's one monotonic clock: the turn ends in the recogniser, then its text is ready.
    assert before < speech_end <= final_at <= time.monotonic()
    listener.close()


def test_batched_frames_give_the_same_transcript(pool, config):
    one = pool.listener_open(config)
    batched = pool.listener_open(config)
    pcm = GOFORWARD.read_bytes() + bytes(32000)
    finals = [[e[1] for e in speak(listener, pcm, batch=b) if e[0] == "final"] for listener, b in ((one, 1), (batched, 7))]
    assert finals[0] == finals[1] and len(finals[0]) == 1


def test_push_to_talk_stop_ends_the_utterance(pool, config):
    listener = pool.listener_open(config)
    events = speak(listener, GOFORWARD.read_bytes()[:64000])  # 2 s, no trailing silence: the VAD does not end it
    assert "final" not in [e[0] for e in events]
    released = time.monotonic()
    (final,) = [e for e in listener.feed([("stop", released)]) if e[0] == "final"]
    assert speech.said_go_forward(final[1]) and final[2] == released


def test_sessions_spread_over_processes_and_are_reused(pool, config):
    a, b = pool.listener_open(config), pool.listener_open(config)
    assert a.process is not b.process and len(pool.processes) == 2
    a.close()
    c = pool.listener_open(config)  # the idle process takes it; no third process
    assert c.process is a.process and len(pool.processes) == 2
    assert speech.said_go_forward([e[1] for e in speak(c, GOFORWARD.read_bytes() + bytes(32000)) if e[0] == "final"][0])


def test_a_dead_process_fails_its_session_and_is_replaced(pool, config):
    from voicechat.asr_pool import RecognizerLost

    listener = pool.listener_open(config)
    listener.process.proc.kill()
    listener.process.proc.wait()
    with pytest.raises(RecognizerLost):
        listener.feed([bytes(FRAME)])
    listener.close()  # closing a lost session is quiet
    fresh = pool.listener_open(config)
    assert fresh.process is not listener.process and fresh.process.proc.poll() is None
    assert any(e[0] == "final" for e in speak(fresh, GOFORWARD.read_bytes() + bytes(32000)))


def test_a_session_the_process_cannot_open_leaves_it_serving(pool, config, tmp_path):
    from voicechat.asr_pool import RecognizerLost

    # The Vosk path with a model directory that holds no model (none is obtainable here).
    with pytest.raises(RecognizerLost, match=r"Exception|Error"):
        pool.listener_open({**config, "backend": "vosk", "vosk_model_dir": str(tmp_path)})
    listener = pool.listener_open(config)
    assert len(pool.processes) == 1 and pool.processes[0].sessions == 1
    assert any(e[0] == "final" for e in speak(listener, GOFORWARD.read_bytes() + bytes(32000)))


# --- Whisper, the default --------------------------------------------------------------


@pytest.fixture
def whisper_config(settings):
    from voicechat.asr_pool import listener_config

    if not (settings.WHISPER_MODEL_DIR / "model.bin").exists():
        pytest.skip(f"no Whisper weights in {settings.WHISPER_MODEL_DIR} (make models joins them)")
    settings.VOICE_ASR = "whisper"
    settings.VOICE_END_SILENCE_MS = 500
    return listener_config()


def _recordings():
    chosen = [r for r in speech.english() if "0880" in r.path.name] + speech.mandarin()[:1]
    return [pytest.param(r, id=f"{r.language}-{r.path.stem}") for r in chosen]


@pytest.mark.parametrize("recording", _recordings())
def test_whisper_hears_real_speech_in_its_language_through_the_pool(pool, whisper_config, recording):
    listener = pool.listener_open(whisper_config)
    pcm = bytes(8000) + recording.pcm16() + bytes(32000)  # a breath of silence before, the end-of-turn pause after
    events = speak(listener, pcm, batch=5)
    finals = [e for e in events if e[0] == "final"]
    assert len(finals) == 1, events
    _, text, _speech_end, _final_at, language, label = finals[0]
    assert language == recording.language and label == "whisper:faster-whisper-base"
    assert speech.error_rate(recording, text) <= 0.25, (recording.text, text)
    if recording.language == "zh":
        assert sum("\u4e00" <= c <= "\u9fff" for c in text) >= 8  # Chinese characters, not a romanisation
    listener.close()


def test_whisper_partials_arrive_while_the_user_speaks(pool, whisper_config):
    (recording,) = [r for r in speech.english() if "0870" in r.path.name]  # 7 s
    listener = pool.listener_open(whisper_config)
    events = speak(listener, recording.pcm16() + bytes(32000), batch=5)
    kinds = [e[0] for e in events]
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    partial = events[kinds.index("partial")][1]
    assert set(speech.normalise_words(partial)) & {"mister", "mr", "john", "dashwood"}, partial


def test_whisper_hears_nothing_in_silence(pool, whisper_config):
    listener = pool.listener_open(whisper_config)
    assert [e for e in speak(listener, bytes(64000), batch=5) if e[0] in ("final", "partial")] == []
    assert [e for e in listener.feed([("stop", time.monotonic())]) if e[0] == "final"] == []


def test_whisper_decodes_the_final_during_the_end_of_turn_pause(whisper_config, settings, monkeypatch):
    """The transcript is ready when the pause is long enough to end the turn: decoded once the
    pause reached EARLY_SILENCE, and not decoded again at the end of the turn."""

    (recording,) = [r for r in speech.english() if "0880" in r.path.name]
    recognizer = asr.WhisperRecognizer(str(settings.WHISPER_MODEL_DIR), ["zh", "en"], partials=False)
    listener = asr.Listener(backend="whisper", vosk_model_dir="", end_silence_ms=600, recognizer=recognizer)
    step = 640

    def feed(pcm: bytes) -> list:
        return [e for i in range(0, len(pcm), step) for e in listener.feed([pcm[i : i + step]])]

    events = feed(bytes(8000) + recording.pcm16() + bytes(12000))  # the pause so far: 0.375 s of 0.6 s
    assert not [e for e in events if e[0] == "final"] and recognizer._early is not None
    early_text, _ = recognizer._early
    assert speech.error_rate(recording, early_text) <= 0.25, early_text
    decodes = []
    real = asr.whisper_transcribe
    monkeypatch.setattr(asr, "whisper_transcribe", lambda *a, **k: decodes.append(1) or real(*a, **k))
    finals = [e for e in feed(bytes(16000)) if e[0] == "final"]  # the pause goes on: the turn ends
    assert len(finals) == 1 and finals[0][1] == early_text and finals[0][4] == "en" and decodes == []


def test_whisper_speech_after_the_early_decode_is_heard_too(whisper_config, settings):
    from voicechat.asr import WhisperRecognizer

    (recording,) = [r for r in speech.english() if "0880" in r.path.name]
    pcm = recording.pcm16()
    half = len(pcm) // 2 // 640 * 640
    recognizer = WhisperRecognizer(str(settings.WHISPER_MODEL_DIR), ["zh", "en"], partials=False)
    recognizer.accept(pcm[:half], voiced=True)
    recognizer.accept(bytes(12000), voiced=False)  # a pause mid-sentence: an early decode of the first half
    assert recognizer._early is not None
    recognizer.accept(pcm[half:], voiced=True)  # the speaker goes on: the early transcript is stale
    assert recognizer._early is None
    assert speech.error_rate(recording, recognizer.finish()) <= 0.25


@pytest.mark.parametrize("frames, read", [(1, 1000), (899, 1000), (901, 2000), (1900, 2000), (2901, 3000), (2999, 3000), (9000, 3000)])
def test_whisper_encoder_reads_the_utterance_to_the_next_10_s_with_a_second_of_silence(frames, read):
    assert asr.encoder_frames(frames) == read


def test_whisper_hears_every_packaged_recording_as_well_through_a_short_window_as_the_full_one(whisper_config, settings,
                                                                                                monkeypatch):
    """The short encoder window must not cost more than a word here and there on the set the
    companion benchmark scores: no recording more than one word (Mandarin: one character) worse
    than padding to Whisper's 30 s, and over the set at most 3 points more errors. Per recording
    the result depends on the CPU's int8 kernels: where the landing CI ran (2026-12) both windows
    heard all alike; on an AMD EPYC without AVX-512 the short window hears "ill-sposed" for
    "ill-disposed" and misses one character of 13 in one Mandarin clip (2.5 points over the set)."""
    import numpy as np

    model = asr.WhisperRecognizer(str(settings.WHISPER_MODEL_DIR)).model
    shorts, fulls = [], []
    for recording in speech.english() + speech.mandarin():
        audio = np.frombuffer(recording.pcm16(), dtype=np.int16).astype(np.float32) / 32768.0
        short, language = asr.whisper_transcribe(model, audio, ["zh", "en"])
        monkeypatch.setattr(asr, "ENCODER_STEP_FRAMES", 3000)
        full, _ = asr.whisper_transcribe(model, audio, ["zh", "en"])
        monkeypatch.undo()
        assert language == recording.language
        reference = speech.normalise_chars(recording.text) if recording.language == "zh" else speech.normalise_words(recording.text)
        one_word = 1 / max(1, len(reference))
        shorts.append(speech.error_rate(recording, short))
        fulls.append(speech.error_rate(recording, full))
        assert shorts[-1] <= fulls[-1] + one_word + 1e-9, (recording.text, short, full)
    assert np.mean(shorts) <= np.mean(fulls) + 0.03, str(list(zip(shorts, fulls)))
