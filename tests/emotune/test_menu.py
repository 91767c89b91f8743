"""The site's menu marks the page the reader is on, and only that one."""

from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "current"), [("/emotion/history/", "Emotion"), ("/music/history/", "History"),
                                              ("/music/", "Music studio"), ("/voice/", "Voice companion")])
def test_the_menu_marks_one_page_as_current(alice_client, url, current):
    page = alice_client.get(url, follow=True).content.decode()
    menu = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)[0]
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', menu)
    assert marked == [current], marked
