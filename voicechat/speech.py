"""Speech for the OpenAI-compatible endpoints, through the companion's own machinery.

- **Speaking** (``speech_response``): the text is cut into sentences by the companion's
  ``SentenceSplitter``; each sentence counts against the spoken-reply rate limit and becomes one
  ``voicechat.jobs.tts_sentence`` job, on the ``gpu`` queue (production) or in this process, one
  at a time (embedded), exactly as a spoken answer does. The jobs stream numbered PCM16 chunks to
  a channel of this request; they are put back in order and sent on as WAV, MP3 or raw PCM as
  they arrive.
- **Hearing** (``transcribe_upload``): the clip is decoded to 16 kHz mono and fed to a listener
  in the recogniser processes (``voicechat.asr_pool``), as a voice connection's audio is; the
  finals of its utterances make the text.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse

from emotune.audio import AudioDecodeError, audio_decode, audio_name_ok, float_to_pcm16, pcm16_to_float, resample
from emotune.backends import backend
from emotune.ratelimit import RateLimited, rate_limit_hit

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 4096  # as OpenAI's endpoint
PCM_RATE = 24000  # OpenAI's raw PCM is 24 kHz 16-bit mono
TRANSCRIBE_MAX_BYTES = 25 * 2**20  # as OpenAI's endpoint
TRANSCRIBE_MAX_SECONDS = 600.0
FEED_BYTES = 16000 * 2  # one second of 16 kHz PCM16 per request to the recogniser process
# An utterance with no pause is ended here, so that each decode stays within Whisper's 30 s window
# (one pass, a few seconds): a longer one would hold the recogniser process that voice sessions share.
UTTERANCE_MAX_BYTES = 25 * 16000 * 2
# OpenAI's voice names: accepted so that existing scripts run; they speak as "auto".
OPENAI_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
                 "marin", "cedar"}
BUILTIN_VOICES = {"auto": None, "en": "en", "zh": "zh"}
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "pcm": "audio/pcm"}


@dataclass(frozen=True)
class Voice:
    speaker_id: int | None
    language: str


def voice_resolve(*, user, voice: str, text: str) -> Voice:
    """One of the user's speakers (by name, or ``speaker:<id>``) or a built-in voice; ValidationError otherwise."""
    from voicechat.language import detect_language
    from voicechat.models import Speaker

    name = voice.strip()
    language = detect_language(text)
    lowered = name.lower()
    if lowered in BUILTIN_VOICES or lowered in OPENAI_VOICES:
        return Voice(speaker_id=None, language=BUILTIN_VOICES.get(lowered) or language)
    speakers = Speaker.objects.filter(user=user)
    if lowered.startswith("speaker:") and lowered[8:].isdigit():
        speaker = speakers.filter(pk=int(lowered[8:])).first()
    else:
        speaker = speakers.filter(name__iexact=name).first()
    if speaker is None:
        names = ", ".join(["auto", "en", "zh", *speakers.values_list("name", flat=True)])
        raise ValidationError({"voice": [f"Unknown voice {name[:60]!r}: use one of {names} (or an OpenAI voice name)."]})
    return Voice(speaker_id=speaker.pk, language=language)


def sentences_of(text: str) -> list[str]:
    from voicechat.companion import SentenceSplitter

    splitter = SentenceSplitter()
    # A piece with no letter or digit ("...!") has nothing to say: the engines would give silence.
    return [s for s in splitter.feed(text) + splitter.flush() if any(c.isalnum() for c in s)]


# --- speaking ---------------------------------------------------------------------------


class SpeechFailed(Exception):
    pass


class _Sentences:
    """Start the sentence jobs and give back their messages in order (``seq``, then chunk index)."""

    def __init__(self, *, sentences: list[str], voice: Voice) -> None:
        self.sentences, self.voice = sentences, voice
        self.turn = f"api-{uuid.uuid4().hex}"
        self.job_ids: list[str | None] = []
        self.tasks: list[asyncio.Task] = []
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.buffered: dict[int, list[dict]] = {}

    async def start(self) -> None:
        from asgiref.sync import sync_to_async
        from channels.layers import get_channel_layer

        from voicechat import jobs

        layer = get_channel_layer()
        self.channel = await layer.new_channel()
        self.tasks.append(asyncio.create_task(self._read(layer)))
        args = [dict(channel=self.channel, turn=self.turn, seq=seq, text=text, speaker_id=self.voice.speaker_id,
                     language=self.voice.language) for seq, text in enumerate(self.sentences)]
        if not backend().in_process:
            def enqueue():
                return [jobs.tts_enqueue(**a) for a in args]

            self.job_ids = await sync_to_async(enqueue, thread_sensitive=False)()
        else:
            async def run_here():  # embedded: this process is the gpu worker, one sentence at a time
                for a in args:
                    await sync_to_async(jobs.tts_sentence, thread_sensitive=False)(**a)

            self.tasks.append(asyncio.create_task(run_here()))

    async def _read(self, layer) -> None:
        while True:
            self.inbox.put_nowait(await layer.receive(self.channel))

    async def _next_raw(self, seq: int) -> dict:
        from asgiref.sync import sync_to_async

        from voicechat import jobs

        waited, limit = 0.0, float(settings.JOB_TIMEOUTS.get("voicechat.tts", 120))
        step = settings.VOICE_TTS_STALL_SECONDS
        while True:
            try:
                return await asyncio.wait_for(self.inbox.get(), timeout=step)
            except TimeoutError:
                waited += step
                if not backend().in_process and seq < len(self.job_ids):
                    state = await sync_to_async(jobs.tts_job_state, thread_sensitive=False)(self.job_ids[seq])
                    if state not in ("queued", "running"):
                        raise SpeechFailed(f"speech synthesis of sentence {seq + 1} did not run ({state})") from None
                if waited >= limit:
                    raise SpeechFailed(f"speech synthesis gave no audio for {limit:.0f} s") from None

    async def messages(self):
        """Messages of sentence 0 first, then 1, …; ``end`` closes each sentence."""
        for seq in range(len(self.sentences)):
            index = 0
            while True:
                pending = self.buffered.get(seq, [])
                message = pending.pop(0) if pending else await self._next_raw(seq)
                if message.get("seq") != seq:
                    self.buffered.setdefault(message.get("seq", -1), []).append(message)
                    continue
                kind = message["kind"]
                if kind == "error":
                    raise SpeechFailed(message.get("message", "speech synthesis failed"))
                if kind == "audio":
                    if message["index"] != index:
                        raise SpeechFailed(f"audio of sentence {seq + 1} arrived with a gap")
                    index += 1
                yield message
                if kind == "end":
                    if message.get("chunks", index) != index:
                        raise SpeechFailed(f"audio of sentence {seq + 1} arrived with a gap")
                    break

    async def close(self, *, cancelled: bool) -> None:
        from asgiref.sync import sync_to_async

        from voicechat import jobs

        if cancelled:
            await sync_to_async(jobs.turn_cancel, thread_sensitive=False)(self.turn, [j for j in self.job_ids if j])
        for task in self.tasks:
            task.cancel()


def wav_stream_header(rate: int) -> bytes:
    """A mono PCM16 WAV header for a stream of unknown length (sizes set to the maximum, as ffmpeg does)."""
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 0xFFFFFFFF, b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16,
                       b"data", 0xFFFFFFFF)


def mp3_encode(pcm: bytes, rate: int) -> bytes:
    """One sentence's PCM16 as MP3 frames (MP3 frames of consecutive sentences play as one stream)."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
         "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "pipe:1"],
        input=pcm, capture_output=True, timeout=60,
    )
    if done.returncode != 0:
        raise SpeechFailed(done.stderr.decode(errors="replace")[-200:] or "mp3 encoding failed")
    return done.stdout


async def speech_response(*, user, text: str, voice: Voice, response_format: str):
    """The spoken ``text`` as a streamed response; the first sentence's start is awaited, so a
    refusal or a failure before any audio is a JSON error, not a broken stream."""
    from asgiref.sync import sync_to_async

    from emotune.api_support import error_response

    sentences = sentences_of(text)
    if not sentences:
        raise ValidationError({"input": ["There is nothing to say in this text."]})
    limit = await sync_to_async(rate_limit_hit, thread_sensitive=False)("tts", user.pk, cost=len(sentences))
    if not limit.allowed:
        raise RateLimited("tts", limit)
    jobs = _Sentences(sentences=sentences, voice=voice)
    await jobs.start()
    stream = jobs.messages()
    try:
        first = await stream.__anext__()
    except SpeechFailed as exc:
        await jobs.close(cancelled=True)
        return error_response(503, f"Speech is unavailable: {exc}", code="tts_unavailable")
    rate = int(first["sample_rate"])

    async def body():
        finished = False
        sentence_pcm = bytearray()
        try:
            if response_format == "wav":
                yield wav_stream_header(rate)
            message = first
            while True:
                kind = message["kind"]
                pcm = b""
                if kind == "start" and int(message.get("sample_rate", rate)) != rate:
                    raise SpeechFailed("a sentence came at another sample rate")  # not with one engine per request
                if kind == "audio":
                    pcm = message["data"]
                if response_format == "mp3":
                    sentence_pcm += pcm
                    if kind == "end" and sentence_pcm:
                        yield await sync_to_async(mp3_encode, thread_sensitive=False)(bytes(sentence_pcm), rate)
                        sentence_pcm.clear()
                elif pcm:
                    if response_format == "pcm" and rate != PCM_RATE:
                        pcm = float_to_pcm16(resample(pcm16_to_float(pcm), rate, PCM_RATE))
                    yield pcm
                try:
                    message = await stream.__anext__()
                except StopAsyncIteration:
                    finished = True
                    return
        except SpeechFailed as exc:
            logger.warning("speech stream ended early: %s", exc)  # the headers are sent: the stream ends short
        finally:
            await jobs.close(cancelled=not finished)

    response = StreamingHttpResponse(body(), content_type=CONTENT_TYPES[response_format])
    response["X-Voice"] = first.get("voice", "")
    response["X-Speech-Engine"] = first.get("engine", "")
    response["X-Sample-Rate"] = str(PCM_RATE if response_format == "pcm" else rate)
    response["Cache-Control"] = "no-store"
    return response


# --- hearing ---------------------------------------------------------------------------


def transcribe_upload(*, upload, language: str = "") -> dict:
    """Text, language and duration of an uploaded clip; ValidationError (field ``file``) when it is not audio."""
    if language and not (len(language) == 2 and language.isascii() and language.isalpha()):
        raise ValidationError({"language": ["language must be an ISO 639-1 code such as en or zh."]})
    if upload.size > TRANSCRIBE_MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {TRANSCRIBE_MAX_BYTES // 2**20} MB."]})
    if not audio_name_ok(upload.name):
        raise ValidationError({"file": ["The file name does not end in an audio extension (.wav, .mp3, .ogg…)."]})
    upload.seek(0)
    try:
        samples = audio_decode(upload.read(), max_seconds=TRANSCRIBE_MAX_SECONDS + 1)
    except AudioDecodeError as exc:
        raise ValidationError({"file": [f"This file could not be read as audio ({exc})."]}) from exc
    seconds = len(samples) / 16000
    if seconds > TRANSCRIBE_MAX_SECONDS:
        raise ValidationError({"file": [f"The clip is longer than {TRANSCRIBE_MAX_SECONDS:.0f} s."]})
    from voicechat.asr import WhisperUnavailable
    from voicechat.asr_pool import RecognizerLost

    try:
        text, heard_language = recognise(float_to_pcm16(samples), languages=[language] if language else None)
    except (RecognizerLost, WhisperUnavailable) as exc:
        from ninja.errors import HttpError

        raise HttpError(503, f"Speech recognition is unavailable right now ({exc}).") from exc
    # Always a language, never null: the recogniser's, the one asked for, else the text's own
    # (English for silence).
    from voicechat.language import detect_language

    return {"text": text, "language": heard_language or language or detect_language(text),
            "duration": round(seconds, 3)}


def recognise(pcm: bytes, *, languages: list[str] | None = None) -> tuple[str, str | None]:
    """The utterances in 16 kHz mono PCM16, joined, and the language of the last one."""
    from voicechat.asr_pool import listener_open

    listener = listener_open(languages=languages, partials=False)
    finals: list[tuple] = []
    since_final = 0
    try:
        # Half a second of silence ahead: the recogniser's voice detector wants a lead-in.
        padded = b"\x00" * 16000 + pcm + b"\x00" * 16000
        for offset in range(0, len(padded), FEED_BYTES):
            items: list = [padded[i:i + 3200] for i in range(offset, min(offset + FEED_BYTES, len(padded)), 3200)]
            since_final += FEED_BYTES
            if since_final >= UTTERANCE_MAX_BYTES:
                items.append(("stop", time.monotonic()))
            heard = [e for e in listener.feed(items) if e[0] == "final"]
            if heard or since_final >= UTTERANCE_MAX_BYTES:
                since_final = 0
            finals += heard
        finals += [e for e in listener.feed([("stop", time.monotonic())]) if e[0] == "final"]
    finally:
        listener.close()
    texts = [e[1].strip() for e in finals if e[1].strip()]
    language = next((e[4] for e in reversed(finals) if e[1].strip() and e[4]), None)
    separator = "" if language == "zh" else " "
    return separator.join(texts), language
