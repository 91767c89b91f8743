"""One connection's ear: its audio fed, from a thread of its own, to a listener in a recogniser process.

Decoding never runs on the event loop (nor in this process: voicechat.asr_pool); the
listener's events go back to the loop as the session's calls: speech barges in on an
answer, partials go to the client, a final begins a turn.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time

from django.utils.translation import gettext as _

from voicechat.turn import VoiceSession, engines_ready

logger = logging.getLogger(__name__)


def listener_open(attempts: int = 3):
    """A listener in a live recogniser process. A process that died without the pool knowing
    yet fails the open and is dropped; the next attempt gets another (or a new) process."""
    from voicechat.asr_pool import RecognizerLost
    from voicechat.asr_pool import listener_open as pool_open

    for attempt in range(attempts):
        try:
            return pool_open()
        except RecognizerLost as exc:
            if attempt == attempts - 1:
                raise
            logger.warning("speech recogniser lost while opening (%s); trying another", exc)


class Hearing:
    """Audio frames and ``stop`` marks in (from the loop, never blocking it), listener events out."""

    def __init__(self, session: VoiceSession) -> None:
        self.session = session
        self.queue: queue.Queue | None = None
        self.thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self.queue is not None

    def start(self) -> None:
        if self.thread is None:
            self.queue = queue.Queue(maxsize=500)
            self.thread = threading.Thread(target=self._run, name="voicechat-asr", daemon=True)
            self.thread.start()

    def audio(self, data: bytes) -> bool:
        """Queue PCM16 audio; False when the recogniser has fallen behind by seconds (the frame is dropped)."""
        return self._put(data)

    def stop_utterance(self) -> bool:
        """End the utterance now (push-to-talk); False when the queue is full."""
        return self._put(("stop", time.monotonic()))

    def _put(self, item) -> bool:
        assert self.queue is not None  # opened first
        try:
            self.queue.put_nowait(item)
            return True
        except queue.Full:
            return False

    def close(self) -> None:
        """Tell the thread to end without ever blocking the event loop on a full queue."""
        if self.queue is None:
            return
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    pass

    # --- the thread ---------------------------------------------------------------------

    def _post(self, coro) -> None:
        try:
            asyncio.run_coroutine_threadsafe(coro, self.session.loop)
        except RuntimeError:  # the server's loop has ended
            coro.close()

    def _next_items(self) -> list:
        """All that is queued, in one request (None last when the connection has closed)."""
        assert self.queue is not None  # opened first
        items = [self.queue.get()]
        while items[-1] is not None:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _run(self) -> None:
        from voicechat.asr_pool import RecognizerLost

        listener = None
        try:
            engines_ready(["asr"], self.session.send_event, self._post)
            listener = listener_open()
            while True:
                items = self._next_items()
                if items[-1] is None:
                    return
                try:
                    events = listener.feed(items)
                except RecognizerLost as exc:
                    # A recogniser process that died costs this utterance, not the session.
                    logger.warning("speech recogniser lost (%s); starting another", exc)
                    listener = None
                    listener, events = listener_open(), []
                for event in events:
                    self._event(event)
        except Exception as exc:
            logger.exception("speech recognition failed")
            self._post(self.session.error("asr_unavailable", _("Speech recognition is unavailable: %(error)s") % {"error": exc}))
        finally:
            if listener is not None:
                listener.close()

    def _event(self, event: tuple) -> None:
        kind = event[0]
        if kind == "speech":
            if self.session.speaking:
                self._post(self.session.interrupt(reason="speech"))
        elif kind == "partial":
            self._post(self.session.send_event("asr.partial", text=event[1]))
        elif kind == "final":
            _kind, text, speech_end, final_at, language, label = event
            self._post(self.session.heard(text, speech_end, final_at, language=language, heard_by=label))
