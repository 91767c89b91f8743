"""The language of a piece of text, for typed turns and answers (spoken turns get Whisper's).

Only the languages the companion speaks are told apart, by script: CJK ideographs are
Chinese, Latin letters English. Cheap and deterministic, which is what routing one turn needs.
"""

from __future__ import annotations

import re

# Scripts: CJK ideographs (and CJK punctuation-free letters), Latin letters.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def cjk_share(text: str) -> float:
    """CJK characters among CJK characters + Latin letters (0.0 when there are neither)."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def text_language(text: str) -> str:
    """"zh" for text that is mostly CJK characters, "en" for mostly Latin letters, "" for neither."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if not cjk and not latin:
        return ""
    return "zh" if cjk > latin else "en"


def detect_language(text: str) -> str:
    """The language of a user's utterance from its script: "zh" when it has at least as many CJK
    characters as Latin words ("我今天很 stressed" is Chinese), else "en"."""
    return "zh" if len(_CJK.findall(text)) >= max(1, len(_LATIN_WORD.findall(text))) else "en"
