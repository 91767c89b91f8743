"""The site's chrome: the menu marks the page the reader is on, and only that one; every button is
styled; absolute dates read the same on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "current"), [("/emotion/history/", "Emotion"), ("/music/history/", "History"),
                                              ("/music/", "Music studio"), ("/voice/", "Voice companion")])
def test_the_menu_marks_one_page_as_current(alice_client, url, current):
    page = alice_client.get(url, follow=True).content.decode()
    menu = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)[0]
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', menu)
    assert marked == [current], marked


def test_every_button_of_the_site_has_a_style():
    """A <button> without a class shows the browser's grey default ("Create token" did)."""
    bare = []
    for path in TEMPLATES.rglob("*.html"):
        if "admin" in path.relative_to(TEMPLATES).parts:
            continue  # the admin's own stylesheet styles its buttons
        for tag in re.findall(r"<button\b[^>]*>", path.read_text()):
            if "class=" not in tag and 'role="tab"' not in tag:
                bare.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert bare == []


def test_absolute_dates_use_one_format():
    """Dates and times written out go through the |when filter (2026-12-07 21:30), never a format of
    their own; recent items may say "3 minutes ago" (naturaltime)."""
    own = [f"{path.relative_to(TEMPLATES)}: {m}" for path in TEMPLATES.rglob("*.html")
           if "admin" not in path.relative_to(TEMPLATES).parts
           for m in re.findall(r"\|date:\"[^\"]*\"", path.read_text())]
    assert own == []


@pytest.mark.django_db
def test_the_when_filter_writes_local_time_the_same_in_both_languages(settings):
    from datetime import UTC, datetime

    from django.template import Context, Template
    from django.utils import translation

    settings.TIME_ZONE = "Asia/Shanghai"
    at = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            out = Template("{% load labels %}{{ at|when }}").render(Context({"at": at}))
        assert out == '<time datetime="2026-12-07T13:05:00+00:00">2026-12-07 21:05</time>'
    assert Template("{% load labels %}{{ nothing|when }}").render(Context({"nothing": None})) == ""
