"""The rule score: a 0–1 sanity score of rendered audio, with its parts.

Not a judgement of beauty: it checks that the piece is what was asked for
(length, tempo) and technically sound (dynamics, clipping, silence), and that
the brief fits the soothing direction for the emotion.
"""

from __future__ import annotations

import numpy as np

from emotion.soothing import soothing_for
from music.analysis import mono, tempo_estimate

WEIGHTS = {"length": 0.2, "tempo": 0.2, "dynamics": 0.15, "clipping": 0.15, "silence": 0.15, "style": 0.15}


def _felt_tempo(measured: float | None, lo: float, hi: float) -> float | None:
    """The half/same/double-time reading of ``measured`` nearest the requested range.

    An onset-based estimate may lock onto eighth notes or whole bars; a listener hears
    the same groove, so the score and the page report the octave that fits the request.
    """
    if measured is None:
        return None
    candidates = [measured * f for f in (0.5, 1.0, 2.0)]
    return min(candidates, key=lambda c: 0 if lo <= c <= hi else min(abs(c - lo), abs(c - hi)))


def _tempo_part(measured: float | None, lo: float, hi: float) -> float:
    if measured is None:
        return 0.5  # beatless music is allowed (ambient): neither reward nor punish fully
    # half and double time are the same groove to a listener
    candidates = [measured * f for f in (0.5, 1.0, 2.0)]
    if any(lo <= c <= hi for c in candidates):
        return 1.0
    distance = min(min(abs(c - lo), abs(c - hi)) for c in candidates) / ((lo + hi) / 2)
    return float(max(0.0, 1 - 3 * distance))


def rule_score(audio: np.ndarray, sr: int, *, requested_seconds: float, bpm_range: tuple[int, int],
               brief: dict, emotion: str | None) -> tuple[float, dict]:
    x = mono(audio)
    seconds = x.shape[-1] / sr
    length = max(0.0, 1 - abs(seconds - requested_seconds) / max(requested_seconds, 1e-6) * 5)
    measured = tempo_estimate(audio, sr)
    tempo = _tempo_part(measured, *bpm_range)
    measured = _felt_tempo(measured, *bpm_range)
    frame = sr // 10
    n = len(x) // frame
    rms = np.sqrt((x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)) if n else np.zeros(1)
    loud = rms[rms > 1e-4]
    if len(loud) > 2:
        spread_db = 20 * np.log10(np.percentile(loud, 95) / max(np.percentile(loud, 10), 1e-6))
        dynamics = float(np.clip(1 - abs(spread_db - 12) / 18, 0, 1))  # ~12 dB of movement sounds alive
    else:
        dynamics = 0.0
    clipped = float((np.abs(audio) >= 0.999).mean())
    clipping = float(np.clip(1 - clipped * 1000, 0, 1))
    silent = float((rms < 10 ** (-50 / 20)).mean())
    silence = float(np.clip(1 - max(0.0, silent - 0.1) * 2, 0, 1))
    s = soothing_for(emotion)
    style_checks = [
        s.bpm[0] - 15 <= brief.get("bpm", 0) <= s.bpm[1] + 25,
        abs(float(brief.get("energy", s.energy)) - s.energy) <= 0.3,
        brief.get("mode") == s.mode or emotion in (None, "", "neutral"),
    ]
    style = sum(style_checks) / len(style_checks)
    parts = {"length": length, "tempo": tempo, "dynamics": dynamics, "clipping": clipping,
             "silence": silence, "style": style}
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    details = {k: round(v, 3) for k, v in parts.items()}
    details.update({"measured_seconds": round(seconds, 2), "measured_bpm": round(measured, 1) if measured else None,
                    "bpm_range": list(bpm_range), "weights": WEIGHTS})
    return round(float(score), 3), details
