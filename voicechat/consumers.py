"""/ws/voicechat/<conversation_id>/: one voice conversation, in real time.

Protocol (README "Websocket protocol"): JSON text frames
``start``/``text``/``interrupt``/``stop`` and binary PCM16 16 kHz audio in;
``asr.partial``/``asr.final``, ``llm.token``/``llm.done``, ``tts.start``/binary
audio/``tts.end``, ``turn.metrics``, ``turn.interrupted`` and ``error`` out.

Blocking work never runs on the event loop: ASR + VAD run in a recogniser
process (voicechat.asr_pool), fed by a thread per connection, the LLM stream in
a thread per turn, synthesis in ``gpu`` jobs (voicechat.jobs) whose audio comes
back to this connection's channel. Nothing on the way from the end of speech to
the first audio byte waits for a database write; each stage's time is stamped
(``Turn.mark``) and stored with the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from redis.exceptions import RedisError

from emotune.llm import LLMUnavailable
from emotune.ratelimit import rate_limit_hit, rate_limit_message
from emotune.sockets import SocketLease
from emotune.websocket import (
    CLOSE_NOT_FOUND,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
    FrameGuard,
    GuardedFrames,
    language_activate,
    layer_receive,
)
from voicechat import jobs
from voicechat.companion import SentenceSplitter, answer_model_name, prompt_messages, reply_stream
from voicechat.language import detect_language, text_language
from voicechat.models import Message

logger = logging.getLogger(__name__)

_inprocess_gpu: dict[int, asyncio.Semaphore] = {}


def _stop_thread(q: queue.Queue) -> None:
    """Tell the ASR thread to end without ever blocking the event loop on a full queue."""
    while True:
        try:
            q.put_nowait(None)
            return
        except queue.Full:
            try:
                q.get_nowait()
            except queue.Empty:
                pass


# What the page calls the engines a turn may wait for while they load.
ENGINE_NAMES = {"asr": gettext_lazy("speech recognition"), "llm": gettext_lazy("the language model"),
                "tts": gettext_lazy("the voice")}


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


@dataclass
class Turn:
    """One user utterance and the companion's answer to it."""

    id: str
    t0: float  # end of speech (or typed text received), monotonic
    asr_final_ms: int = 0
    language: str = ""  # the user's language this turn ("zh", "en"): the answer's and the voice's
    heard_by: str = ""  # the recogniser of a spoken turn ("whisper:faster-whisper-base"), "" when typed
    voice: str = ""  # the engine and voice that spoke the answer
    text: str = ""
    sentences: int = 0
    llm_done: bool = False
    llm_first_token_ms: int | None = None
    first_sentence_ms: int | None = None
    tts_first_audio_ms: int | None = None
    tts_first_compute_ms: int | None = None
    message_id: int | None = None
    interrupted: bool = False
    finished: bool = False
    error: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    job_ids: list[str] = field(default_factory=list)
    next_seq: int = 0
    buffered: dict[int, list[dict]] = field(default_factory=dict)
    chunk_index: dict[int, int] = field(default_factory=dict)
    audio_started: bool = False
    tts_refused: bool = False  # over the user's TTS limit: the rest of the turn is text only
    last_tts_at: float = field(default_factory=time.monotonic)  # last sentence sent or message received
    user_saved: asyncio.Task | None = None  # the user's message being written
    marks: dict[str, float] = field(default_factory=dict)  # stage → monotonic time it was first reached

    def mark(self, stage: str, at: float | None = None) -> None:
        """Time stamp a stage on the way to the first audio (kept in the telemetry as ms after t0)."""
        self.marks.setdefault(stage, time.monotonic() if at is None else at)


class VoiceChatConsumer(GuardedFrames, AsyncWebsocketConsumer):
    # --- the channel layer, kept through a Redis restart --------------------------

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        """Channels sets this to the layer's receive; wrap it so that a Redis restart does not end the socket.

        Unwrapped, the error kills the consumer mid-turn and the answer is never
        saved. This socket joins no group, so nothing but in-flight audio is
        lost, and the TTS watchdog reports that to the user.
        """

        async def resilient():
            while True:
                try:
                    return await layer_receive(receive)
                except (OSError, RedisError) as exc:
                    logger.warning("channel layer unreachable (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(0.5)

        self._channel_receive = resilient

    # --- connection -------------------------------------------------------------

    async def connect(self) -> None:
        from voicechat.selectors import conversation_for_socket

        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        pk = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.conversation = await database_sync_to_async(conversation_for_socket)(user_id=user.pk, pk=pk)
        if self.conversation is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.loop = asyncio.get_running_loop()
        self.turn: Turn | None = None
        self.asr_queue: queue.Queue | None = None
        self.asr_thread: threading.Thread | None = None
        self.guard = FrameGuard(max_bytes=settings.VOICE_MAX_FRAME_BYTES, per_second=settings.VOICE_MAX_MESSAGES_PER_SECOND)
        language_activate(self.scope)
        self.closed = False
        self.local_tts: asyncio.Queue | None = None
        self.tasks: set[asyncio.Task] = set()
        await self.accept()
        limit = settings.VOICE_MAX_SOCKETS_PER_USER
        self.lease = SocketLease("voice", user.pk, self.channel_name, limit=limit)
        if not await asyncio.to_thread(self.lease.take):
            self.lease = None
            await self.error("too_many_sockets", _(
                "You already have %(n)d voice chats open. Close one, then reload this page.") % {"n": limit})
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.spawn(self._keep_lease())

    async def _keep_lease(self) -> None:
        """Renew this socket's place while it lives (a dead process's place runs out by itself)."""
        while not self.closed:
            await asyncio.sleep(settings.SOCKET_LEASE_SECONDS / 3)
            await asyncio.to_thread(self.lease.take)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if getattr(self, "lease", None) is not None:
            await asyncio.to_thread(self.lease.give_back)
        if getattr(self, "turn", None) and not self.turn.finished:
            await self.interrupt_turn(reason="disconnect")
        if getattr(self, "asr_queue", None) is not None:
            _stop_thread(self.asr_queue)
        for task in list(getattr(self, "tasks", ())):
            task.cancel()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("voicechat task failed", exc_info=task.exception())

    async def send_event(self, type_: str, **data) -> None:
        if not self.closed:
            await self.send(text_data=json.dumps({"type": type_, **data}))

    async def error(self, code: str, message: str) -> None:
        await self.send_event("error", code=code, message=message)

    # --- input (GuardedFrames checks each frame first) -------------------------------

    async def on_message(self, content) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        handler = {
            "start": self.on_start, "text": self.on_text, "interrupt": self.on_interrupt,
            "stop": self.on_stop, "ping": self.on_ping,
        }.get(kind)
        if handler is None:
            await self.reject("bad_type", _("Unknown message type: %(type)s") % {"type": str(kind)[:40]})
            return
        await handler(content)

    async def on_ping(self, content: dict) -> None:
        await self.send_event("pong")

    async def on_start(self, content: dict) -> None:
        if content.get("format", "pcm16") != "pcm16" or content.get("sample_rate", 16000) not in (16000, None):
            await self.reject("bad_format", _("Send 16 kHz mono PCM16 audio."))
            return
        if self.asr_thread is None:
            self.asr_queue = queue.Queue(maxsize=500)
            self.asr_thread = threading.Thread(target=self._asr_loop, name="voicechat-asr", daemon=True)
            self.asr_thread.start()
        await self.send_event("listening")

    async def on_binary(self, data: bytes) -> None:
        """Binary frames are PCM16 audio for the recogniser."""
        if self.asr_queue is None:
            await self.reject("not_started", _("Send a start message before audio."))
            return
        if len(data) % 2:
            await self.reject("bad_audio", _("Audio frames must hold whole 16-bit samples."))
            return
        try:
            self.asr_queue.put_nowait(data)
        except queue.Full:  # the recogniser fell behind by seconds: tell the client, drop the frame
            await self.error("asr_overloaded", _("Speech recognition is falling behind."))

    async def on_stop(self, content: dict) -> None:
        if self.asr_queue is not None:
            try:
                self.asr_queue.put_nowait(("stop", time.monotonic()))
            except queue.Full:
                await self.error("asr_overloaded", _("Speech recognition is falling behind."))

    async def on_interrupt(self, content: dict) -> None:
        await self.interrupt_turn(reason="client")

    async def on_text(self, content: dict) -> None:
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self.reject("bad_text", _("A text turn needs non-empty text."))
            return
        text = text.strip()[:2000]
        await self.begin_turn(text, t0=time.monotonic(), asr_final_ms=0, language=detect_language(text))

    # --- ASR thread -------------------------------------------------------------------

    def _engines_ready(self, names: list[str], post) -> None:
        """Off the loop: wait for engines the start-up warm-up is still loading, telling the
        client what it waits for (``engine.loading``, then ``engine.ready``) instead of silence."""
        from emotune.warmup import warmup_pending, warmup_wait

        pending = warmup_pending(names)
        if not pending:
            return
        started = time.monotonic()
        post(self.send_event("engine.loading", engines=pending,
                             message=_("The companion is still starting up (loading %(engines)s)…") % {
                                 "engines": ", ".join(str(ENGINE_NAMES.get(n, n)) for n in pending)}))
        warmup_wait(pending, timeout=settings.ENGINE_WARMUP_WAIT_SECONDS)
        post(self.send_event("engine.ready", engines=pending, waited_ms=_ms(time.monotonic() - started)))

    @staticmethod
    def _listener_open(attempts: int = 3):
        """A listener in a live recogniser process. A process that died without the pool knowing
        yet fails the open and is dropped; the next attempt gets another (or a new) process."""
        from voicechat.asr_pool import RecognizerLost, listener_open

        for attempt in range(attempts):
            try:
                return listener_open()
            except RecognizerLost as exc:
                if attempt == attempts - 1:
                    raise
                logger.warning("speech recogniser lost while opening (%s); trying another", exc)

    def _asr_loop(self) -> None:
        """Feed the queued audio to this connection's listener (in a recogniser process,
        voicechat.asr_pool) and post its events to the event loop."""
        from voicechat.asr_pool import RecognizerLost

        def post(coro) -> None:
            try:
                asyncio.run_coroutine_threadsafe(coro, self.loop)
            except RuntimeError:  # the server's loop has ended
                coro.close()

        listener = None
        try:
            self._engines_ready(["asr"], post)
            listener = self._listener_open()
            while True:
                items = [self.asr_queue.get()]
                while items[-1] is not None:  # all that is queued goes in one request
                    try:
                        items.append(self.asr_queue.get_nowait())
                    except queue.Empty:
                        break
                if items[-1] is None:  # the connection has closed
                    return
                try:
                    events = listener.feed(items)
                except RecognizerLost as exc:
                    # A recogniser process that died costs this utterance, not the session.
                    logger.warning("speech recogniser lost (%s); starting another", exc)
                    listener = None
                    listener, events = self._listener_open(), []
                for event in events:
                    self._asr_event(event, post)
        except Exception as exc:
            logger.exception("speech recognition failed")
            post(self.error("asr_unavailable", _("Speech recognition is unavailable: %(error)s") % {"error": exc}))
        finally:
            if listener is not None:
                listener.close()

    def _asr_event(self, event: tuple, post) -> None:
        kind = event[0]
        if kind == "speech":
            if self.turn is not None and not self.turn.finished:
                post(self.interrupt_turn(reason="speech"))
        elif kind == "partial":
            post(self.send_event("asr.partial", text=event[1]))
        elif kind == "final":
            _, text, speech_end, final_at, language, label = event
            post(self.finish_utterance(text, speech_end, final_at, language=language, heard_by=label))

    async def finish_utterance(self, text: str, speech_end: float, final_at: float, *,
                               language: str | None = None, heard_by: str = "") -> None:
        # The recogniser's language when it can tell (Whisper); else the script of the words.
        language = language or detect_language(text)
        await self.send_event("asr.final", text=text, language=language)
        if text.strip():
            await self.begin_turn(text.strip(), t0=speech_end, asr_final_ms=_ms(final_at - speech_end),
                                  language=language, heard_by=heard_by)

    # --- a turn ----------------------------------------------------------------------

    async def begin_turn(self, text: str, *, t0: float, asr_final_ms: int, language: str, heard_by: str = "") -> None:
        from voicechat.selectors import message_window
        from voicechat.services import message_add

        if self.turn is not None and not self.turn.finished:
            await self.interrupt_turn(reason="new_turn")
        turn = self.turn = Turn(id=uuid.uuid4().hex, t0=t0, asr_final_ms=asr_final_ms, language=language,
                                heard_by=heard_by)
        turn.mark("turn")

        def context():
            history = message_window(conversation=self.conversation, limit=settings.VOICE_HISTORY_MESSAGES)
            return history, self.user_speaker_id()

        history, self.speaker_id = await database_sync_to_async(context)()
        turn.mark("context")
        self.spawn(self.run_llm(turn, prompt_messages(history=history, user_text=text, language=language)))
        # The user's words are saved while the LLM starts: no write on the way to the first
        # audio. save_answer waits for this, so the messages keep their order.
        turn.user_saved = self.spawn(database_sync_to_async(message_add)(
            conversation=self.conversation, role=Message.Role.USER, text=text,
            telemetry={"asr_final_ms": asr_final_ms, "turn": turn.id}, language=language, model=heard_by,
        ))
        await self.send_event("turn.start", turn=turn.id, text=text, language=language)
        if settings.JOBS_BACKEND == "rq":
            self.spawn(self.watch_tts(turn))

    def user_speaker_id(self) -> int | None:
        from accounts.models import Preferences

        return Preferences.objects.filter(user_id=self.user.pk).values_list("active_speaker_id", flat=True).first()

    async def run_llm(self, turn: Turn, messages: list[dict]) -> None:
        tokens: asyncio.Queue = asyncio.Queue()
        loop = self.loop

        def produce():
            room = settings.VOICE_MAX_ANSWER_CHARS  # a runaway endpoint must not fill this process
            self._engines_ready(["llm"], lambda coro: asyncio.run_coroutine_threadsafe(coro, loop))
            turn.mark("llm_request")
            try:
                for piece in reply_stream(messages, stop=turn.stop):
                    if turn.stop.is_set():
                        break
                    piece, room = piece[:room], room - len(piece)
                    loop.call_soon_threadsafe(tokens.put_nowait, ("token", piece))
                    if room <= 0:
                        break
                loop.call_soon_threadsafe(tokens.put_nowait, ("done", None))
            except LLMUnavailable as exc:
                loop.call_soon_threadsafe(tokens.put_nowait, ("error", str(exc)))
            except Exception as exc:  # never let the thread die silently
                logger.exception("LLM stream failed")
                loop.call_soon_threadsafe(tokens.put_nowait, ("error", f"{type(exc).__name__}: {exc}"))

        threading.Thread(target=produce, name="voicechat-llm", daemon=True).start()
        splitter = SentenceSplitter()
        while True:
            kind, value = await tokens.get()
            if turn.interrupted:
                return
            if kind == "token":
                if turn.llm_first_token_ms is None:
                    turn.mark("llm_first_token")
                    turn.llm_first_token_ms = _ms(time.monotonic() - turn.t0) - turn.asr_final_ms
                turn.text += value
                await self.send_event("llm.token", text=value)
                for sentence in splitter.feed(value):
                    await self.speak(turn, sentence)
                continue
            if kind == "error":
                turn.error = value
                await self.error("llm_unavailable", _("The companion cannot answer right now (%(error)s).") % {"error": value})
            for sentence in splitter.flush():
                await self.speak(turn, sentence)
            break
        turn.llm_done = True
        await self.save_answer(turn)
        await self.send_event("llm.done", message_id=turn.message_id)
        await self.maybe_finish(turn)

    async def speak(self, turn: Turn, sentence: str) -> None:
        """Send one sentence to synthesis, once it counts within the user's TTS limit (shared by all
        server processes); past the limit the answer goes on as text and the client is told once."""
        if turn.first_sentence_ms is None:
            turn.mark("first_sentence")
            turn.first_sentence_ms = _ms(turn.marks["first_sentence"] - turn.t0) - turn.asr_final_ms
        if turn.tts_refused:
            return
        seq, turn.sentences = turn.sentences, turn.sentences + 1
        args = dict(channel=self.channel_name, turn=turn.id, seq=seq, text=sentence, speaker_id=self.speaker_id,
                    language=text_language(sentence) or turn.language)
        try:
            # One trip off the event loop for both Redis calls, the limit and the queue.
            limit, job_id = await sync_to_async(self._tts_request, thread_sensitive=False)(turn, args)
        except Exception as exc:
            logger.exception("tts enqueue failed")
            await self.error("tts_unavailable", _("Speech output is unavailable: %(error)s") % {"error": type(exc).__name__})
            turn.sentences -= 1
            return
        if not limit.allowed:
            turn.sentences -= 1
            turn.tts_refused = True
            await self.error("tts_rate_limited", rate_limit_message("tts", limit))
            return
        turn.mark("tts_queued")
        if settings.JOBS_BACKEND == "rq":
            turn.job_ids.append(job_id)
            turn.last_tts_at = time.monotonic()
        else:
            if self.local_tts is None:
                self.local_tts = asyncio.Queue()
                self.spawn(self._local_tts_loop())
            self.local_tts.put_nowait(args)

    def _tts_request(self, turn: Turn, args: dict):
        """(the rate-limit result, the job id or None); the job is queued only when the limit allows."""
        result = rate_limit_hit("tts", self.user.pk)
        turn.mark("tts_admitted")
        if not result.allowed or settings.JOBS_BACKEND != "rq":
            return result, None
        return result, jobs.tts_enqueue(**args)

    async def _local_tts_loop(self) -> None:
        """Embedded mode: this process is the ``gpu`` worker, one sentence at a time."""
        semaphore = _inprocess_gpu.setdefault(id(self.loop), asyncio.Semaphore(1))
        loop = self.loop
        while True:
            args = await self.local_tts.get()
            await sync_to_async(self._engines_ready, thread_sensitive=False)(
                ["tts"], lambda coro: asyncio.run_coroutine_threadsafe(coro, loop))
            async with semaphore:
                await sync_to_async(jobs.tts_sentence, thread_sensitive=False)(**args)

    # --- audio coming back from the synthesis jobs ----------------------------------

    async def voice_tts(self, message: dict) -> None:
        turn = self.turn
        if turn is None or message.get("turn") != turn.id or turn.interrupted:
            return  # a cancelled or older turn: its audio must not play
        seq = message["seq"]
        turn.last_tts_at = time.monotonic()
        if message["kind"] == "audio":
            turn.mark("audio_in")
        if seq < turn.next_seq:
            return  # a sentence already given up as lost
        if seq != turn.next_seq:
            turn.buffered.setdefault(seq, []).append(message)
            return
        await self._relay(turn, message)
        await self._drain(turn)

    async def _drain(self, turn: Turn) -> None:
        while turn.next_seq in turn.buffered and not turn.interrupted:
            pending = turn.buffered.pop(turn.next_seq)
            for item in pending:
                await self._relay(turn, item)

    async def watch_tts(self, turn: Turn) -> None:
        """Give up on a sentence whose synthesis job died, so the turn still ends and the user hears why.

        Without this a worker killed mid-sentence, or audio lost while Redis
        restarted, would leave the turn waiting for ever. A job still queued or
        running on a live worker is waited for up to its time limit.
        """
        stall = settings.VOICE_TTS_STALL_SECONDS
        limit = settings.JOB_TIMEOUTS.get("voicechat.tts", 120) + stall
        while not turn.finished and not self.closed:
            await asyncio.sleep(min(1.0, stall / 4))
            if turn.finished or turn.next_seq >= turn.sentences:
                continue
            waited = time.monotonic() - turn.last_tts_at
            if waited < stall:
                continue
            seq = turn.next_seq
            job_id = turn.job_ids[seq] if seq < len(turn.job_ids) else None
            try:
                state = await sync_to_async(jobs.tts_job_state, thread_sensitive=False)(job_id)
            except Exception:  # Redis unreachable: wait, within the limit
                logger.warning("cannot check tts job %s", job_id, exc_info=True)
                state = "unknown"
            if state in ("queued", "running", "unknown") and waited < limit:
                continue
            if turn.finished or seq != turn.next_seq:
                continue
            logger.warning("tts for turn %s seq %s lost (job %s: %s)", turn.id, seq, job_id, state)
            turn.error = turn.error or "speech synthesis was lost"
            turn.last_tts_at = time.monotonic()
            await self._relay(turn, {"seq": seq, "kind": "error",
                                     "message": _("Speech for sentence %(n)d was lost (the speech worker stopped).") % {"n": seq + 1}})
            await self._drain(turn)

    async def _relay(self, turn: Turn, message: dict) -> None:
        seq, kind = message["seq"], message["kind"]
        if kind == "start":
            turn.chunk_index[seq] = 0
            if seq == 0:
                turn.tts_first_compute_ms = _ms(message.get("first_chunk_s", 0.0))
                for stage, at in message.get("marks", {}).items():
                    turn.mark(stage, at)  # the worker's clock: CLOCK_MONOTONIC is one clock per machine
            turn.voice = turn.voice or message.get("voice", "")
            await self.send_event("tts.start", seq=seq, sample_rate=message["sample_rate"], format="pcm16",
                                  engine=message.get("engine", ""), voice=message.get("voice", ""))
        elif kind == "audio":
            expected = turn.chunk_index.get(seq, 0)
            if message["index"] != expected:
                await self.error("audio_gap", _("Audio chunk %(chunk)d of sentence %(n)d was lost.") % {"chunk": expected, "n": seq})
            turn.chunk_index[seq] = message["index"] + 1
            await self.send(bytes_data=message["data"])
            if not turn.audio_started:
                turn.audio_started = True
                turn.mark("audio_out")
                turn.tts_first_audio_ms = _ms(turn.marks["audio_out"] - turn.t0) - turn.asr_final_ms
        elif kind in ("end", "error"):
            if kind == "error":
                await self.error("tts_failed", message.get("message") or _("Speech synthesis failed."))
            elif message.get("chunks", 0) != turn.chunk_index.get(seq, 0):
                await self.error("audio_gap", _("Sentence %(n)d arrived incomplete.") % {"n": seq})
            await self.send_event("tts.end", seq=seq)
            turn.next_seq += 1
            if turn.next_seq in turn.buffered:
                return  # the caller drains the buffer
            await self.maybe_finish(turn)

    # --- ending a turn ---------------------------------------------------------------

    def telemetry(self, turn: Turn) -> dict:
        total = _ms(time.monotonic() - turn.t0)
        data = {
            "turn": turn.id,
            "asr_final_ms": turn.asr_final_ms,
            "llm_first_token_ms": turn.llm_first_token_ms,
            "first_sentence_ms": turn.first_sentence_ms,
            "tts_first_audio_ms": turn.tts_first_audio_ms,
            "tts_first_compute_ms": turn.tts_first_compute_ms,
            "total_ms": total,
            "sentences": turn.sentences,
            "stages_ms": {stage: _ms(at - turn.t0) for stage, at in sorted(turn.marks.items(), key=lambda kv: kv[1])},
        }
        if turn.error:
            data["error"] = turn.error
        return data

    async def save_answer(self, turn: Turn) -> None:
        from voicechat.services import message_add, message_update

        if turn.user_saved is not None:
            await asyncio.wait([turn.user_saved])  # its failure is logged by spawn; the answer is saved anyway
        if turn.message_id is not None:
            await database_sync_to_async(message_update)(
                message_id=turn.message_id, interrupted=turn.interrupted, text=turn.text, telemetry=self.telemetry(turn),
                voice=turn.voice,
            )
            return
        if not turn.text and not turn.error and not turn.interrupted:
            return
        message = await database_sync_to_async(message_add)(
            conversation=self.conversation, role=Message.Role.ASSISTANT, text=turn.text,
            interrupted=turn.interrupted, telemetry=self.telemetry(turn), language=turn.language,
            model=answer_model_name(), voice=turn.voice,
        )
        turn.message_id = message.pk

    async def maybe_finish(self, turn: Turn) -> None:
        if turn.finished or not turn.llm_done or turn.next_seq < turn.sentences:
            return
        turn.finished = True
        await self.save_answer(turn)
        metrics = {k: v for k, v in self.telemetry(turn).items() if k.endswith("_ms") and k != "stages_ms"}
        await self.send_event("turn.metrics", message_id=turn.message_id, **metrics)
        if not turn.error and await database_sync_to_async(self.conversation.messages.count)() == 2:
            self.spawn(self.write_title())  # cancelled with the socket, failures logged

    async def write_title(self) -> None:
        """Name the conversation from its first exchange, off the turn's critical path."""
        from voicechat.services import conversation_title_write

        title = await sync_to_async(conversation_title_write, thread_sensitive=False)(conversation_id=self.conversation.pk)
        if title:
            await self.send_event("conversation.title", title=title)

    async def interrupt_turn(self, *, reason: str) -> None:
        turn = self.turn
        if turn is None or turn.finished:
            return
        turn.interrupted = turn.finished = True
        turn.stop.set()
        if settings.JOBS_BACKEND == "rq":
            await sync_to_async(jobs.turn_cancel, thread_sensitive=False)(turn.id, turn.job_ids)
        else:
            jobs.turn_cancel(turn.id)
            while self.local_tts is not None and not self.local_tts.empty():
                self.local_tts.get_nowait()
        await self.save_answer(turn)
        await self.send_event("turn.interrupted", message_id=turn.message_id, reason=reason)
