"""The one path every companion turn takes, spoken, typed on the voice socket or sent to the API.

    plan = turn_plan(text=..., language=..., history=..., history_start=..., careful=...)
    for event in answer_events(plan, stop=stop):
        ...  # Crisis, FirstToken, Piece, Failure

``turn_plan`` checks the user's words (with their last messages) for a crisis before any
model is asked, and builds the LLM's prompt only when there is none; a conversation that has
had a crisis keeps the careful instruction in its prompt. ``answer_events`` answers: the
fixed safe answer when the plan holds a crisis (the LLM is never called), else the LLM's
answer passed sentence by sentence through the answer screen, so that nothing of it is shown
or spoken before it has passed; a sentence that fails ends the LLM's answer and the safe
answer follows. Failures of the model, expected or not, end as a ``Failure`` event.

The adapters, voicechat.turn (websocket, speech) and voicechat.services.text_turn (API, text),
send the events on and save the messages; they have no other way to the model.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from emotune.llm import LLMUnavailable
from voicechat.care import CRISIS_WINDOW, AnswerScreen, CrisisSignal, Resource, crisis_assess, safe_answer
from voicechat.companion import SentenceSplitter, answer_model_name, prompt_messages, reply_stream

logger = logging.getLogger(__name__)

# What an answer that is the safe answer records: Message.model, and telemetry["care"] (the page
# shows the helplines with it again after a reload).
SAFE_ANSWER_MODEL = "emotune:safe-answer"
SAFE_ANSWER_MARK = "safe_answer"


@dataclass(frozen=True)
class TurnPlan:
    text: str
    language: str
    crisis: CrisisSignal | None
    careful: bool  # the conversation has had a crisis (or has one now)
    messages: list[dict] = field(default_factory=list)  # the LLM's prompt; empty for a crisis


def turn_plan(*, text: str, language: str, history: list, history_start: int = 0, careful: bool = False) -> TurnPlan:
    """What this turn will be: the crisis check on ``text`` and the user's last messages in
    ``history``, and, when there is no crisis, the LLM's prompt (careful when the conversation
    has had one: ``careful``, or a crisis message among ``history``)."""
    earlier = [m.text for m in history if m.role == "user" and m.text][-CRISIS_WINDOW:]
    crisis = crisis_assess(text, earlier)
    careful = careful or crisis is not None or any(getattr(m, "crisis", False) for m in history)
    messages = [] if crisis else prompt_messages(
        history=history, user_text=text, language=language, history_start=history_start, careful=careful)
    return TurnPlan(text=text, language=language, crisis=crisis, careful=careful, messages=messages)


# --- what an answer is made of --------------------------------------------------------------


@dataclass(frozen=True)
class Crisis:
    """The safe answer replaces the LLM's: ``user_words`` (the plan's crisis) or
    ``answer_screen`` (a sentence of the LLM's answer failed the screen). Its sentences follow
    as Pieces."""

    reason: str
    kind: str  # the recognised kind of statement, or "answer" for the screen
    resources: list[Resource]

    def resources_out(self) -> list[dict]:
        return [r.as_dict() for r in self.resources]


def answer_record(crisis: Crisis | None) -> dict:
    """The fields an answer's message records of what answered: the model, or the safe answer
    (the message is marked a crisis, with its care kind, when the screen stopped the model)."""
    screened = crisis is not None and crisis.reason == "answer_screen"
    return {"model": SAFE_ANSWER_MODEL if crisis else answer_model_name(), "crisis": screened,
            "care_kind": "answer" if screened else ""}


@dataclass(frozen=True)
class FirstToken:
    """The model's first token arrived (not shown: it waits for its sentence to pass the screen)."""


@dataclass(frozen=True)
class Piece:
    """One screened piece of the answer: ``text`` to show (with the space that joins it to the
    text before), ``sentence`` to speak."""

    text: str
    sentence: str


@dataclass(frozen=True)
class Failure:
    code: str  # llm_unavailable (the endpoint or model cannot answer), llm_failed (anything else)
    message: str  # for the user, in the active language
    error: str  # for the message's telemetry and the logs


Event = Crisis | FirstToken | Piece | Failure

_CJK_EDGE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _joined(shown: str, sentence: str) -> str:
    """``sentence`` as it continues ``shown``: a space between Latin text, none next to Chinese."""
    if not shown or _CJK_EDGE.match(shown[-1]) or _CJK_EDGE.match(sentence[:1]):
        return sentence
    return " " + sentence


def _safe(plan: TurnPlan, *, reason: str, kind: str, shown: str = "") -> Iterator[Event]:
    """The safe answer's events, its text continuing ``shown`` (what was sent before the screen stopped)."""
    answer = safe_answer(plan.language)
    yield Crisis(reason=reason, kind=kind, resources=answer.resources)
    for sentence in answer.sentences:
        text = _joined(shown, sentence)
        shown += text
        yield Piece(text=text, sentence=sentence)


def answer_events(plan: TurnPlan, *, stop: threading.Event | None = None) -> Iterator[Event]:
    """The turn's answer as events (see the module's docstring). Blocks on the model: run it off
    the event loop. ``stop`` set (barge-in, the client went away) ends it between pieces."""
    if plan.crisis is not None:
        yield from _safe(plan, reason="user_words", kind=plan.crisis.kind)
        return
    stop = stop or threading.Event()
    screen = AnswerScreen(careful=plan.careful)
    splitter = SentenceSplitter()
    room = settings.VOICE_MAX_ANSWER_CHARS  # a runaway endpoint must not fill this process
    shown = ""

    def release(sentences: list[str]) -> Iterator[Event]:
        """Each sentence once it passed the screen; the first that fails stops the model, and the
        safe answer follows (``screen.tripped`` tells the caller to end)."""
        nonlocal shown
        for sentence in sentences:
            if not screen.passes(sentence):
                logger.warning("answer screen stopped a sentence of the companion's answer")
                stop.set()  # the model's thread stops generating
                yield from _safe(plan, reason="answer_screen", kind="answer", shown=shown)
                return
            text = _joined(shown, sentence)
            shown += text
            yield Piece(text=text, sentence=sentence)

    try:
        with contextlib.closing(reply_stream(plan.messages, stop=stop)) as stream:
            for n, token in enumerate(stream):
                if stop.is_set():
                    return
                if n == 0:
                    yield FirstToken()
                token, room = token[:room], room - len(token)
                yield from release(splitter.feed(token) + (splitter.flush() if room <= 0 else []))
                if screen.tripped or room <= 0:
                    return
    except LLMUnavailable as exc:
        failure: Failure | None = Failure(
            "llm_unavailable", _("The companion cannot answer right now (%(error)s).") % {"error": exc}, str(exc))
    except Exception as exc:  # whatever fails, the turn ends with an answer or a clear error
        logger.exception("companion answer failed")
        error = f"{type(exc).__name__}: {exc}"[:300]
        failure = Failure("llm_failed", _("The companion's answer failed (%(error)s).") % {"error": error}, error)
    else:
        failure = None
    # What the model said before it ended (or failed) is screened like the rest.
    yield from release(splitter.flush())
    if failure is not None and not screen.tripped:
        yield failure
