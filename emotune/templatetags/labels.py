"""Template filters for words stored in English: {% load labels %} … {{ j.start_emotion|emotion_label }}."""

from __future__ import annotations

from django import template

from emotune import labels

register = template.Library()

register.filter("emotion_label", labels.emotion_label)
register.filter("mood_label", labels.mood_label)
register.filter("status_label", labels.status_label)
register.filter("note_label", labels.note_label)
register.filter("error_label", labels.error_label)


@register.filter
def feeling(section) -> str:
    """A plan section's mood point in words ("pleasant, calm"), not its valence/arousal numbers."""
    return labels.feeling_label((section or {}).get("valence"), (section or {}).get("arousal"))


@register.filter
def mode_label(mode: str) -> str:
    """A key's mode ("major", "minor") in the active language."""
    from django.utils.translation import gettext

    return {"major": gettext("major"), "minor": gettext("minor")}.get(mode, mode)


@register.filter
def when(value) -> str:
    """A date and time as every page writes it: local time, "2026-12-07 21:30", in a <time> element."""
    from django.utils import timezone
    from django.utils.dateformat import format as date_format
    from django.utils.html import format_html

    if not value:
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(timezone.localtime(value), "Y-m-d H:i"))
