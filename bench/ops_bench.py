"""Admin changelists and the ops dashboard on big tables.

Fills a separate MariaDB database (default ``emotune_bench``) with 1,000,000
SystemLog rows, 100,000 music generations and a day of job events, then times
each SystemLog changelist filter, the generation changelist filters and the
dashboard through Django's test client (full request: middleware, admin,
templates), printing p50/p95 milliseconds and the number of SQL queries.

    mariadb -u root -e "CREATE DATABASE IF NOT EXISTS emotune_bench CHARACTER SET utf8mb4;
                        GRANT ALL ON emotune_bench.* TO emotune@'127.0.0.1'"
    DB_HOST=127.0.0.1 DB_USER=emotune DB_PASSWORD=emotune DB_NAME=emotune_bench \
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/ops_bench.py [--logs 1000000] [--runs 15]

Filling is idempotent: rows are added only up to the requested counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("EMOTUNE_HTTPS", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from music.models import MusicGeneration  # noqa: E402
from ops.models import Event, SystemLog  # noqa: E402
from ops.search import search_text_for  # noqa: E402

ACTIONS = ["auth.login", "auth.logout", "auth.signup", "emotion.upload", "emotion.read.run", "music.generate.run",
           "music.generate.cancel", "voicechat.turn", "voicechat.speaker.change", "admin.requeue",
           "admin.deactivate", "music.feedback", "emotion.read.cancel", "voicechat.tts.run", "ops.purge_media"]
WORDS = ["平静", "钢琴", "心情", "焦虑", "快乐", "悲伤", "生成", "上传", "失败", "成功", "calm", "piano", "upload",
         "generated", "timeout", "face", "memory", "retry", "speaker", "voice"]
STATUSES = ["success"] * 14 + ["failed", "failed", "info", "cancelled"]
EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def fill(logs: int, generations: int, users: int) -> None:
    rng = random.Random(5)
    have_users = User.objects.count()
    if have_users < users:
        User.objects.bulk_create(
            [User(username=f"bench{i}", password="!") for i in range(have_users, users)], batch_size=1000)
    user_ids = list(User.objects.values_list("pk", flat=True))
    now = timezone.now()
    have = SystemLog.objects.count()
    started = time.perf_counter()
    sql = ("INSERT INTO ops_systemlog (created_at, user_id, action, status, message, detail, ip, search_text) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")
    with connection.cursor() as cursor:
        while have < logs:
            batch = min(10_000, logs - have)
            rows = []
            for i in range(batch):
                user_id = rng.choice(user_ids) if rng.random() < 0.9 else None
                action = rng.choice(ACTIONS)
                message = " ".join(rng.choices(WORDS, k=rng.randint(3, 9))) + f" #{have + i}"
                rows.append((
                    # Logs are appended as things happen: time grows with the id, as in production.
                    now - timedelta(seconds=(logs - have - i) * 365 * 86400 / logs),
                    user_id, action, rng.choice(STATUSES), message, "{}",
                    f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    search_text_for(message, action, user_id=user_id),  # what SystemLog.save() writes
                ))
            cursor.executemany(sql, rows)
            have += batch
            if have % 100_000 == 0:
                print(f"  system logs: {have:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    have = MusicGeneration.objects.count()
    while have < generations:
        batch = min(5_000, generations - have)
        rows = []
        for _ in range(batch):
            created = now - timedelta(seconds=(generations - have - len(rows)) * 365 * 86400 / generations)
            status = rng.choices(["succeeded", "failed", "cancelled", "queued"], [90, 6, 3, 1])[0]
            rows.append(MusicGeneration(
                user_id=rng.choice(user_ids), status=status, created_at=created, started_at=created,
                finished_at=created + timedelta(seconds=rng.uniform(5, 90)), emotion=rng.choice(EMOTIONS),
                engine=rng.choice(["musicgen", "offline", "audiocraft"]), prompt_path="llm",
                description=" ".join(rng.choices(WORDS, k=5)), error="CUDA out of memory" if status == "failed" else "",
                audio=f"music/2026/01/bench-{have + len(rows)}.wav", duration=30.0,
            ))
        MusicGeneration.objects.bulk_create(rows, batch_size=1000)
        have += batch
        print(f"  generations: {have:,}", flush=True)
    day_events = Event.objects.filter(kind="job.finished", created_at__gte=now - timedelta(days=1)).count()
    if day_events < 5_000:
        Event.objects.bulk_create([
            Event(kind="job.finished", created_at=now - timedelta(seconds=rng.randint(0, 86400)),
                  subject_type="music.musicgeneration", subject_id=rng.randint(1, generations),
                  data={"job": rng.choice(["music.generate", "emotion.read", "voicechat.tts"]),
                        "outcome": rng.choices(["succeeded", "failed"], [95, 5])[0],
                        "seconds": round(rng.uniform(0.2, 60), 3), "queue": "gpu"})
            for _ in range(5_000 - day_events)
        ], batch_size=1000)


def measure(client: Client, url: str, runs: int) -> dict:
    client.get(url)  # warm caches (templates, the action list)
    times, sql, queries = [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return {"url": url, "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
            "sql_p50_ms": round(statistics.median(sql), 1), "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--generations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", help="time only the URLs containing this text (e.g. musicgeneration)")
    parser.add_argument("--no-fill", action="store_true", help="time what is there")
    args = parser.parse_args()
    name = settings.DATABASES["default"]["NAME"]
    if "bench" not in name:
        sys.exit(f"refusing to fill database {name!r}: give DB_NAME=emotune_bench (a database for benchmarks)")
    call_command("migrate", verbosity=0)
    if not args.no_fill:
        print(f"filling {name} ...", flush=True)
        fill(args.logs, args.generations, args.users)
    if not args.no_fill:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE ops_systemlog, music_musicgeneration, ops_event")
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True, "is_superuser": True})
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(staff)
    week_from = (timezone.now() - timedelta(days=7)).date().isoformat()
    today = timezone.now().date().isoformat()
    year_ago = (timezone.now() - timedelta(days=366)).date().isoformat()
    some_user = User.objects.filter(username="bench7").first()
    urls = [
        "/admin/ops/systemlog/",
        "/admin/ops/systemlog/?action=music.generate.run",
        "/admin/ops/systemlog/?status__exact=failed",
        "/admin/ops/systemlog/?action=auth.login&status__exact=failure",
        f"/admin/ops/systemlog/?created_from={week_from}&created_to={today}",
        f"/admin/ops/systemlog/?created_from={week_from}&status__exact=failed",
        "/admin/ops/systemlog/?q=钢琴",  # in a quarter of the rows: read from the newest rows
        "/admin/ops/systemlog/?q=piano+timeout",
        "/admin/ops/systemlog/?q=no-such-word",  # no row: the FULLTEXT index
        "/admin/ops/systemlog/?q=%23500",  # 1,111 rows over the whole year (#500, #5000…): the index
        "/admin/ops/systemlog/?q=钢琴+%23500",  # a common and a rare term: the index, for the rare one
        "/admin/ops/systemlog/?q=钢琴+快乐+悲伤+焦虑",  # only common words, rare together: the widest scan
        f"/admin/ops/systemlog/?q={some_user.username if some_user else 'bench7'}",  # a username
        f"/admin/ops/systemlog/?q=钢琴&created_from={year_ago}",
        f"/admin/ops/systemlog/?q=no-such-word&created_from={year_ago}",
        "/admin/ops/systemlog/?q=琴",  # one CJK character: the index cannot help, 30-day LIKE scan
        "/admin/ops/systemlog/?p=50",
        "/admin/ops/event/",
        "/admin/music/musicgeneration/",
        "/admin/music/musicgeneration/?status__exact=failed",
        "/admin/music/musicgeneration/?engine__exact=musicgen&emotion__exact=sad",
        f"/admin/music/musicgeneration/?created_at__year={timezone.now().year}",
        "/admin/music/musicgeneration/?q=bench7",
        "/admin/music/musicgeneration/?q=50000",
        "/admin/ops/",
        "/admin/ops/dashboard.json",
    ]
    urls = [url for url in urls if not args.only or args.only in url]
    results = []
    print(f"{'p50 ms':>8} {'p95 ms':>8} {'sql p50':>8} {'queries':>7}  url")
    for url in urls:
        result = measure(client, url, args.runs)
        results.append(result)
        flag = "" if result["p95_ms"] < 300 else "  <-- over 300 ms"
        print(f"{result['p50_ms']:>8} {result['p95_ms']:>8} {result['sql_p50_ms']:>8} {result['queries']:>7}  {url}{flag}",
              flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "ops_bench.json").write_text(json.dumps({
        "rows": {"systemlog": SystemLog.objects.count(), "generations": MusicGeneration.objects.count(),
                 "events": Event.objects.count()},
        "results": results,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
