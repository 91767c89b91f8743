"""SystemLog changelist filters return exactly the matching rows; admin actions log themselves."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from ops.models import SystemLog

pytestmark = pytest.mark.django_db

URL = "/admin/ops/systemlog/"


def at(day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(2026, 3, day, hour, 0))


@pytest.fixture
def table(user):
    SystemLog.objects.all().delete()
    cache.delete("ops:log-actions")  # the filter's list of actions is cached for a minute
    specs = [
        ("auth.login", "success", "alice signed in", at(1)),
        ("auth.login", "failed", "wrong password for 小明", at(2)),
        ("music.generate.run", "failed", "MusicGen ran out of memory", at(3)),
        ("music.generate.run", "success", "平静的钢琴曲 generated", at(4)),
        ("emotion.read.run", "success", "happy face", at(5)),
        ("emotion.read.run", "failed", "没有检测到人脸", at(5, 23)),
        ("admin.requeue", "success", "requeued 2", at(6)),
    ]
    rows = {}
    for action, status, message, created in specs:
        row = SystemLog.objects.create(action=action, status=status, message=message, created_at=created, user=user)
        rows[message] = row.pk
    return rows


def shown(client, **params) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def ids(table, *messages) -> set[int]:
    return {table[m] for m in messages}


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, None),
        ({"action": "auth.login"}, ["alice signed in", "wrong password for 小明"]),
        ({"status__exact": "failed"}, ["wrong password for 小明", "MusicGen ran out of memory", "没有检测到人脸"]),
        ({"action": "music.generate.run", "status__exact": "success"}, ["平静的钢琴曲 generated"]),
        ({"created_from": "2026-03-02", "created_to": "2026-03-04"},
         ["wrong password for 小明", "MusicGen ran out of memory", "平静的钢琴曲 generated"]),
        ({"created_to": "2026-03-05"}, ["alice signed in", "wrong password for 小明", "MusicGen ran out of memory",
                                        "平静的钢琴曲 generated", "happy face", "没有检测到人脸"]),
        ({"created_from": "2026-03-05", "status__exact": "failed"}, ["没有检测到人脸"]),
        ({"q": "钢琴", "created_from": "2026-03-01"}, ["平静的钢琴曲 generated"]),
        ({"q": "人脸", "created_from": "2026-03-01"}, ["没有检测到人脸"]),
        ({"q": "小明", "action": "auth.login", "created_from": "2026-03-01"}, ["wrong password for 小明"]),
        ({"q": "memory", "created_from": "2026-03-01"}, ["MusicGen ran out of memory"]),
        ({"q": "alice", "created_from": "2026-03-01"}, ["alice signed in"] + ["wrong password for 小明", "MusicGen ran out of memory",
                                                 "平静的钢琴曲 generated", "happy face", "没有检测到人脸", "requeued 2"]),
        ({"q": "nothing-like-this", "created_from": "2026-03-01"}, []),
    ],
)
def test_log_filters_return_exactly_the_matching_rows(client, staff_user, table, params, expected):
    client.force_login(staff_user)
    SystemLog.objects.filter(action="auth.login", user=staff_user).delete()  # the force_login line
    got = shown(client, **params)
    want = set(table.values()) if expected is None else ids(table, *expected)
    assert got == want


def test_a_search_the_index_cannot_answer_covers_the_last_30_days_unless_a_range_is_set(client, staff_user, table):
    # One CJK character (or a word under three letters) is not in the FULLTEXT index: a bounded scan.
    # Searches the index answers cover all time (tests/ops/test_log_search.py).
    client.force_login(staff_user)
    recent = SystemLog.objects.create(action="music.generate.run", message="最近的钢琴曲")
    assert shown(client, q="琴") == {recent.pk}
    assert shown(client, q="琴", created_from="2026-01-01") == {recent.pk, table["平静的钢琴曲 generated"]}
    assert shown(client, q="钢琴") == {recent.pk, table["平静的钢琴曲 generated"]}


def test_action_filter_lists_the_actions_present(client, staff_user, table):
    client.force_login(staff_user)
    response = client.get(URL)
    html = response.content.decode()
    for action in ("auth.login", "music.generate.run", "emotion.read.run", "admin.requeue"):
        assert f"?action={action}" in html


def test_logs_cannot_be_edited_or_added(client, staff_user, table):
    client.force_login(staff_user)
    pk = table["happy face"]
    assert client.get(reverse("admin:ops_systemlog_add")).status_code == 403
    response = client.post(reverse("admin:ops_systemlog_change", args=[pk]), {"message": "rewritten"})
    assert response.status_code == 403
    assert SystemLog.objects.get(pk=pk).message == "happy face"


def test_capped_paginator_counts_at_most_its_cap(staff_user, table):
    from emotune.admin_kit import CappedPaginator

    class Small(CappedPaginator):
        cap = 3

    assert Small(SystemLog.objects.all(), 2).count == 3
    assert Small(SystemLog.objects.filter(action="music.generate.run"), 2).count == 2


def test_generation_admin_search_by_id_username_or_description(client, staff_user, user, other_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from music.models import MusicGeneration

    calm = MusicGeneration.objects.create(user=user, description="calm piano for sleep")
    storm = MusicGeneration.objects.create(user=other_user, description="storm drums")
    mentions = MusicGeneration.objects.create(user=other_user, description="like alice asked")
    client.force_login(staff_user)

    def found(q):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/admin/music/musicgeneration/", {"q": q})
        assert response.status_code == 200
        page = [q["sql"] for q in captured.captured_queries if "music_musicgeneration" in q["sql"]]
        assert not any("JOIN `accounts_user`" in sql for sql in page)  # the page's users come by id
        return {row.pk for row in response.context["cl"].result_list}

    assert found(str(storm.pk)) == {storm.pk}
    assert found("alice") == {calm.pk}  # a username: that user's rows
    assert found("PIANO") == {calm.pk}
    assert found("bob drums") == {storm.pk}
    assert found("asked") == {mentions.pk}
    assert found("nobody-has-this") == set()
    assert found("²") == set() and found("99999999999999999999999") == set()


def test_generation_list_dates_and_engines_without_a_distinct_over_the_table(client, staff_user, user):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from music.models import MusicGeneration

    cache.delete("ops:filter-values:music.musicgeneration.engine")
    for year, engine in ((2024, "offline"), (2026, "musicgen")):
        MusicGeneration.objects.create(user=user, engine=engine,
                                       created_at=timezone.make_aware(datetime(year, 3, 1, 12)))
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/admin/music/musicgeneration/").content.decode()
    for year in (2024, 2025, 2026):  # from the first and last dates
        assert f"?created_at__year={year}" in html
    assert "?engine=offline" in html and "?engine=musicgen" in html
    assert not any("DATE_FORMAT" in q["sql"] for q in captured.captured_queries)
    html = client.get("/admin/music/musicgeneration/", {"created_at__year": 2026}).content.decode()
    assert "created_at__month=3" in html and "created_at__month=4" not in html
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/music/musicgeneration/")
    assert not any("DISTINCT" in q["sql"] for q in captured.captured_queries)  # engines cached
