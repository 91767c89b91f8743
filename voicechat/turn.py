"""A voice conversation's turns, from the user's words to the answer's last sentence, without Channels.

A :class:`VoiceSession` is one connection's companion: it begins a turn on the user's
words (typed, or the recogniser's final), streams the LLM's answer to the client and
into the sentence splitter, sends each sentence to synthesis (:class:`SpeechQueue`),
plays the sentences' audio in order (voicechat.sequencer) while a watchdog gives up on
a sentence whose job died, and saves both messages with the turn's telemetry. It talks
to the world only through a :class:`Port` (events and audio to the client, the
conversation's messages), which voicechat.consumers implements over the websocket.

Nothing on the way from the end of speech to the first audio byte waits for a database
write; each stage's time is stamped (:meth:`Timings.mark`) and stored with the answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from emotune.backends import backend
from emotune.ratelimit import rate_limit_hit, rate_limit_message
from voicechat import jobs
from voicechat.answering import (
    SAFE_ANSWER_MARK,
    Crisis,
    Failure,
    FirstToken,
    Piece,
    TurnPlan,
    answer_events,
    answer_record,
    turn_plan,
)
from voicechat.language import detect_language, text_language
from voicechat.models import Message
from voicechat.sequencer import Release, Sequencer

logger = logging.getLogger(__name__)

# What the page calls the engines a turn may wait for while they load.
ENGINE_NAMES = {"asr": gettext_lazy("speech recognition"), "llm": gettext_lazy("the language model"),
                "tts": gettext_lazy("the voice")}



def ms(seconds: float) -> int:
    return int(round(seconds * 1000))


@dataclass(frozen=True)
class TurnContext:
    """What a turn needs of the conversation before it begins."""

    history: list  # the recent messages the LLM sees, oldest first
    history_start: int = 0  # how many messages come before them
    speaker_id: int | None = None  # the user's active voice
    careful: bool = False  # the conversation has had a crisis (voicechat.care)


class Port(ABC):
    """What a session needs of its connection: the client, and the conversation's messages."""

    @abstractmethod
    async def send_event(self, event: dict) -> None:
        """One JSON event to the client."""

    @abstractmethod
    async def send_bytes(self, data: bytes) -> None:
        """One binary frame (PCM16 audio) to the client."""

    @abstractmethod
    async def save(self, *, message_id: int | None = None, **fields) -> int:
        """Add a message to the conversation (``message_id`` None) or update one; returns its id."""

    @abstractmethod
    async def context(self) -> TurnContext:
        """The conversation as the turn needs it."""

    @abstractmethod
    async def message_count(self) -> int:
        """How many messages the conversation holds."""

    @abstractmethod
    async def title_write(self) -> str | None:
        """Let the LLM name the conversation after its first exchange; the new title or None."""


# --- one turn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    """What the user said (or typed), and when."""

    text: str
    t0: float  # end of speech (or typed text received), monotonic
    asr_final_ms: int
    language: str  # the user's language this turn ("zh", "en"): the answer's and the voice's
    heard_by: str = ""  # the recogniser of a spoken turn ("whisper:faster-whisper-base"), "" when typed


@dataclass
class Timings:
    """When each stage was first reached, and the latencies the client and the message get."""

    t0: float
    asr_final_ms: int
    marks: dict[str, float] = field(default_factory=dict)  # stage -> monotonic time
    llm_first_token_ms: int | None = None
    first_sentence_ms: int | None = None
    tts_first_audio_ms: int | None = None
    tts_first_compute_ms: int | None = None

    def mark(self, stage: str, at: float | None = None) -> None:
        """Time stamp a stage on the way to the first audio (kept in the telemetry as ms after t0)."""
        self.marks.setdefault(stage, time.monotonic() if at is None else at)

    def _after_asr_ms(self, stage: str) -> int:
        return ms(self.marks[stage] - self.t0) - self.asr_final_ms

    def first_token(self) -> None:
        if self.llm_first_token_ms is None:
            self.mark("llm_first_token")
            self.llm_first_token_ms = self._after_asr_ms("llm_first_token")

    def first_sentence(self) -> None:
        if self.first_sentence_ms is None:
            self.mark("first_sentence")
            self.first_sentence_ms = self._after_asr_ms("first_sentence")

    def first_audio(self) -> None:
        if self.tts_first_audio_ms is None:
            self.mark("audio_out")
            self.tts_first_audio_ms = self._after_asr_ms("audio_out")

    def worker_started(self, start: dict) -> None:
        """The first sentence's start message: the worker's compute time and stamps."""
        self.tts_first_compute_ms = ms(start.get("first_chunk_s", 0.0))
        for stage, at in start.get("marks", {}).items():
            self.mark(stage, at)  # the worker's clock: CLOCK_MONOTONIC is one clock per machine

    def telemetry(self, *, turn: str, sentences: int, error: str) -> dict:
        data = {
            "turn": turn,
            "asr_final_ms": self.asr_final_ms,
            "llm_first_token_ms": self.llm_first_token_ms,
            "first_sentence_ms": self.first_sentence_ms,
            "tts_first_audio_ms": self.tts_first_audio_ms,
            "tts_first_compute_ms": self.tts_first_compute_ms,
            "total_ms": ms(time.monotonic() - self.t0),
            "sentences": sentences,
            "stages_ms": {stage: ms(at - self.t0) for stage, at in sorted(self.marks.items(), key=lambda kv: kv[1])},
        }
        if error:
            data["error"] = error
        return data


@dataclass
class Answer:
    """The companion's answer as it stands, and the message that keeps it."""

    text: str = ""
    voice: str = ""  # the engine and voice that spoke it
    error: str = ""
    message_id: int | None = None
    crisis: Crisis | None = None  # the safe answer replaced the LLM's (voicechat.answering)


@dataclass
class Progress:
    """Where the turn is: the LLM stream, barge-in, the end."""

    stop: threading.Event = field(default_factory=threading.Event)  # tells the LLM thread to stop
    llm_done: bool = False
    interrupted: bool = False
    finished: bool = False
    text_only: bool = False  # over the user's TTS limit: the rest of the turn is not spoken


class Turn:
    """One user utterance and the companion's answer to it."""

    def __init__(self, utterance: Utterance, *, stall_seconds: float) -> None:
        self.id = uuid.uuid4().hex
        self.utterance = utterance
        self.timings = Timings(t0=utterance.t0, asr_final_ms=utterance.asr_final_ms)
        self.answer = Answer()
        self.progress = Progress()
        self.sentences = Sequencer(stall_seconds=stall_seconds)
        self.user_saved: asyncio.Task | None = None  # the user's message being written (its id)
        # The answer is saved when the LLM is done, when the last sentence has played and on an
        # interrupt; these can overlap while a write is in flight, and must make one message.
        self.answer_saving = asyncio.Lock()

    @property
    def active(self) -> bool:
        return not self.progress.finished

    def telemetry(self) -> dict:
        return self.timings.telemetry(turn=self.id, sentences=self.sentences.count, error=self.answer.error)


# --- engines still loading --------------------------------------------------------------


def engines_ready(names: list[str], send_event: Callable[..., Coroutine], post: Callable[[Coroutine], object]) -> None:
    """Off the loop: wait for engines the start-up warm-up is still loading, telling the
    client what it waits for (``engine.loading``, then ``engine.ready``) instead of silence."""
    from emotune.warmup import warmup_pending, warmup_wait

    pending = warmup_pending(names)
    if not pending:
        return
    started = time.monotonic()
    post(send_event("engine.loading", engines=pending,
                    message=_("The companion is still starting up (loading %(engines)s)…") % {
                        "engines": ", ".join(str(ENGINE_NAMES.get(n, n)) for n in pending)}))
    warmup_wait(pending, timeout=settings.ENGINE_WARMUP_WAIT_SECONDS)
    post(send_event("engine.ready", engines=pending, waited_ms=ms(time.monotonic() - started)))


class Tasks:
    """The session's background tasks: failures logged, all cancelled when the connection ends."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task] = set()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("voicechat task failed", exc_info=task.exception())

    def cancel(self) -> None:
        for task in list(self.running):
            task.cancel()


# --- where sentences are synthesised ------------------------------------------------------


class SpeechQueue:
    """Sends a turn's sentences to synthesis: ``gpu`` jobs on RQ, or this process in the embedded mode.

    Either way the job streams its audio to ``reply_to`` (the connection's channel), which
    hands it to :meth:`VoiceSession.tts_message`.
    """

    def __init__(self, session: VoiceSession) -> None:
        self.session = session
        self.local: asyncio.Queue | None = None  # embedded mode: sentences waiting for this process

    @staticmethod
    def queued_jobs() -> bool:
        """Whether sentences are RQ jobs (which can be watched, and can die with their worker)."""
        return not backend().in_process

    async def request(self, turn: Turn, args: dict):
        """(the user's TTS limit result, the job id or None); the job is queued only when the limit allows."""
        # One trip off the event loop for both Redis calls, the limit and the queue.
        return await sync_to_async(self._request, thread_sensitive=False)(turn, args)

    def _request(self, turn: Turn, args: dict):
        result = rate_limit_hit("tts", self.session.user_id)
        turn.timings.mark("tts_admitted")
        if not result.allowed or not self.queued_jobs():
            return result, None
        return result, jobs.tts_enqueue(**args)

    def run_here(self, args: dict) -> None:
        if self.local is None:
            self.local = asyncio.Queue()
            self.session.tasks.spawn(self._local_loop())
        self.local.put_nowait(args)

    async def _local_loop(self) -> None:
        """Embedded mode: this process is the ``gpu`` worker, one sentence at a time."""
        loop = self.session.loop
        semaphore = backend().slot("voice")
        assert self.local is not None  # set up with the loop that runs this
        while True:
            args = await self.local.get()
            await sync_to_async(engines_ready, thread_sensitive=False)(
                ["tts"], self.session.send_event, lambda coro: asyncio.run_coroutine_threadsafe(coro, loop))
            async with semaphore:
                await sync_to_async(jobs.tts_sentence, thread_sensitive=False)(**args)

    async def job_state(self, job_id: str | None) -> str:
        return await sync_to_async(jobs.tts_job_state, thread_sensitive=False)(job_id)

    async def cancel(self, turn: Turn) -> None:
        """Barge-in: mark the turn cancelled (running jobs stop between chunks) and drop what is queued."""
        if self.queued_jobs():
            job_ids = [job_id for job_id in turn.sentences.job_ids if job_id]
            await sync_to_async(jobs.turn_cancel, thread_sensitive=False)(turn.id, job_ids)
            return
        jobs.turn_cancel(turn.id)
        while self.local is not None and not self.local.empty():
            self.local.get_nowait()


# --- one connection's turns -------------------------------------------------------------------


class VoiceSession:
    """One connection's companion: its current turn and everything that outlives a turn."""

    def __init__(self, port: Port, *, user_id: int, reply_to: str) -> None:
        self.port = port
        self.user_id = user_id
        self.reply_to = reply_to  # where synthesis jobs send the audio
        self.loop = asyncio.get_running_loop()
        self.turn: Turn | None = None
        self.speaker_id: int | None = None
        self.closed = False
        self.tasks = Tasks()
        self.speech = SpeechQueue(self)

    async def send_event(self, type_: str, **data) -> None:
        if not self.closed:
            await self.port.send_event({"type": type_, **data})

    async def error(self, code: str, message: str) -> None:
        await self.send_event("error", code=code, message=message)

    @property
    def speaking(self) -> bool:
        """Whether a turn is under way (speech from the user then barges in)."""
        return self.turn is not None and self.turn.active

    # --- beginning -------------------------------------------------------------------

    async def heard(self, text: str, speech_end: float, final_at: float, *,
                    language: str | None = None, heard_by: str = "") -> None:
        """The recogniser's final for an utterance."""
        # The recogniser's language when it can tell (Whisper); else the script of the words.
        language = language or detect_language(text)
        await self.send_event("asr.final", text=text, language=language)
        if text.strip():
            await self.begin(Utterance(text=text.strip(), t0=speech_end, asr_final_ms=ms(final_at - speech_end),
                                       language=language, heard_by=heard_by))

    async def typed(self, text: str) -> None:
        await self.begin(Utterance(text=text, t0=time.monotonic(), asr_final_ms=0, language=detect_language(text)))

    async def begin(self, said: Utterance) -> None:
        if self.speaking:
            await self.interrupt(reason="new_turn")
        turn = self.turn = Turn(said, stall_seconds=settings.VOICE_TTS_STALL_SECONDS)
        turn.timings.mark("turn")
        context = await self.port.context()
        self.speaker_id = context.speaker_id
        turn.timings.mark("context")
        # The crisis check and the prompt (voicechat.answering): plain code, well under a millisecond.
        plan = turn_plan(text=said.text, language=said.language, history=context.history,
                         history_start=context.history_start, careful=context.careful)
        self.tasks.spawn(self.run_llm(turn, plan))
        # The user's words are saved while the LLM starts: no write on the way to the first
        # audio. save_answer waits for this, so the messages keep their order.
        turn.user_saved = self.tasks.spawn(self.port.save(
            role=Message.Role.USER, text=said.text, telemetry={"asr_final_ms": said.asr_final_ms, "turn": turn.id},
            language=said.language, model=said.heard_by, crisis=plan.crisis is not None,
            care_kind=plan.crisis.kind if plan.crisis else "",
        ))
        await self.send_event("turn.start", turn=turn.id, text=said.text, language=said.language)
        if self.speech.queued_jobs():
            self.tasks.spawn(self.watch_tts(turn))

    # --- the answer ----------------------------------------------------------------------

    def _llm_thread(self, turn: Turn, plan: TurnPlan, events: asyncio.Queue) -> None:
        """Off the loop: the turn's answer events (voicechat.answering) into ``events``, then None."""
        loop = self.loop

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the loop has ended (server shut down): nobody waits for the answer
                turn.progress.stop.set()

        if plan.crisis is None:
            engines_ready(["llm"], self.send_event, lambda coro: asyncio.run_coroutine_threadsafe(coro, loop))
        turn.timings.mark("llm_request")
        try:
            for event in answer_events(plan, stop=turn.progress.stop):
                put(event)
        finally:  # answer_events ends every failure in a Failure event; this only guarantees the end
            put(None)

    async def run_llm(self, turn: Turn, plan: TurnPlan) -> None:
        events: asyncio.Queue = asyncio.Queue()
        threading.Thread(target=self._llm_thread, args=(turn, plan, events), name="voicechat-llm", daemon=True).start()
        while (event := await events.get()) is not None:
            if turn.progress.interrupted:
                return
            if isinstance(event, FirstToken):
                turn.timings.first_token()
            elif isinstance(event, Crisis):
                await self.crisis(turn, event)
            elif isinstance(event, Piece):
                turn.timings.first_token()
                turn.answer.text += event.text
                await self.send_event("llm.token", text=event.text)
                await self.speak(turn, event.sentence)
            elif isinstance(event, Failure):
                turn.answer.error = event.error
                await self.error(event.code, event.message)
        if turn.progress.interrupted:
            return
        turn.progress.llm_done = True
        await self.save_answer(turn)
        await self.send_event("llm.done", message_id=turn.answer.message_id)
        await self.maybe_finish(turn)

    async def crisis(self, turn: Turn, crisis: Crisis) -> None:
        """The safe answer replaces the LLM's: the client gets the helplines before its text."""
        turn.answer.crisis = crisis
        message_id = None
        if turn.user_saved is not None:
            await asyncio.wait([turn.user_saved])
            if not turn.user_saved.cancelled() and turn.user_saved.exception() is None:
                message_id = turn.user_saved.result()
        await self.send_event("care.crisis", message_id=message_id, reason=crisis.reason,
                              resources=crisis.resources_out())

    async def speak(self, turn: Turn, sentence: str) -> None:
        """Send one sentence to synthesis, once it counts within the user's TTS limit (shared by all
        server processes); past the limit the answer goes on as text and the client is told once."""
        turn.timings.first_sentence()
        if turn.progress.text_only:
            return
        args = dict(channel=self.reply_to, turn=turn.id, seq=turn.sentences.count, text=sentence,
                    speaker_id=self.speaker_id, language=text_language(sentence) or turn.utterance.language)
        try:
            limit, job_id = await self.speech.request(turn, args)
        except Exception as exc:
            logger.exception("tts enqueue failed")
            await self.error("tts_unavailable", _("Speech output is unavailable: %(error)s") % {"error": type(exc).__name__})
            return
        if not limit.allowed:
            turn.progress.text_only = True
            await self.error("tts_rate_limited", rate_limit_message("tts", limit))
            return
        turn.timings.mark("tts_queued")
        turn.sentences.queued(job_id)
        if not self.speech.queued_jobs():
            self.speech.run_here(args)

    # --- the answer's audio -----------------------------------------------------------------

    async def tts_message(self, message: dict) -> None:
        """A message from a sentence's synthesis job (voicechat.jobs.tts_sentence)."""
        turn = self.turn
        if turn is None or message.get("turn") != turn.id or turn.progress.interrupted:
            return  # a cancelled or older turn: its audio must not play
        if message["kind"] == "audio":
            turn.timings.mark("audio_in")
        await self.play(turn, turn.sentences.feed(message))

    async def play(self, turn: Turn, releases: list[Release]) -> None:
        ended = False
        for release in releases:
            if turn.progress.interrupted:
                return
            await self._release(turn, release)
            ended = ended or release.kind == "end"
        if ended:
            await self.maybe_finish(turn)

    async def _release(self, turn: Turn, release: Release) -> None:
        seq, message = release.seq, release.message or {}
        if release.kind == "start":
            if seq == 0:
                turn.timings.worker_started(message)
            turn.answer.voice = turn.answer.voice or message.get("voice", "")
            await self.send_event("tts.start", seq=seq, sample_rate=message["sample_rate"], format="pcm16",
                                  engine=message.get("engine", ""), voice=message.get("voice", ""))
        elif release.kind == "audio":
            await self.port.send_bytes(message["data"])
            turn.timings.first_audio()
        elif release.kind == "chunk_lost":
            await self.error("audio_gap", _("Audio chunk %(chunk)d of sentence %(n)d was lost.") % {"chunk": release.chunk, "n": seq})
        elif release.kind == "incomplete":
            await self.error("audio_gap", _("Sentence %(n)d arrived incomplete.") % {"n": seq})
        elif release.kind == "failed":
            await self.error("tts_failed", message.get("message") or _("Speech synthesis failed."))
        elif release.kind == "end":
            await self.send_event("tts.end", seq=seq)

    async def watch_tts(self, turn: Turn) -> None:
        """Give up on a sentence whose synthesis job died, so the turn still ends and the user hears why.

        Without this a worker killed mid-sentence, or audio lost while Redis
        restarted, would leave the turn waiting for ever. A job still queued or
        running on a live worker is waited for up to its time limit.
        """
        stall = settings.VOICE_TTS_STALL_SECONDS
        limit = settings.JOB_TIMEOUTS.get("voicechat.tts", 120) + stall
        while turn.active and not self.closed:
            await asyncio.sleep(min(1.0, stall / 4))
            overdue = turn.sentences.overdue() if turn.active else None
            if overdue is None:
                continue
            try:
                state = await self.speech.job_state(overdue.job_id)
            except Exception:  # Redis unreachable: wait, within the limit
                logger.warning("cannot check tts job %s", overdue.job_id, exc_info=True)
                state = "unknown"
            if overdue.may_still_arrive(state, limit=limit) or not turn.active:
                continue
            if overdue.seq != turn.sentences.next_seq:
                continue
            logger.warning("tts for turn %s seq %s lost (job %s: %s)", turn.id, overdue.seq, overdue.job_id, state)
            turn.answer.error = turn.answer.error or "speech synthesis was lost"
            reason = _("Speech for sentence %(n)d was lost (the speech worker stopped).") % {"n": overdue.seq + 1}
            await self.play(turn, turn.sentences.give_up(overdue.seq, reason))

    # --- the end of a turn -----------------------------------------------------------------

    async def save_answer(self, turn: Turn) -> None:
        async with turn.answer_saving:
            await self._save_answer(turn)

    async def _save_answer(self, turn: Turn) -> None:
        if turn.user_saved is not None:
            await asyncio.wait([turn.user_saved])  # its failure is logged by spawn; the answer is saved anyway
        answer = turn.answer
        telemetry = turn.telemetry()
        if answer.crisis:
            telemetry["care"] = SAFE_ANSWER_MARK
        if answer.message_id is not None:
            await self.port.save(message_id=answer.message_id, interrupted=turn.progress.interrupted,
                                 text=answer.text, telemetry=telemetry, voice=answer.voice)
            return
        if not answer.text and not answer.error and not turn.progress.interrupted:
            return
        answer.message_id = await self.port.save(
            role=Message.Role.ASSISTANT, text=answer.text, interrupted=turn.progress.interrupted,
            telemetry=telemetry, language=turn.utterance.language, voice=answer.voice, **answer_record(answer.crisis),
        )

    async def maybe_finish(self, turn: Turn) -> None:
        if not turn.active or not turn.progress.llm_done or not turn.sentences.all_played:
            return
        turn.progress.finished = True
        await self.save_answer(turn)
        metrics = {k: v for k, v in turn.telemetry().items() if k.endswith("_ms") and k != "stages_ms"}
        await self.send_event("turn.metrics", message_id=turn.answer.message_id, **metrics)
        # A crisis turn's words are not sent to an LLM for a title (the first words stay the title).
        if not turn.answer.error and not turn.answer.crisis and await self.port.message_count() == 2:
            self.tasks.spawn(self.write_title())  # cancelled with the session, failures logged

    async def write_title(self) -> None:
        """Name the conversation from its first exchange, off the turn's critical path."""
        title = await self.port.title_write()
        if title:
            await self.send_event("conversation.title", title=title)

    async def interrupt(self, *, reason: str) -> None:
        turn = self.turn
        if turn is None or not turn.active:
            return
        turn.progress.interrupted = turn.progress.finished = True
        turn.progress.stop.set()
        turn.sentences.stop()
        await self.speech.cancel(turn)
        await self.save_answer(turn)
        await self.send_event("turn.interrupted", message_id=turn.answer.message_id, reason=reason)

    async def close(self) -> None:
        """The connection has ended: keep the partial answer, stop the session's tasks."""
        self.closed = True
        await self.interrupt(reason="disconnect")

    def cancel_tasks(self) -> None:
        self.tasks.cancel()
