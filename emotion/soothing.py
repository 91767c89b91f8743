"""Emotion → soothing direction: what music helps someone who feels this way.

The prompt agents and the template writer both start here, so an LLM brief and a
template brief aim the same way. Entries follow the "iso principle" of music
therapy: meet the mood first (tempo, mode), then lead it somewhere calmer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Soothing:
    goal: str  # the direction in one phrase, for prompts and the UI
    mood: str  # words for the music's character
    mode: str  # "major" or "minor"
    bpm: tuple[int, int]  # tempo range that meets and then eases the feeling
    genres: tuple[str, ...]
    instruments: tuple[str, ...]
    energy: float  # 0 (still) .. 1 (lively)
    avoid: str  # what would make it worse


SOOTHING: dict[str, Soothing] = {
    "angry": Soothing("release tension and cool down", "calm, grounding, steady", "minor", (60, 75),
                      ("ambient", "lo-fi"), ("warm pads", "soft piano", "cello"), 0.25, "aggressive drums, distortion"),
    "disgust": Soothing("cleanse and refresh", "clean, airy, gentle", "major", (70, 85),
                        ("ambient", "new age"), ("bells", "acoustic guitar", "flute"), 0.35, "harsh noise, dissonance"),
    "fear": Soothing("feel safe and held", "warm, reassuring, slow", "major", (55, 70),
                     ("ambient", "classical"), ("soft piano", "strings", "warm pads"), 0.2, "sudden hits, tension risers"),
    "happy": Soothing("keep the good mood, gently", "bright, light, uplifting", "major", (90, 115),
                      ("acoustic pop", "bossa nova"), ("acoustic guitar", "piano", "light percussion"), 0.65,
                      "melancholy, heavy bass"),
    "sad": Soothing("comfort, then lift a little", "tender, hopeful, warm", "major", (65, 80),
                    ("neo-classical", "lo-fi"), ("piano", "strings", "soft pads"), 0.35, "despairing, dark drones"),
    "surprise": Soothing("settle and re-centre", "balanced, flowing, clear", "major", (75, 90),
                         ("ambient", "chillout"), ("electric piano", "pads", "soft bass"), 0.45, "chaotic rhythms"),
    "neutral": Soothing("relax and focus", "peaceful, flowing, relaxed", "major", (70, 90),
                        ("lo-fi", "ambient"), ("piano", "pads", "soft drums"), 0.4, "loud, busy arrangements"),
}


def soothing_for(emotion: str | None) -> Soothing:
    """The soothing direction for an emotion; neutral when unknown or blank."""
    return SOOTHING.get((emotion or "").lower(), SOOTHING["neutral"])
