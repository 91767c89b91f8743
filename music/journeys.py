"""Mood journeys: plans that start at the listener's mood and step towards a target (pure functions).

Music therapy's iso-principle: meet the listener where they are, then move gradually.
A mood is a point on the valence (unpleasant → pleasant) / arousal (still → activated)
plane; a plan is 2–6 sections on the straight line from the listener's point to the
target's, the first at the listener's mood and the last at the target, each with the
musical facts the engines render (tempo, key/mode, instruments, dynamics) and its length.

``plan_build`` writes a plan (the template writer; ``music.agents.agent_journey`` lets an
LLM reword it), ``plan_validate`` is the one gate every plan passes (built, LLM-written,
edited by the user, given to the API) before it is rendered.
"""

from __future__ import annotations

import itertools
import math

from django.utils.translation import gettext as _

from emotion.soothing import soothing_for
from music.brief import KEYS, BriefError, _stable_choice, brief_error_label, brief_validate, prompt_render

# Valence, arousal in [-1, 1] (after Russell's circumplex; positions as commonly placed).
MOODS: dict[str, tuple[float, float]] = {
    "angry": (-0.6, 0.8), "disgust": (-0.6, 0.3), "fear": (-0.7, 0.6), "happy": (0.8, 0.5),
    "sad": (-0.7, -0.4), "surprise": (0.2, 0.8), "neutral": (0.0, 0.0), "calm": (0.5, -0.5),
    "tired": (-0.2, -0.7),
}
# Where each journey leads, and the style of its arrival.
TARGETS: dict[str, dict] = {
    "calm": {"va": (0.5, -0.5), "genre": "ambient", "instruments": ("warm pads", "soft piano", "harp"),
             "mood": "calm, spacious"},
    "uplifted": {"va": (0.7, 0.45), "genre": "acoustic pop", "instruments": ("acoustic guitar", "piano", "bells"),
                 "mood": "bright, hopeful"},
    "focused": {"va": (0.35, 0.1), "genre": "lo-fi", "instruments": ("electric piano", "soft bass", "pads"),
                "mood": "steady, clear"},
    "sleep": {"va": (0.3, -0.85), "genre": "ambient", "instruments": ("warm pads", "soft piano", "strings"),
              "mood": "slow, hushed"},
}
DYNAMICS = ("pp", "p", "mp", "mf", "f")
# How the prompt says it: MusicGen reads words, not score markings.
DYNAMICS_WORDS = {"pp": "very soft", "p": "soft", "mp": "moderately soft", "mf": "moderately loud", "f": "loud"}
# RMS level (dBFS) each dynamic marking is normalised to; sections keep their relative loudness.
DYNAMICS_DBFS = {"pp": -24.0, "p": -21.0, "mp": -19.0, "mf": -17.0, "f": -15.0}
SECTIONS = (2, 6)
TOTAL_SECONDS = (120.0, 600.0)  # 2–10 minutes
SECTION_MIN_S = 20.0
BPM_STEP_MAX = 30  # a larger tempo jump between neighbours is not gradual
START_TOLERANCE = 0.15  # the first section meets the listener: this close to their mood
TARGET_TOLERANCE = 0.05
EPS = 1e-3  # plans store 3 decimals
EDITABLE = ("seconds", "bpm", "key", "mode", "instruments", "dynamics", "genre")


class PlanError(ValueError):
    """A plan that does not hold together; the message names the section and the field."""


def mood_point(emotion: str, intensity: int | None = None) -> tuple[float, float]:
    """The mood's (valence, arousal); ``intensity`` 1–5 scales it from near neutral to full."""
    if emotion not in MOODS:
        raise PlanError(f"unknown mood {emotion!r}; choose one of: {', '.join(MOODS)}")
    v, a = MOODS[emotion]
    if intensity is None:
        return v, a
    scale = 0.3 + 0.7 * (min(max(int(intensity), 1), 5) - 1) / 4
    return v * scale, a * scale


def target_point(target: str) -> tuple[float, float]:
    if target not in TARGETS:
        raise PlanError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    return TARGETS[target]["va"]


def distance(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.dist(p, q)


def steps_interpolate(start: tuple[float, float], end: tuple[float, float], count: int) -> list[tuple[float, float]]:
    """``count`` evenly spaced points from ``start`` to ``end``, both included."""
    return [(round(start[0] + (end[0] - start[0]) * i / (count - 1), 3),
             round(start[1] + (end[1] - start[1]) * i / (count - 1), 3)) for i in range(count)]


def tempo_for(arousal: float) -> int:
    return int(round(80 + 35 * arousal))  # sleep ≈ 50, calm ≈ 62, focused ≈ 84, agitated ≈ 108


def dynamics_for(arousal: float) -> str:
    for limit, mark in ((-0.6, "pp"), (-0.2, "p"), (0.2, "mp"), (0.55, "mf")):
        if arousal < limit:
            return mark
    return "f"


def _mood_words(valence: float, arousal: float) -> str:
    feel = "tender, searching" if valence < -0.3 else ("warm, open" if valence > 0.3 else "gentle, balanced")
    pace = "restless" if arousal > 0.4 else ("slow, still" if arousal < -0.4 else "flowing")
    return f"{feel}, {pace}"


def _instruments_for(t: float, start: tuple[str, ...], target: tuple[str, ...], arousal: float) -> list[str]:
    """The start's colours early, the target's late, one of each in between; pads under still music."""
    if t < 0.34:
        chosen = list(start[:3])
    elif t > 0.66:
        chosen = list(target[:3])
    else:
        chosen = [start[0], target[0], target[1]]
    if arousal < -0.2 and not any("pad" in i for i in chosen):
        chosen.append("warm pads")
    return list(dict.fromkeys(chosen))[:4]


def section_brief(section: dict, *, target: str, start_emotion: str) -> dict:
    """A section's facts as a validated engine brief (its prompt written from the facts)."""
    brief = {
        "genre": section["genre"], "mood": section["mood"], "instruments": section["instruments"],
        "goal": f"move from {start_emotion} towards {target}", "bpm": section["bpm"], "key": section["key"],
        "mode": section["mode"], "energy": section["energy"], "drums": section["drums"], "negative": section.get("negative", ""),
        "prompt": "placeholder prompt, rewritten below",
    }
    brief = brief_validate(brief)
    brief["prompt"] = prompt_render(brief) + f", {DYNAMICS_WORDS[section['dynamics']]} dynamics"
    return brief_validate(brief)


def plan_build(*, emotion: str, target: str, minutes: float = 3.0, sections: int = 3,
               intensity: int | None = None, preferences: dict | None = None) -> dict:
    """The template writer's plan from ``emotion`` (1–5 ``intensity``) to ``target``."""
    if not SECTIONS[0] <= int(sections) <= SECTIONS[1]:
        raise PlanError(f"a journey has {SECTIONS[0]}–{SECTIONS[1]} sections (got {sections})")
    total = round(float(minutes) * 60, 1)
    if not TOTAL_SECONDS[0] <= total <= TOTAL_SECONDS[1]:
        raise PlanError(f"a journey lasts {TOTAL_SECONDS[0] / 60:.0f}–{TOTAL_SECONDS[1] / 60:.0f} minutes (got {minutes})")
    valence, arousal = mood_point(emotion, intensity)
    start, end = (round(valence, 3), round(arousal, 3)), target_point(target)
    count = int(sections)
    needed = math.ceil(abs(tempo_for(end[1]) - tempo_for(start[1])) / BPM_STEP_MAX) + 1
    if count < needed:
        raise PlanError(f"from {emotion} to {target} the tempo changes too much for {count} sections; "
                        f"choose at least {needed} to keep it gradual")
    soothing, style = soothing_for(emotion), TARGETS[target]
    favourite = (preferences or {}).get("genres") or []
    lengths = [round(total / count, 1)] * count
    lengths[-1] = round(total - sum(lengths[:-1]), 1)
    key = _stable_choice(KEYS, emotion)
    planned = []
    for i, (valence, arousal) in enumerate(steps_interpolate(start, end, count)):
        t = i / (count - 1)
        genre = (favourite[0] if favourite else None) or (soothing.genres[0] if t < 0.5 else style["genre"])
        energy = round(min(max(0.45 + 0.4 * arousal, 0.1), 0.9), 2)
        planned.append({
            "seconds": lengths[i], "valence": valence, "arousal": arousal, "bpm": tempo_for(arousal), "key": key,
            "mode": "major" if valence >= -0.1 else "minor", "genre": str(genre).lower(),
            "mood": style["mood"] if t == 1 else _mood_words(valence, arousal),
            "instruments": _instruments_for(t, soothing.instruments, style["instruments"], arousal),
            "dynamics": dynamics_for(arousal), "energy": energy, "drums": energy >= 0.45,
            "negative": soothing.avoid,
        })
    plan = {"version": 1, "start": {"emotion": emotion, "intensity": intensity, "valence": start[0], "arousal": start[1]},
            "target": target, "total_seconds": total, "sections": planned}
    return plan_validate(plan)


def _number(value, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise PlanError(_("%(what)s must be a number") % {"what": what}) from exc
    if not math.isfinite(number):
        raise PlanError(_("%(what)s must be a number") % {"what": what})
    return number


def _monotone(values: list[float], start: float, end: float) -> bool:
    sign = 1 if end >= start else -1
    path = [start, *values]
    return all(sign * (b - a) >= -EPS for a, b in itertools.pairwise(path)) and all(
        min(start, end) - EPS <= v <= max(start, end) + EPS for v in values)


def plan_validate(plan: dict) -> dict:
    """A normalised copy of ``plan`` or PlanError saying what is wrong.

    Rules: a known target and start mood; 2–6 sections of at least SECTION_MIN_S each whose
    lengths add up to ``total_seconds`` (2–10 minutes); valence and arousal each move
    monotonically from the listener's mood to the target, never past it, the first section
    within START_TOLERANCE of the listener and the last at the target; neighbouring tempos
    at most BPM_STEP_MAX apart; every section's facts a valid engine brief.
    """
    if not isinstance(plan, dict) or not isinstance(plan.get("sections"), list):
        raise PlanError("a plan is an object with a list of sections")
    target = str(plan.get("target") or "")
    end = target_point(target)
    start_in = plan.get("start") or {}
    emotion = str(start_in.get("emotion") or "")
    if emotion not in MOODS:
        raise PlanError(f"unknown start mood {emotion!r}")
    start = (_number(start_in.get("valence"), "start valence"), _number(start_in.get("arousal"), "start arousal"))
    sections_in = plan["sections"]
    if not SECTIONS[0] <= len(sections_in) <= SECTIONS[1]:
        raise PlanError(f"a journey has {SECTIONS[0]}–{SECTIONS[1]} sections (got {len(sections_in)})")
    sections = []
    for n, raw in enumerate(sections_in, start=1):
        if not isinstance(raw, dict):
            raise PlanError(_("section %(n)s is not an object") % {"n": n})
        seconds = round(_number(raw.get("seconds"), _("section %(n)s: seconds") % {"n": n}), 1)
        if seconds < SECTION_MIN_S:
            raise PlanError(_("section %(n)s: seconds must be at least %(min).0f (got %(got)s)")
                            % {"n": n, "min": SECTION_MIN_S, "got": seconds})
        valence = _number(raw.get("valence"), _("section %(n)s: valence") % {"n": n})
        arousal = _number(raw.get("arousal"), _("section %(n)s: arousal") % {"n": n})
        if not (-1 <= valence <= 1 and -1 <= arousal <= 1):
            raise PlanError(_("section %(n)s: valence and arousal lie between -1 and 1") % {"n": n})
        dynamics = str(raw.get("dynamics") or "")
        if dynamics not in DYNAMICS:
            raise PlanError(_("section %(n)s: dynamics must be one of %(choices)s") % {"n": n, "choices": ", ".join(DYNAMICS)})
        facts = {"genre": raw.get("genre") or TARGETS[target]["genre"], "mood": raw.get("mood") or _mood_words(valence, arousal),
                 "instruments": raw.get("instruments") or ["piano"], "bpm": raw.get("bpm"), "key": raw.get("key"),
                 "mode": raw.get("mode"), "energy": raw.get("energy", round(min(max(0.45 + 0.4 * arousal, 0.1), 0.9), 2)),
                 "drums": raw.get("drums", False), "negative": raw.get("negative", ""), "dynamics": dynamics}
        try:
            brief = section_brief(facts, target=target, start_emotion=emotion)
        except BriefError as exc:
            raise PlanError(_("section %(n)s: %(error)s") % {"n": n, "error": brief_error_label(str(exc))}) from exc
        if str(raw.get("key") or "") not in KEYS:
            raise PlanError(_("section %(n)s: key must be one of %(choices)s") % {"n": n, "choices": " ".join(KEYS)})
        sections.append({"seconds": seconds, "valence": round(valence, 3), "arousal": round(arousal, 3),
                         "bpm": brief["bpm"], "key": brief["key"], "mode": brief["mode"], "genre": brief["genre"],
                         "mood": brief["mood"], "instruments": brief["instruments"], "dynamics": dynamics,
                         "energy": brief["energy"], "drums": brief["drums"], "negative": brief["negative"],
                         "prompt": brief["prompt"]})
    total = round(_number(plan.get("total_seconds"), "total_seconds"), 1)
    summed = round(sum(s["seconds"] for s in sections), 1)
    if abs(summed - total) > 0.05:
        raise PlanError(_("the sections add up to %(summed)s s, not the journey's %(total)s s") % {"summed": summed, "total": total})
    if not TOTAL_SECONDS[0] <= total <= TOTAL_SECONDS[1]:
        raise PlanError(f"a journey lasts {TOTAL_SECONDS[0] / 60:.0f}–{TOTAL_SECONDS[1] / 60:.0f} minutes (got {total / 60:.1f})")
    for axis, name in ((0, "valence"), (1, "arousal")):
        if not _monotone([s[name] for s in sections], start[axis], end[axis]):
            raise PlanError(_("%(name)s must move steadily from the listener's mood to the target, never back or past it")
                            % {"name": {"valence": _("valence"), "arousal": _("arousal")}[name]})
    first, last = (sections[0]["valence"], sections[0]["arousal"]), (sections[-1]["valence"], sections[-1]["arousal"])
    if distance(first, start) > START_TOLERANCE + EPS:
        raise PlanError(_("the first section must meet the listener's mood (iso-principle)"))
    if distance(last, end) > TARGET_TOLERANCE + EPS:
        from emotune.labels import emotion_label

        raise PlanError(_("the last section must arrive at the target (%(target)s)") % {"target": emotion_label(target)})
    for n, (a, b) in enumerate(itertools.pairwise(sections), start=2):
        if abs(a["bpm"] - b["bpm"]) > BPM_STEP_MAX:
            raise PlanError(_("section %(n)s: the tempo jumps %(jump)s BPM; at most %(max)s keeps it gradual")
                            % {"n": n, "jump": abs(a["bpm"] - b["bpm"]), "max": BPM_STEP_MAX})
    return {"version": 1, "start": {"emotion": emotion, "intensity": start_in.get("intensity"),
                                    "valence": round(start[0], 3), "arousal": round(start[1], 3)},
            "target": target, "total_seconds": total, "sections": sections}


def plan_edit(plan: dict, edits: dict[int, dict]) -> dict:
    """Apply a user's edits (section index → {field: value} for EDITABLE fields) and validate.

    The total follows the edited lengths; anything else that does not hold raises PlanError.
    """
    sections = [dict(s) for s in plan["sections"]]
    for index, changes in edits.items():
        if not 0 <= index < len(sections):
            raise PlanError(_("there is no section %(n)s") % {"n": index + 1})
        for name, value in changes.items():
            if name not in EDITABLE:
                raise PlanError(f"{name} cannot be edited")
            if name == "instruments" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            sections[index][name] = value
    total = round(sum(_number(s.get("seconds"), _("section %(n)s: seconds") % {"n": i + 1}) for i, s in enumerate(sections)), 1)
    return plan_validate({**plan, "sections": sections, "total_seconds": total})


def section_starts(plan: dict) -> list[float]:
    """Where each section starts in the rendered piece (seconds; the markers)."""
    starts, at = [], 0.0
    for section in plan["sections"]:
        starts.append(round(at, 3))
        at += section["seconds"]
    return starts


def checkin_improvement(*, before: tuple[float, float], after: tuple[float, float], target: str) -> float:
    """How much closer to the target the listener felt after the journey (positive: it helped)."""
    end = target_point(target)
    return round(distance(before, end) - distance(after, end), 3)
