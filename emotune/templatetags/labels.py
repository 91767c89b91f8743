"""Template filters for words stored in English: {% load labels %} … {{ j.start_emotion|emotion_label }}."""

from __future__ import annotations

from django import template

from emotune import labels

register = template.Library()

register.filter("emotion_label", labels.emotion_label)
register.filter("status_label", labels.status_label)
register.filter("note_label", labels.note_label)
register.filter("error_label", labels.error_label)


@register.filter
def mode_label(mode: str) -> str:
    """A key's mode ("major", "minor") in the active language."""
    from django.utils.translation import gettext

    return {"major": gettext("major"), "minor": gettext("minor")}.get(mode, mode)
