"""Load benchmark in the production topology: N users chatting while M generations run.

daphne + Redis channel layer + one ``gpu`` rqworker (EmotuneWorker, piper TTS,
offline music engine) + MariaDB; the LLM is the tests' loopback server streaming
a three-sentence answer. Each user signs in, opens a conversation and sends typed
turns one after another; M generations are queued first to the same worker.
Reports sustained sessions, p50/p95 turn latency (text sent -> all audio
delivered) and first-audio latency, errors, and checks the message counts in the
database against what was sent. Needs MariaDB/Redis as ``make test`` starts them.

    .venv/bin/python bench/load_bench.py --users 8 --generations 6 --turns 3 --db test_emotune_load_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--generations", type=int, default=6)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of music per generation")
    parser.add_argument("--workers", type=int, default=1, help="gpu workers")
    parser.add_argument("--db", default="test_emotune_load_bench")
    parser.add_argument("--redis-url", default="", help="default: a private redis-server of this run on a free port")
    args = parser.parse_args()
    # A Redis of its own: a shared database number may be flushed, or served by other
    # checkouts' workers, in the middle of the run.
    from tests.helpers import free_port, start_redis, wait_for_port, worker_cmd

    redis_port = free_port()
    redis = None if args.redis_url else start_redis(redis_port)
    redis_url = args.redis_url or f"redis://127.0.0.1:{redis_port}/0"
    env = {
        **os.environ, "DB_HOST": "127.0.0.1", "DB_PORT": "3306", "DB_USER": "emotune", "DB_PASSWORD": "emotune",
        "DB_NAME": args.db, "REDIS_URL": redis_url, "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "EMOTUNE_HTTPS": "0", "SECRET_KEY": "bench-" + "l0ad" * 12,
        "DJANGO_SETTINGS_MODULE": "emotune.settings", "VOICE_TTS": "piper",
        "EMOTUNE_DATA_DIR": str(ROOT / ".data" / "bench"),
    }
    os.environ.update(env)
    subprocess.run(["mariadb", "-h127.0.0.1", "-uemotune", "-pemotune", "-e",
                    f"CREATE DATABASE IF NOT EXISTS {args.db} CHARACTER SET utf8mb4"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from accounts.services import user_create
    from emotune.models import JobStatus
    from music.models import MusicGeneration
    from music.services import generation_create
    from tests.faults.load import check_counts, llm_script, load_run
    from tests.llm_server import FakeLLM
    from voicechat.models import Conversation

    llm = FakeLLM().start()
    llm.script = llm_script()
    env.update(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="k")
    logs = ROOT / ".data" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
                              cwd=ROOT, env=env, stdout=open(logs / "daphne.log", "w"), stderr=subprocess.STDOUT)]
    procs += [subprocess.Popen(worker_cmd("gpu", burst=False), cwd=ROOT, env=env,
                               stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT)
              for i in range(args.workers)]
    try:
        assert wait_for_port(port), "daphne did not start"
        sessions, users = [], []
        for i in range(args.users):
            name = f"load{i}"
            user = User.objects.filter(username=name).first() or user_create(username=name, password="load-Pa55word-x")
            client = Client()
            client.force_login(user)
            users.append(user)
            sessions.append((client.cookies["sessionid"].value, Conversation.objects.create(user=user).pk))
        generations = [generation_create(user=users[i % len(users)], params={"duration": args.duration}).pk
                       for i in range(args.generations)]
        report = asyncio.run(load_run(port, sessions, turns=args.turns))
        deadline = time.monotonic() + 300
        pending = MusicGeneration.objects.filter(pk__in=generations, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        statuses = list(MusicGeneration.objects.filter(pk__in=generations).values_list("status", flat=True))
        report["generations"] = {s: statuses.count(s) for s in set(statuses)}
        report["messages"] = check_counts([cid for _, cid in sessions], args.turns)
        report["errors"] = report["errors"][:10]
        report["config"] = vars(args)
        print(json.dumps(report, indent=1))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        llm.stop()
        if redis is not None:
            redis.terminate()
            redis.wait(10)


if __name__ == "__main__":
    main()
