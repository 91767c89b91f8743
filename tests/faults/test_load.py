"""N signed-in users each chatting over real daphne while M generations run on the same gpu worker."""

from __future__ import annotations

import asyncio
import time

import pytest

from emotune import jobs
from emotune.models import JobStatus
from music.models import MusicGeneration
from music.services import generation_create
from tests import helpers
from tests.faults.conftest import wait_until
from tests.faults.load import check_counts, llm_script, load_run
from voicechat.models import Conversation

pytestmark = [pytest.mark.long, pytest.mark.django_db(transaction=True)]

USERS, GENERATIONS, TURNS = 8, 6, 3


def test_chats_and_generations_under_load(make_user, fake_llm, procs, tmp_path):
    fake_llm.script = llm_script()
    port = helpers.free_port()
    procs.append(helpers.start_daphne(port, tmp_path / "daphne.log", env={
        "OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "k",
    }))
    procs.append(helpers.start_worker("gpu", env={"VOICE_TTS": "piper"}))
    assert wait_until(jobs.live_worker_names, 30)
    users = [make_user(f"load{i}") for i in range(USERS)]
    sessions = [(helpers.session_cookie(u), Conversation.objects.create(user=u).pk) for u in users]
    generations = [generation_create(user=users[i % USERS], params={"duration": 15}) for i in range(GENERATIONS)]

    report = asyncio.run(load_run(port, sessions, turns=TURNS))
    started = time.monotonic()

    def all_final():
        return not MusicGeneration.objects.filter(pk__in=[g.pk for g in generations],
                                                  status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists()

    assert wait_until(all_final, 120, 0.5)
    statuses = list(MusicGeneration.objects.filter(pk__in=[g.pk for g in generations]).values_list("status", flat=True))
    counts = check_counts([cid for _, cid in sessions], TURNS)
    print(f"load: {USERS} users x {TURNS} turns + {GENERATIONS} generations: "
          f"{report['sustained_sessions']}/{report['sessions']} sessions sustained, {report['turns']} turns, "
          f"{len(report['errors'])} errors, turn p50 {report['turn_p50_s']:.2f} s p95 {report['turn_p95_s']:.2f} s, "
          f"first audio p50 {report['first_audio_p50_s']:.2f} s p95 {report['first_audio_p95_s']:.2f} s, "
          f"run {report['elapsed_s']} s (+{time.monotonic() - started:.1f} s for the last generations)")
    print(f"load: messages {counts}; generations {sorted(statuses)}")
    assert not report["errors"], report["errors"][:5]
    assert report["sustained_sessions"] == USERS and report["turns"] == USERS * TURNS
    assert counts["user_messages"] == counts["whole_answers"] == USERS * TURNS
    assert counts["other_rows"] == 0 and counts["per_conversation_ok"]
    assert statuses == [JobStatus.SUCCEEDED] * GENERATIONS
    assert report["turn_p95_s"] < 60
