"""The language of a piece of text, for typed turns and answers (spoken turns get Whisper's).

Only the languages the companion speaks are told apart: text that is mostly Han
characters is Chinese, anything else English. Cheap and deterministic, which is
what routing one turn needs.
"""

from __future__ import annotations

import unicodedata


def _is_han(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def han_share(text: str) -> float:
    """Share of Han characters among the letters of ``text`` (0.0 when it has none)."""
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    if not letters:
        return 0.0
    return sum(_is_han(c) for c in letters) / len(letters)


def text_language(text: str, default: str = "en") -> str:
    """"zh" when Han characters make up at least a third of the letters, else "en" (or ``default`` for no letters)."""
    if not any(unicodedata.category(c).startswith("L") for c in text):
        return default
    return "zh" if han_share(text) >= 1 / 3 else "en"
