"""The three prompt agents (the original app's Agent3 → Agent5 → Agent4).

Each agent is a plain function: inputs in, a validated brief out. It asks the
OpenAI-compatible LLM for a JSON object, validates it with ``brief_validate``
and asks once more when the answer is unusable. When no LLM is configured or it
fails twice, the template writer answers instead; the result says which ran.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from emotion.soothing import soothing_for
from emotune.llm import LLMUnavailable, chat_json, llm_configured
from music.brief import BriefError, brief_validate, template_draft, template_merge, template_personalise

logger = logging.getLogger(__name__)

ATTEMPTS = 2  # one try and one retry

BRIEF_SCHEMA = (
    'Answer with one JSON object: {"prompt": English music prompt (one or two sentences, under 400 characters), '
    '"genre": str, "mood": str, "goal": str, "instruments": [str, ...] (1-4), "bpm": int 40-200, '
    '"key": one of C D Eb E F G A Bb, "mode": "major"|"minor", "energy": float 0-1, "drums": bool, '
    '"negative": str (what to avoid)}'
)
SYSTEM = (
    "You are a music therapist who writes briefs for a text-to-music model (MusicGen). "
    "Music must soothe: meet the listener's mood, then lead it somewhere calmer or warmer. " + BRIEF_SCHEMA
)


@dataclass
class AgentResult:
    brief: dict
    path: str  # "llm" or "template"
    notes: list[str] = field(default_factory=list)  # why a fallback happened
    suggestion: dict = field(default_factory=dict)  # generation parameters (personalise only)


def _ask(task: str, payload: dict, *, extra_keys: tuple[str, ...] = ()) -> tuple[dict | None, list[str]]:
    """Ask the LLM up to ATTEMPTS times; return (validated answer or None, notes)."""
    notes: list[str] = []
    if not llm_configured():
        return None, ["no LLM configured"]
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": task + "\nInput:\n" + json.dumps(payload, ensure_ascii=False)},
    ]
    for attempt in range(ATTEMPTS):
        try:
            answer = chat_json(messages)
            brief = brief_validate(answer)
            for key in extra_keys:
                if key in answer:
                    brief[key] = answer[key]
            return brief, notes
        except (LLMUnavailable, BriefError) as exc:
            notes.append(f"attempt {attempt + 1}: {exc}")
            logger.info("prompt agent attempt %s failed: %s", attempt + 1, exc)
            if isinstance(exc, BriefError):
                messages = messages + [{"role": "user", "content": f"That answer was unusable ({exc}). " + BRIEF_SCHEMA}]
    return None, notes


def agent_draft(*, emotion: str | None) -> AgentResult:
    """Agent 1: a soothing-oriented brief from the emotion alone."""
    s = soothing_for(emotion)
    payload = {"emotion": emotion or "neutral", "soothing_goal": s.goal, "suggested_mood": s.mood,
               "suggested_bpm_range": list(s.bpm), "suggested_mode": s.mode, "suggested_instruments": list(s.instruments),
               "avoid": s.avoid}
    brief, notes = _ask("Write a soothing music brief for a listener who feels this emotion.", payload)
    if brief is not None:
        return AgentResult(brief, "llm", notes)
    return AgentResult(template_draft(emotion=emotion), "template", notes)


def agent_merge(*, brief: dict, description: str, emotion: str | None) -> AgentResult:
    """Agent 2: fold the user's own words into the brief, keeping the soothing direction."""
    if not description.strip():
        return AgentResult(brief, "llm" if llm_configured() else "template", ["no description to merge"])
    payload = {"brief": brief, "user_description": description[:1000], "soothing_goal": soothing_for(emotion).goal}
    merged, notes = _ask(
        "Merge the user's description into the brief. Keep the soothing goal; translate to English if needed.", payload
    )
    if merged is not None:
        return AgentResult(merged, "llm", notes)
    return AgentResult(template_merge(brief, description=description), "template", notes)


def agent_personalise(*, brief: dict, preferences: dict) -> AgentResult:
    """Agent 3: fold in the user's taste and suggest generation parameters."""
    payload = {"brief": brief, "preferences": preferences}
    task = (
        "Fold the listener's preferences into the brief (genres, instruments, BPM range, things to avoid) and "
        'add "params": {"temperature": 0.5-1.5, "cfg_coef": 1-6, "top_k": 50-500} suited to the music.'
    )
    personal, notes = _ask(task, payload, extra_keys=("params",))
    if personal is not None:
        suggestion = _suggestion_clean(personal.pop("params", None))
        if suggestion is not None:
            return AgentResult(personal, "llm", notes, suggestion)
        notes.append("params missing or out of range: template suggestion used")
        return AgentResult(personal, "llm", notes, template_personalise(personal, preferences=preferences)[1])
    brief_out, suggestion = template_personalise(brief, preferences=preferences)
    return AgentResult(brief_out, "template", notes, suggestion)


def _suggestion_clean(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    try:
        out = {
            "temperature": float(value.get("temperature", 1.0)),
            "cfg_coef": float(value.get("cfg_coef", 3.0)),
            "top_k": int(value.get("top_k", 250)),
        }
    except (TypeError, ValueError):
        return None
    if not (0.5 <= out["temperature"] <= 1.5 and 1 <= out["cfg_coef"] <= 6 and 50 <= out["top_k"] <= 500):
        return None
    return out


def agents_run(*, emotion: str | None, description: str, preferences: dict) -> dict:
    """Draft → merge → personalise. Returns the prompts, the final brief and the path taken.

    The path is "llm" only when every agent's answer came from the LLM; any
    fallback makes it "template", and ``notes`` says which step fell back and why.
    """
    draft = agent_draft(emotion=emotion)
    merged = agent_merge(brief=draft.brief, description=description, emotion=emotion)
    personal = agent_personalise(brief=merged.brief, preferences=preferences)
    steps = {"draft": draft, "merge": merged, "personalise": personal}
    path = "llm" if all(s.path == "llm" for s in steps.values()) else "template"
    return {
        "prompt_draft": draft.brief["prompt"],
        "prompt_merged": merged.brief["prompt"],
        "prompt_final": personal.brief["prompt"],
        "brief": personal.brief,
        "suggestion": personal.suggestion,
        "path": path,
        "steps": {name: {"path": s.path, "notes": s.notes} for name, s in steps.items()},
    }


JOURNEY_TASK = (
    "This is a mood journey (iso-principle): its sections step from the listener's mood to the target. "
    "For each section, in order, choose the music's genre, mood words and instruments so that each one "
    "continues the one before and the last arrives at the target. Keep the tempo, key, mode and dynamics "
    'given. Answer with one JSON object: {"sections": [{"genre": str, "mood": str, '
    '"instruments": [str, ...] (1-4)}, ...]} with exactly one entry per section.'
)


def agent_journey(*, plan: dict, preferences: dict) -> dict:
    """Let the LLM choose each section's genre, mood words and instruments; the template plan otherwise.

    The plan's steps (valence/arousal, tempo, key, mode, dynamics, lengths) stay as the template
    writer set them: the answer only rewords the music, and the result passes plan_validate.
    Returns {"plan", "path": "llm"|"template", "notes"}.
    """
    from music.journeys import PlanError, plan_validate

    if not llm_configured():
        return {"plan": plan, "path": "template", "notes": ["no LLM configured"]}
    steps = [{k: s[k] for k in ("valence", "arousal", "bpm", "key", "mode", "dynamics", "seconds", "genre",
                                "instruments")} for s in plan["sections"]]
    payload = {"start_mood": plan["start"]["emotion"], "target": plan["target"], "sections": steps,
               "listener_preferences": {k: preferences.get(k) for k in ("genres", "instruments", "negative_prompt")}}
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": JOURNEY_TASK + "\nInput:\n" + json.dumps(payload, ensure_ascii=False)}]
    notes: list[str] = []
    for attempt in range(ATTEMPTS):
        try:
            answer = chat_json(messages)
            sections = answer.get("sections") if isinstance(answer, dict) else None
            if not isinstance(sections, list) or len(sections) != len(plan["sections"]):
                raise PlanError(f"expected {len(plan['sections'])} sections")
            merged = []
            for mine, theirs in zip(plan["sections"], sections):
                if not isinstance(theirs, dict):
                    raise PlanError("each section must be an object")
                merged.append({**mine, **{k: theirs[k] for k in ("genre", "mood", "instruments") if theirs.get(k)}})
            return {"plan": plan_validate({**plan, "sections": merged}), "path": "llm", "notes": notes}
        except (LLMUnavailable, PlanError, BriefError) as exc:
            notes.append(f"attempt {attempt + 1}: {exc}")
            logger.info("journey agent attempt %s failed: %s", attempt + 1, exc)
            if not isinstance(exc, LLMUnavailable):
                messages = messages + [{"role": "user", "content": f"That answer was unusable ({exc}). " + JOURNEY_TASK}]
    return {"plan": plan, "path": "template", "notes": notes}
