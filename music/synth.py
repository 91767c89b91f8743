"""The offline engine: a deterministic arranger/synth that renders a brief.

No weights, no network: it turns the brief's tempo, key, mode, energy and
instruments into chords, a melody, a bass line and drums with simple additive
synthesis. The same brief and seed give the same samples. It is labelled
"offline arranger" wherever its output is shown, never passed off as MusicGen.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SAMPLE_RATE = 32000
ENGINE_LABEL = "offline arranger/synth"

KEY_ROOTS = {"C": 48, "D": 50, "Eb": 51, "E": 52, "F": 53, "G": 55, "A": 57, "Bb": 58}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Scale degrees of each bar's chord: I V vi IV in major, i VI III VII in minor.
PROGRESSIONS = {"major": (0, 4, 5, 3), "minor": (0, 5, 2, 6)}

PAD_WORDS = ("pad", "string", "cello", "violin", "choir", "synth", "organ")
PLUCK_WORDS = ("guitar", "harp", "bells")
LEAD_WORDS = ("flute", "saxophone", "bells", "violin")


def _freq(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _scale_note(root: int, scale, degree: int) -> int:
    octave, step = divmod(degree, len(scale))
    return root + 12 * octave + scale[step]


def _tone(freq: float, seconds: float, *, partials, attack: float, decay: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(amp * np.sin(2 * np.pi * freq * n * t) for n, amp in partials)
    env = np.minimum(1.0, t / max(attack, 1e-3)) * np.exp(-t / decay)
    tail = min(len(t), int(0.02 * sr))  # short release: no click at the note's end
    if tail:
        env[-tail:] *= np.linspace(1, 0, tail)
    return wave * env


def _voice(kind: str):
    if kind == "pad":
        return {"partials": ((1, 1.0), (2, 0.35), (3, 0.15)), "attack": 0.4, "decay": 4.0}
    if kind == "pluck":
        return {"partials": ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.15)), "attack": 0.004, "decay": 0.35}
    if kind == "lead":
        return {"partials": ((1, 1.0), (2, 0.2), (3, 0.05)), "attack": 0.05, "decay": 1.2}
    return {"partials": ((1, 1.0), (2, 0.45), (3, 0.2), (5, 0.05)), "attack": 0.005, "decay": 0.7}  # piano


def _arrangement(brief: dict) -> dict:
    words = " ".join(brief.get("instruments") or ["piano"]).lower()
    energy = float(brief.get("energy", 0.4))
    return {
        "pad": any(w in words for w in PAD_WORDS),
        "pluck": any(w in words for w in PLUCK_WORDS),
        "piano": "piano" in words or not any(w in words for w in PAD_WORDS + PLUCK_WORDS),
        "lead": "lead" if any(w in words for w in LEAD_WORDS) else "piano",
        "bass": energy >= 0.25 or "bass" in words,
        "drums": bool(brief.get("drums")),
        "energy": energy,
    }


class _Mix:
    def __init__(self, total: int, sr: int):
        self.buf = np.zeros((2, total), dtype=np.float64)
        self.sr = sr

    def add(self, start_s: float, samples: np.ndarray, gain: float, pan: float = 0.0) -> None:
        start = int(round(start_s * self.sr))
        end = min(start + len(samples), self.buf.shape[1])
        if start >= end:
            return
        piece = samples[: end - start] * gain
        self.buf[0, start:end] += piece * (1 - pan) / 2 * 2 ** 0.5
        self.buf[1, start:end] += piece * (1 + pan) / 2 * 2 ** 0.5


def _drums(rng, sr: int) -> dict[str, np.ndarray]:
    t = np.arange(int(0.35 * sr)) / sr
    sweep = 45 + 80 * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-t / 0.12)
    noise = rng.standard_normal(int(0.2 * sr))
    ts = np.arange(len(noise)) / sr
    snare = (0.6 * noise + 0.5 * np.sin(2 * np.pi * 185 * ts)) * np.exp(-ts / 0.06)
    hat_noise = np.diff(rng.standard_normal(int(0.06 * sr) + 1))
    hat = hat_noise * np.exp(-np.arange(len(hat_noise)) / sr / 0.015)
    return {"kick": kick, "snare": snare, "hat": hat}


def render(brief: dict, *, duration: float, seed: int, sr: int = SAMPLE_RATE,
           progress: Callable[[float], None] | None = None, fade_in: bool = True,
           fade_out: bool = True) -> np.ndarray:
    """Render ``duration`` seconds of the brief as float32 stereo, shape (2, samples).

    A journey's inner sections skip the piece's fade in/out: they are crossfaded instead.
    """
    rng = np.random.default_rng(seed)
    bpm = float(brief["bpm"])
    beat = 60.0 / bpm
    root = KEY_ROOTS.get(brief.get("key", "C"), 48)
    scale = SCALES.get(brief.get("mode", "major"), SCALES["major"])
    progression = PROGRESSIONS.get(brief.get("mode", "major"), PROGRESSIONS["major"])
    arr = _arrangement(brief)
    total = int(round(duration * sr))
    mix = _Mix(total, sr)
    kit = _drums(rng, sr)
    bars = int(np.ceil(duration / (4 * beat)))
    tone_cache: dict[tuple, np.ndarray] = {}

    def note(kind: str, midi: int, seconds: float) -> np.ndarray:
        key = (kind, midi, round(seconds, 3))
        if key not in tone_cache:
            tone_cache[key] = _tone(_freq(midi), seconds, sr=sr, **_voice(kind))
        return tone_cache[key]

    melody_degree = 7  # an octave above the root
    for bar in range(bars):
        t0 = bar * 4 * beat
        degree = progression[bar % len(progression)]
        chord = [_scale_note(root, scale, degree + step) for step in (0, 2, 4)]
        if arr["pad"]:
            for i, midi in enumerate(chord):
                mix.add(t0, note("pad", midi + 12, 4 * beat + 0.3), 0.10, pan=(i - 1) * 0.4)
        for b in range(4):
            onset = t0 + b * beat
            if arr["piano"]:  # chord pulse on every beat, accent on the one
                for midi in chord:
                    mix.add(onset, note("piano", midi + 12, beat * 0.95), 0.09 if b == 0 else 0.06, pan=-0.2)
            if arr["pluck"]:
                for i, midi in enumerate(chord):  # a quick strum
                    mix.add(onset + i * 0.012, note("pluck", midi + 12, beat * 0.9), 0.07, pan=0.3)
            if arr["bass"] and b in (0, 2):
                mix.add(onset, note("pluck", chord[0] - 12, beat * 1.9), 0.22)
            if arr["drums"]:
                if arr["energy"] >= 0.5:
                    mix.add(onset, kit["kick" if b in (0, 2) else "snare"], 0.5 if b in (0, 2) else 0.25)
                else:
                    mix.add(onset, kit["kick"], 0.45 if b == 0 else 0.35)
                if arr["energy"] >= 0.4:
                    mix.add(onset + beat / 2, kit["hat"], 0.06, pan=0.5)
        # melody: a seeded walk over the scale that lands on chord tones on strong beats
        steps = 8 if arr["energy"] >= 0.55 else 4
        step_len = 4 * beat / steps
        for s in range(steps):
            if rng.random() < 0.2 and s % 2:
                continue  # rests keep the line breathing
            if s % (steps // 2) == 0:
                target = min(range(7, 15), key=lambda d: (abs(d - melody_degree), (d - degree) % 7 not in (0, 2, 4)))
                melody_degree = target if (target - degree) % 7 in (0, 2, 4) else melody_degree
            else:
                melody_degree = int(np.clip(melody_degree + rng.choice((-2, -1, 1, 2)), 5, 16))
            midi = _scale_note(root, scale, melody_degree) + 12
            mix.add(t0 + s * step_len, note(arr["lead"], midi, step_len * 1.6), 0.12, pan=0.1)
        if progress is not None:
            progress((bar + 1) / bars)

    audio = mix.buf
    fade_in_n, fade_out_n = int(min(1.0, duration / 4) * sr), int(min(2.0, duration / 4) * sr)
    if fade_in:
        audio[:, :fade_in_n] *= np.linspace(0, 1, fade_in_n)
    if fade_out:
        audio[:, total - fade_out_n:] *= np.linspace(1, 0, fade_out_n)
    return audio.astype(np.float32)
