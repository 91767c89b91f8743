"""The structured music brief and the deterministic template writer.

A brief is what every path produces (LLM agents, template writer, a user's own
prompt): a small dict of musical facts plus the English prompt text. The offline
engine renders the facts; MusicGen reads the text. ``brief_validate`` is the one
gate both LLM answers and template output pass through.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.utils.translation import gettext, gettext_noop

from emotion.soothing import soothing_for

KEYS = ("C", "D", "Eb", "E", "F", "G", "A", "Bb")
MODES = ("major", "minor")
BPM_LIMITS = (40, 200)
PROMPT_MAX = 600

# Words a user may write, and what they mean for the brief.
KNOWN_INSTRUMENTS = (
    "piano", "electric piano", "acoustic guitar", "guitar", "strings", "cello", "violin", "flute", "bells",
    "harp", "pads", "warm pads", "synth", "bass", "drums", "soft drums", "light percussion", "saxophone", "choir",
)
KNOWN_GENRES = (
    "ambient", "lo-fi", "jazz", "classical", "neo-classical", "bossa nova", "acoustic pop", "chillout",
    "new age", "folk", "cinematic", "electronic", "pop", "rock",
)
SLOW_WORDS = ("slow", "calm", "sleep", "quiet", "gentle", "relax", "soft", "rest")
FAST_WORDS = ("fast", "upbeat", "energetic", "dance", "lively", "run", "workout")


class BriefError(ValueError):
    """A brief (usually an LLM answer) that does not hold together. Its message is English: it
    goes back to the LLM as feedback; brief_error_label gives it in the reader's language."""


# The fixed messages of BriefError, marked for the catalogue (raised in English, shown translated).
_BRIEF_MESSAGES = (
    gettext_noop("expected a list of words"), gettext_noop("the brief is not an object"),
    gettext_noop("prompt is missing or too short"), gettext_noop("prompt must be English (ASCII) text"),
    gettext_noop("bpm must be a number"), gettext_noop("mode must be major or minor"),
    gettext_noop("energy must be a number"), gettext_noop("instruments must not be empty"),
)
_BPM_RANGE = re.compile(r"bpm must be between (\d+) and (\d+)")


def brief_error_label(message: str) -> str:
    """A BriefError's message in the active language (the English one when it is not a known one)."""
    if message in _BRIEF_MESSAGES:
        return gettext(message)
    if match := _BPM_RANGE.fullmatch(message):
        return gettext("bpm must be between %(low)s and %(high)s") % {"low": match[1], "high": match[2]}
    return message


def _clean_list(value, *, limit: int = 4) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;/]", value)]
    if not isinstance(value, (list, tuple)):
        raise BriefError("expected a list of words")
    items = [str(v).strip().lower()[:40] for v in value if str(v).strip()]
    return list(dict.fromkeys(items))[:limit]


def brief_validate(data: dict) -> dict:
    """Return a normalised copy of ``data`` or raise BriefError saying what is wrong."""
    if not isinstance(data, dict):
        raise BriefError("the brief is not an object")
    prompt = str(data.get("prompt") or "").strip()
    if len(prompt) < 12:
        raise BriefError("prompt is missing or too short")
    if not prompt.isascii():
        raise BriefError("prompt must be English (ASCII) text")
    try:
        given: Any = data.get("bpm")  # any JSON value; None and the like fail here with TypeError
        bpm = int(round(float(given)))
    except (TypeError, ValueError) as exc:
        raise BriefError("bpm must be a number") from exc
    if not BPM_LIMITS[0] <= bpm <= BPM_LIMITS[1]:
        raise BriefError(f"bpm must be between {BPM_LIMITS[0]} and {BPM_LIMITS[1]}")
    mode = str(data.get("mode") or "major").strip().lower()
    if mode not in MODES:
        raise BriefError("mode must be major or minor")
    key = str(data.get("key") or "C").strip().capitalize().replace("♭", "b")
    if key not in KEYS:
        key = {"Db": "C", "D#": "Eb", "F#": "G", "Gb": "F", "G#": "A", "Ab": "A", "A#": "Bb", "B": "Bb", "Cb": "Bb"}.get(
            key, "C"
        )
    try:
        energy = min(max(float(data.get("energy", 0.4)), 0.0), 1.0)
    except (TypeError, ValueError) as exc:
        raise BriefError("energy must be a number") from exc
    instruments = _clean_list(data.get("instruments") or ["piano"])
    if not instruments:
        raise BriefError("instruments must not be empty")
    return {
        "prompt": prompt[:PROMPT_MAX],
        "genre": str(data.get("genre") or "ambient").strip().lower()[:40],
        "mood": str(data.get("mood") or "calm").strip().lower()[:80],
        "goal": str(data.get("goal") or "").strip()[:120],
        "instruments": instruments,
        "bpm": bpm,
        "key": key,
        "mode": mode,
        "energy": round(energy, 2),
        "drums": bool(data.get("drums", energy >= 0.3)),
        "negative": str(data.get("negative") or "").strip()[:300],
    }


def prompt_render(brief: dict, *, description: str = "") -> str:
    """The English text MusicGen reads, written from the brief's facts."""
    parts = [
        f"{brief['mood']} {brief['genre']} music" + (f" to {brief['goal']}" if brief.get("goal") else ""),
        ", ".join(brief["instruments"]),
        f"{brief['bpm']} BPM, {brief['key']} {brief['mode']}",
    ]
    if brief.get("drums"):
        parts.append("soft steady drums" if brief["energy"] < 0.6 else "steady drums")
    else:
        parts.append("no drums")
    text = ", ".join(parts)
    if description:
        text += f". Inspired by: {description}"
    if brief.get("negative"):
        text += f". Avoid {brief['negative']}"
    return text[:PROMPT_MAX]


def _stable_choice(options, *seed_parts: str):
    digest = hashlib.sha256("|".join(seed_parts).encode()).digest()
    return options[digest[0] % len(options)]


def template_draft(*, emotion: str | None) -> dict:
    """Agent 1 without an LLM: the soothing direction for the emotion as a brief."""
    s = soothing_for(emotion)
    brief = {
        "genre": s.genres[0], "mood": s.mood.split(",")[0].strip(), "goal": s.goal,
        "instruments": list(s.instruments), "bpm": (s.bpm[0] + s.bpm[1]) // 2,
        "key": _stable_choice(KEYS, emotion or "neutral"), "mode": s.mode, "energy": s.energy,
        "drums": s.energy >= 0.3, "negative": s.avoid,
    }
    brief["prompt"] = prompt_render(brief)
    return brief_validate(brief)


def _mentioned(text: str, vocabulary) -> list[str]:
    lowered = text.lower()
    # longest first, so "electric piano" wins over "piano"
    found = [w for w in sorted(vocabulary, key=len, reverse=True) if re.search(rf"\b{re.escape(w)}\b", lowered)]
    kept: list[str] = []
    for word in found:
        if not any(word in longer for longer in kept):
            kept.append(word)
    return kept


def template_merge(brief: dict, *, description: str) -> dict:
    """Agent 2 without an LLM: fold the user's words in, keeping the soothing direction."""
    description = " ".join(description.split())[:300]
    if not description:
        return brief
    merged = dict(brief)
    instruments = _mentioned(description, KNOWN_INSTRUMENTS)
    if instruments:
        merged["instruments"] = list(dict.fromkeys(instruments + brief["instruments"]))[:4]
    genres = _mentioned(description, KNOWN_GENRES)
    if genres:
        merged["genre"] = genres[0]
    lowered = description.lower()
    if any(w in lowered for w in SLOW_WORDS):
        merged["bpm"] = max(BPM_LIMITS[0], brief["bpm"] - 8)
        merged["energy"] = max(0.1, brief["energy"] - 0.1)
    elif any(w in lowered for w in FAST_WORDS):
        # the soothing goal caps how far a request for speed moves the tempo
        merged["bpm"] = min(brief["bpm"] + 12, 130)
        merged["energy"] = min(0.8, brief["energy"] + 0.15)
    tempo = re.search(r"\b(\d{2,3})\s*bpm\b", lowered)
    if tempo:
        merged["bpm"] = min(max(int(tempo.group(1)), BPM_LIMITS[0]), BPM_LIMITS[1])
    ascii_words = description.encode("ascii", "ignore").decode()
    merged["prompt"] = prompt_render(merged, description=ascii_words if ascii_words.strip() else "")
    return brief_validate(merged)


def template_personalise(brief: dict, *, preferences: dict) -> tuple[dict, dict]:
    """Agent 3 without an LLM: fold in the user's taste; suggest generation parameters."""
    out = dict(brief)
    genres = _clean_list(preferences.get("genres") or [])
    if genres and out["genre"] not in genres:
        out["genre"] = f"{genres[0]}-tinged {out['genre']}" if genres[0] not in out["genre"] else out["genre"]
    instruments = _clean_list(preferences.get("instruments") or [])
    if instruments:
        out["instruments"] = list(dict.fromkeys(instruments[:2] + out["instruments"]))[:4]
    lo, hi = preferences.get("bpm_min"), preferences.get("bpm_max")
    if lo and hi and lo <= hi:
        out["bpm"] = min(max(out["bpm"], int(lo)), int(hi))
    negative = str(preferences.get("negative_prompt") or "").strip()
    if negative:
        out["negative"] = ", ".join(x for x in (out.get("negative"), negative) if x)[:300]
    description = ""
    if "Inspired by:" in brief["prompt"]:
        description = brief["prompt"].split("Inspired by:", 1)[1].split(". Avoid", 1)[0].strip()
    out["prompt"] = prompt_render(out, description=description)
    # calmer music wants steadier sampling; livelier music may wander more
    suggestion = {"temperature": round(0.9 + 0.3 * out["energy"], 2), "cfg_coef": 3.0, "top_k": 250, "top_p": 0.0}
    return brief_validate(out), suggestion


def manual_brief(prompt: str, *, emotion: str | None = None) -> dict:
    """A user's own English prompt: kept verbatim; facts guessed from it for the offline engine."""
    base = template_draft(emotion=emotion)
    merged = template_merge(base, description=prompt)
    merged["prompt"] = " ".join(prompt.split())[:PROMPT_MAX]
    return brief_validate(merged)
