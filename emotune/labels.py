"""Words stored in English (emotion and mood names, job statuses, progress notes, job errors), shown translated.

Rows keep their English values: the API, logs and scripts read them. Pages and the JSON the pages' scripts
read pass them through these functions, which answer in the active language and leave an unknown value as it is.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# What jobs write to progress_note (emotune.jobs.Progress), translated when shown.
PROGRESS_NOTES = {
    "loading model": _("loading model"),
    "analysing frames": _("analysing frames"),
    "writing the brief": _("writing the brief"),
    "generating": _("generating"),
    "rendering bars": _("rendering bars"),
    "diffusion decoding": _("diffusion decoding"),
    "finishing audio": _("finishing audio"),
    "writing files": _("writing files"),
    "saving": _("saving"),
    "done": _("done"),
    "no LLM configured": _("no LLM configured"),
}
PROMPT_PATHS = {"llm": _("LLM agents"), "template": _("template writer"), "manual": _("your own prompt")}
_SECTION = re.compile(r"section (\d+) of (\d+)")
_BRIEF = re.compile(r"brief ready \((\w+)\)")

# Errors the job runner writes (emotune.jobs._readable) and journey rendering raises.
_ERRORS = (
    (re.compile(r"Stopped: the job ran longer than its limit of (\d+) s\."),
     lambda m: gettext("Stopped: the job ran longer than its limit of %(s)s s.") % {"s": m[1]}),
    (re.compile(r"Stopped: the model ran out of memory\. Try a shorter or smaller request\."),
     lambda m: gettext("Stopped: the model ran out of memory. Try a shorter or smaller request.")),
    (re.compile(r"Section (\d+) came out (\d+) samples long, not (\d+)\."),
     lambda m: gettext("Section %(n)s came out %(got)s samples long, not %(want)s.") % {"n": m[1], "got": m[2], "want": m[3]}),
)


# Where the names are defined: the apps' model fields, read through the app registry (this
# module sits below the apps and does not import them).
_NAMED_FIELDS = (("emotion", "EmotionReading", "emotion"), ("music", "CheckIn", "mood"), ("music", "Journey", "target"))


def emotion_label(name: str) -> str:
    """An emotion, mood or journey target ("sad", "calm", "sleep") in the active language."""
    from django.apps import apps

    for app, model, field in _NAMED_FIELDS:
        for value, label in apps.get_model(app, model)._meta.get_field(field).choices or ():
            if value == name:
                return str(label)
    return name


def mood_label(name: str) -> str:
    """A mood as the check-in and journey forms word it ("fear" reads "Anxious"), in the active language."""
    from django.apps import apps

    for value, label in apps.get_model("music", "CheckIn").MOODS:
        if value == name:
            return str(label)
    return emotion_label(name)


def feeling_label(valence, arousal) -> str:
    """A (valence, arousal) point in words people use ("pleasant, calm"), in the active language."""
    try:
        v, a = float(valence), float(arousal)
    except (TypeError, ValueError):
        return ""
    pleasant = gettext("pleasant") if v > 0.2 else gettext("unpleasant") if v < -0.2 else gettext("neither pleasant nor unpleasant")
    energy = gettext("energetic") if a > 0.2 else gettext("calm") if a < -0.2 else gettext("steady")
    return gettext("%(pleasant)s, %(energy)s") % {"pleasant": pleasant, "energy": energy}


def status_label(status: str) -> str:
    from emotune.models import JobStatus

    return str(dict(JobStatus.choices).get(status, status))


def note_label(note: str) -> str:
    """A progress note ("writing files", "section 2 of 3", "brief ready (llm)") in the active language."""
    if not note:
        return ""
    if note in PROGRESS_NOTES:
        return str(PROGRESS_NOTES[note])
    if match := _SECTION.fullmatch(note):
        return gettext("section %(n)s of %(total)s") % {"n": match[1], "total": match[2]}
    if match := _BRIEF.fullmatch(note):
        return gettext("brief ready (%(path)s)") % {"path": PROMPT_PATHS.get(match[1], match[1])}
    return note


def error_label(error: str) -> str:
    """A stored job error in the active language where it is one the code writes; others stay as written."""
    for pattern, words in _ERRORS:
        if match := pattern.fullmatch(error.strip()):
            return words(match)
    return error


def job_labels() -> dict[str, dict[str, str]]:
    """Known statuses and notes with their translations, for the pages' scripts (events arrive over the websocket
    in English)."""
    from emotune.models import JobStatus

    notes = [*PROGRESS_NOTES, *(f"brief ready ({path})" for path in PROMPT_PATHS)]
    return {"notes": {note: note_label(note) for note in notes},
            "statuses": {value: str(label) for value, label in JobStatus.choices}}
