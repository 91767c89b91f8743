"""Speech recognition outside the server process.

Whisper (CTranslate2), pocketsphinx and Vosk decode in C, and partly while holding the GIL, so a recogniser in a
thread of the daphne process delays its event loop: one streaming user made
every other socket of the process lag. Here each server process keeps a few
recogniser processes (``VOICE_ASR_PROCESSES``, started on first use) and every
voice connection gets a session, a :class:`voicechat.asr.Listener`, in the
least busy one. The connection's ASR thread sends the audio it has queued in one
request and gets the listener's events back; while it waits, it holds no GIL.

A recogniser process is ``python -m voicechat.asr_pool``: a fresh interpreter
(never a fork of the server, whose threads and event loop must not be copied),
speaking pickled ``(op, session, payload)`` requests over its stdin/stdout. It
ends when the server's end of the pipe closes. A process that dies fails its
sessions with :class:`RecognizerLost`; the next session starts a new one.

``VOICE_ASR_PROCESSES=0`` keeps listeners in the connection's thread (the old
way, for machines where extra processes are unwelcome).
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from django.conf import settings

logger = logging.getLogger(__name__)

REPLY_TIMEOUT = 30.0  # seconds: a recogniser that takes longer to answer one request is stuck
SPARE_LISTENERS = 4  # per process: a closed session's recogniser is kept for the next one


class RecognizerLost(Exception):
    """The recogniser process died, hung or refused the session; the message says why."""


def listener_config() -> dict:
    """What a recogniser process needs to build a listener (it reads no Django settings)."""
    return {
        "backend": settings.VOICE_ASR,
        "vosk_model_dir": str(settings.VOSK_MODEL_DIR),
        "whisper_model_dir": str(settings.WHISPER_MODEL_DIR),
        "languages": list(settings.VOICE_LANGUAGES),
        "end_silence_ms": settings.VOICE_END_SILENCE_MS,
    }


# --- the server side ---------------------------------------------------------------


class RecognizerProcess:
    """One recogniser process and the pipe to it; requests are answered in order, one at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voicechat.asr_pool"],
            cwd=str(settings.BASE_DIR), stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # PIPE both
        self.requests = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
        self.replies = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.lock = threading.Lock()
        self.sessions = 0
        self.alive = True

    def call(self, op: str, session: int, payload=None):
        with self.lock:
            if not self.alive:
                raise RecognizerLost("the speech recogniser stopped")
            try:
                self.requests.send((op, session, payload))
                if not self.replies.poll(REPLY_TIMEOUT):
                    raise RecognizerLost("the speech recogniser did not answer")
                status, value = self.replies.recv()
            except (OSError, EOFError) as exc:
                self._lost()
                raise RecognizerLost("the speech recogniser stopped") from exc
            except RecognizerLost:
                self._lost()
                raise
        if status == "error":
            raise RecognizerLost(value)
        return value

    def _lost(self) -> None:
        self.alive = False
        logger.error("recogniser process %s lost (exit code %s)", self.proc.pid, self.proc.poll())
        if self.proc.poll() is None:
            self.proc.kill()

    def close(self) -> None:
        self.alive = False
        for conn in (self.requests, self.replies):
            conn.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class RemoteListener:
    """A connection's listener living in a recogniser process; same calls as :class:`voicechat.asr.Listener`."""

    _ids = itertools.count(1)

    def __init__(self, pool: RecognizerPool, process: RecognizerProcess, config: dict) -> None:
        self.pool, self.process, self.session = pool, process, next(self._ids)
        process.call("open", self.session, config)

    def feed(self, items: list) -> list[tuple]:
        return self.process.call("feed", self.session, items)

    def close(self) -> None:
        try:
            self.process.call("close", self.session)
        except RecognizerLost:
            pass
        finally:
            self.pool.release(self.process)


class RecognizerPool:
    """Up to ``size`` recogniser processes; a new session goes to the one with the fewest."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.processes: list[RecognizerProcess] = []
        self.lock = threading.Lock()

    def _take(self) -> RecognizerProcess:
        with self.lock:
            for dead in [p for p in self.processes if not p.alive]:
                self.processes.remove(dead)
                dead.close()
            idle = min(self.processes, key=lambda p: p.sessions, default=None)
            if idle is None or (idle.sessions and len(self.processes) < self.size):
                idle = RecognizerProcess()
                self.processes.append(idle)
            idle.sessions += 1
            return idle

    def release(self, process: RecognizerProcess) -> None:
        with self.lock:
            process.sessions -= 1

    def listener_open(self, config: dict) -> RemoteListener:
        process = self._take()
        try:
            return RemoteListener(self, process, config)
        except Exception:
            self.release(process)
            raise

    def close(self) -> None:
        with self.lock:
            for process in self.processes:
                process.close()
            self.processes = []


_pool: RecognizerPool | None = None
_pool_lock = threading.Lock()


def listener_open(*, languages: list[str] | None = None, partials: bool = True):
    """A listener for one voice connection: in a recogniser process, or in this one when
    ``VOICE_ASR_PROCESSES`` is 0. ``languages`` narrows ``VOICE_LANGUAGES`` (a transcription
    asked in one language); ``partials=False`` skips the running text (a file heard whole).
    Raises when the recogniser cannot start."""
    global _pool
    config = listener_config()
    if languages:
        config["languages"] = list(languages)
    if not partials:
        config["partials"] = False
    if settings.VOICE_ASR_PROCESSES == 0:
        from voicechat.asr import Listener

        return Listener(**config)
    with _pool_lock:
        if _pool is None or _pool.size != settings.VOICE_ASR_PROCESSES:
            _pool = RecognizerPool(settings.VOICE_ASR_PROCESSES)  # a resized pool lets the old processes end with their sessions
        pool = _pool
    return pool.listener_open(config)


def listeners_warm() -> None:
    """Start the recogniser processes and load their models (a session opened and closed
    in each leaves a loaded recogniser behind), so the first voice connection finds them ready."""
    if settings.VOICE_ASR_PROCESSES == 0:
        listener_open().release()  # loads the model into this process's engine cache
        return
    opened = [listener_open() for _ in range(settings.VOICE_ASR_PROCESSES)]
    for listener in opened:
        listener.close()


# --- the recogniser process --------------------------------------------------------


def serve(requests: Connection, replies: Connection) -> None:
    """Answer requests until the server closes the pipe."""
    from voicechat.asr import Listener

    listeners: dict[int, tuple[Listener, tuple]] = {}
    spare: dict[tuple, list] = {}  # recognisers of closed sessions, by backend and model, for the next ones
    while True:
        try:
            op, session, payload = requests.recv()
        except (EOFError, OSError):
            return
        try:
            if op == "feed":
                value = listeners[session][0].feed(payload)
            elif op == "open":
                kind = (payload["backend"], payload["vosk_model_dir"], payload["whisper_model_dir"],
                        tuple(payload["languages"]), payload.get("partials", True))
                kept = spare.get(kind)
                listeners[session] = (Listener(**payload, recognizer=kept.pop() if kept else None), kind)
                value = None
            elif op == "close":
                listener, closed_kind = listeners.pop(session, (None, None))
                if listener is not None and closed_kind is not None and len(spare.setdefault(closed_kind, [])) < SPARE_LISTENERS:
                    spare[closed_kind].append(listener.release())
                value = None
            else:
                raise ValueError(f"unknown request {op!r}")
            replies.send(("ok", value))
        except Exception as exc:  # the session fails, the process and its other sessions go on
            logger.exception("recogniser request %s failed", op)
            replies.send(("error", f"{type(exc).__name__}: {exc}"[:300]))


def main() -> None:
    # Ctrl-C in `make run` reaches the whole process group: the server decides when we end (EOF).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = Connection(os.dup(0), writable=False)
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # anything printed by a library goes to stderr, never into the replies
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s asr[%(process)d] %(message)s")
    serve(requests, replies)


if __name__ == "__main__":
    main()
