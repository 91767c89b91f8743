"""Keyword search of the SystemLog admin: exact rows, through each way of finding them.

InnoDB applies FULLTEXT changes at commit and never shows a transaction its own uncommitted
rows through MATCH, so the prepared table is committed once for the module (and removed after).
"""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from emotune.logbook import log_write
from ops.admin import SystemLogAdmin
from ops.models import SystemLog
from ops.search import search_text_for, term_expression

pytestmark = pytest.mark.django_db

URL = "/admin/ops/systemlog/"

# (key, username or None, action, message, days ago)
ROWS = [
    ("signed-in", "searcher", "auth.login", "searcher signed in", 1),
    ("xiaoming", None, "auth.login", "wrong password for 小明", 2),
    ("calm-piece", "searcher", "music.generate.run", "平静的钢琴曲 generated", 3),
    ("face", "searcher", "emotion.read.run", "没有检测到人脸", 5),
    ("happy", "other-one", "emotion.read.run", "happy face", 5),
    ("stopwords", None, "voicechat.turn", "the will of the people", 7),
    ("william", None, "voicechat.turn", "William wrote 钢 and 琴", 8),
    ("timeout", "other-one", "music.generate.run", "钢琴 曲 timeout", 10),
    ("requeued", None, "admin.requeue", "requeued 2 jobs", 12),
    ("not-word-start", None, "ops.note", "xpiano is not a word start", 14),
    ("mentions", "other-one", "ops.note", "asked searcher for help", 15),
    ("memory", None, "music.generate.run", "MusicGen ran out of memory", 40),
    ("recent-piece", "searcher", "music.generate.run", "最近的钢琴 piece", 50),
    ("mixed", None, "music.feedback", "钢琴曲很好听piano", 60),
    ("newest", None, "ops.heartbeat", "worker alive", 0),
]


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        users = {name: User.objects.create(username=name) for name in ("searcher", "other-one")}
        now = timezone.now()
        rows = {}
        for key, username, action, message, days in ROWS:
            row = SystemLog.objects.create(
                action=action, message=message, user=users.get(username),
                created_at=now - timedelta(days=days, minutes=1),
            )
            rows[key] = row.pk
    yield rows
    with django_db_blocker.unblock():
        SystemLog.objects.filter(pk__in=rows.values()).delete()
        User.objects.filter(pk__in=[u.pk for u in users.values()]).delete()


@pytest.fixture(params=["newest-rows", "fulltext-index"])
def way(request, monkeypatch):
    """Make the admin find rows by reading the newest rows, or through the FULLTEXT index."""
    if request.param == "fulltext-index":
        # A window of one row (the heartbeat, which matches no search) never fills the page, and
        # every term is rare in it: the index is asked; the wide scan would cover everything.
        monkeypatch.setattr(SystemLogAdmin, "search_scan_rows", 1)
        monkeypatch.setattr(SystemLogAdmin, "search_common_scan_factor", 1_000)
    return request.param


def search(client, staff_user, **params) -> tuple[set[int], list[str]]:
    client.force_login(staff_user)
    SystemLog.objects.filter(user=staff_user).delete()  # the sign-in line, newest of all
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}, [q["sql"] for q in captured.captured_queries]


def keys(corpus, *names) -> set[int]:
    return {corpus[name] for name in names}


@pytest.mark.parametrize(
    "params,expected",
    [
        # English: case-insensitive, word beginnings, over all time (the memory row is 40 days old)
        ({"q": "memory"}, ["memory"]),
        ({"q": "MEMORY"}, ["memory"]),
        ({"q": "mem"}, ["memory"]),
        ({"q": "emory"}, []),  # inside a word: not a word beginning
        ({"q": "piano"}, ["mixed"]),  # not "xpiano"
        ({"q": "will"}, ["stopwords", "william"]),  # InnoDB stopwords are indexed here
        ({"q": "the"}, ["stopwords"]),
        ({"q": "auth.login"}, ["signed-in", "xiaoming"]),  # the action
        ({"q": "requeued 2"}, ["requeued"]),  # a short term rides along with an indexed one
        # Chinese: any run of two or more characters inside a sentence
        ({"q": "钢琴"}, ["calm-piece", "timeout", "recent-piece", "mixed"]),
        ({"q": "钢琴曲"}, ["calm-piece", "mixed"]),  # not "钢琴 曲"
        ({"q": "琴曲"}, ["calm-piece", "mixed"]),
        ({"q": "人脸"}, ["face"]),
        ({"q": "小明"}, ["xiaoming"]),
        # mixed
        ({"q": "钢琴 piano"}, ["mixed"]),
        ({"q": "钢琴曲很好听piano"}, ["mixed"]),
        ({"q": "钢琴 generated"}, ["calm-piece"]),
        # a username: that user's rows, and rows that mention it
        ({"q": "searcher"}, ["signed-in", "calm-piece", "face", "recent-piece", "mentions"]),
        ({"q": "searcher 钢琴"}, ["calm-piece", "recent-piece"]),
        # with filters
        ({"q": "钢琴", "action": "music.generate.run"}, ["calm-piece", "timeout", "recent-piece"]),
        ({"q": "钢琴", "created_to": (timezone.now() - timedelta(days=20)).date().isoformat()},
         ["recent-piece", "mixed"]),
        ({"q": "nothing-like-this"}, []),
    ],
)
def test_indexed_search_returns_exactly_the_matching_rows(client, staff_user, corpus, way, params, expected):
    got, queries = search(client, staff_user, **params)
    assert got == keys(corpus, *expected)
    if set(params) == {"q"}:  # with a filter, the newest row of the list may match: then no index
        used_index = any("MATCH (" in sql for sql in queries)
        assert used_index == (way == "fulltext-index")


@pytest.mark.parametrize(
    "params,expected",
    [
        # one CJK character, or words under three letters: the index cannot answer; the last 30 days
        ({"q": "琴"}, ["calm-piece", "william", "timeout"]),
        ({"q": "琴", "created_from": "2000-01-01"}, ["calm-piece", "william", "timeout", "recent-piece", "mixed"]),
        ({"q": "of"}, ["stopwords"]),
        ({"q": "of", "created_from": "2000-01-01"}, ["stopwords", "memory"]),
    ],
)
def test_terms_the_index_cannot_answer_search_a_bounded_window(client, staff_user, corpus, way, params, expected):
    got, queries = search(client, staff_user, **params)
    assert got == keys(corpus, *expected)
    assert not any("MATCH (" in sql for sql in queries)


def test_a_search_lists_at_most_the_newest_cap_matches(client, staff_user, corpus, way, monkeypatch):
    monkeypatch.setattr(SystemLogAdmin, "search_cap", 2)
    got, _queries = search(client, staff_user, q="钢琴")
    assert got == keys(corpus, "calm-piece", "timeout")


def test_search_text_is_written_with_every_log():
    row = log_write(action="music.generate.run", message="平静的钢琴曲 MusicGen")
    assert row.search_text == "musicgen z平静 z静的 z的钢 z钢琴 z琴曲 music generate run"
    assert search_text_for("a b钢", user_id=7) == "a b zuser7"  # single CJK characters make no bigram


def test_term_expressions():
    assert term_expression("钢琴曲") == "+(+z钢琴 +z琴曲)"
    assert term_expression("Pia") == "+(+pia*)"
    assert term_expression("auth.login", [3]) == "+((+auth* +login*) zuser3)"
    assert term_expression("of") is None
    assert term_expression("琴", [3]) is None  # the user alone would drop rows whose message has 琴


def test_migration_backfills_existing_rows(corpus):
    migration = importlib.import_module("ops.migrations.0003_systemlog_search_text")
    SystemLog.objects.filter(pk__in=corpus.values()).update(search_text="")
    with connection.schema_editor() as editor:
        migration.backfill(django_apps, editor)
    for row in SystemLog.objects.filter(pk__in=corpus.values()):
        assert row.search_text == row.build_search_text() != ""


def test_search_help_is_shown_in_the_page_language(client, staff_user):
    client.force_login(staff_user)
    assert "word beginnings" in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "从词首匹配" in client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
