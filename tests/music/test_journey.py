"""Mood journeys through the real worker with both engines, cancel, check-ins, the API and command."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from emotune import jobs
from emotune.jobs import JobCancelled, Progress
from emotune.models import JobStatus
from music.engines import JOIN_S
from music.journeys import plan_build
from music.models import CheckIn, Journey
from music.services import checkin_set, journey_create, journey_execute, run_journey
from tests.helpers import events_until_final, run_worker_burst, session_cookie, ws_client
from tests.music.joins import assert_continuous_join, click_ratio, longest_quiet_ms
from tests.music.tiny_musicgen import tiny_musicgen_build

SR = 32000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_musicgen_build(tmp_path_factory.mktemp("mg") / "tiny-mono", channels=1)


def _plan(**kw):
    return plan_build(**{"emotion": "sad", "target": "calm", "minutes": 2, "sections": 3, **kw})


def _check_piece(row: Journey, plan: dict) -> np.ndarray:
    info = sf.info(row.audio.path)
    expected = round(plan["total_seconds"] * SR)
    assert abs(info.frames - expected) <= 1, (info.frames, expected)  # one file of the summed length
    assert row.sections_done == 3 and row.markers == [0.0, 40.0, 80.0]
    audio, sr = sf.read(row.audio.path, dtype="float32", always_2d=True)
    audio = audio.T
    for at in row.markers[1:]:
        assert_continuous_join(audio, sr, at, crossfade=JOIN_S)
    assert Path(row.audio_preview.path).stat().st_size > 1000
    return audio


@pytest.mark.django_db(transaction=True)
async def test_offline_journey_on_the_worker_one_continuous_file_with_section_progress(make_user):
    user = await sync_to_async(make_user)("alice")
    ws = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    assert (await ws.connect())[0]
    plan = _plan(emotion="happy", target="sleep")
    row = await sync_to_async(journey_create)(user=user, plan=plan, params={"engine": "offline", "seed": 3})
    worker = await asyncio.to_thread(run_worker_burst, "gpu", timeout=300)
    assert worker.returncode == 0, worker.stderr
    events = await events_until_final(ws, timeout=60)
    await ws.disconnect()
    assert [e["status"] for e in events if e["type"] == "job.status"] == ["running", "succeeded"]
    progress = [e for e in events if e["type"] == "job.progress"]
    assert [e["progress"] for e in progress] == sorted(e["progress"] for e in progress)
    sections = [e["section"] for e in progress if e.get("section")]
    assert sections == sorted(sections) and set(sections) == {1, 2, 3}
    assert all(e["sections"] == 3 for e in progress if e.get("section"))
    assert any(e.get("section_eta_s") is not None for e in progress)  # an ETA per section
    await sync_to_async(row.refresh_from_db)()
    assert row.status == JobStatus.SUCCEEDED and row.engine == "offline" and row.duration == 120.0
    audio = _check_piece(row, plan)
    # the sections keep their planned dynamics: the first (mf) is louder than the last (pp)
    rms = [float(np.sqrt(np.mean(audio[:, int(a * SR): int((a + 30) * SR)] ** 2))) for a in (5, 85)]
    assert [plan["sections"][i]["dynamics"] for i in (0, -1)] == ["mf", "pp"] and rms[0] > rms[1] * 1.5


@pytest.mark.django_db(transaction=True)
def test_musicgen_journey_on_the_worker_continues_each_section(user, tiny_model):
    plan = _plan(emotion="angry", target="focused")
    row = journey_create(user=user, plan=plan, params={"engine": "musicgen", "model": str(tiny_model), "seed": 7})
    worker = run_worker_burst("gpu", timeout=600, env={"OMP_NUM_THREADS": "1"})
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.SUCCEEDED, row.error
    assert row.engine == "musicgen" and row.model_name == str(tiny_model)
    assert [s["continued"] for s in row.timings["sections"]] == [False, True, True]  # audio-prompt continuation
    _check_piece(row, plan)


def test_the_join_measures_catch_a_click_and_a_gap():
    """The checks above must fail on a broken join: a splice with a jump, and a silent gap."""
    t = np.arange(4 * SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 220 * t))[None, :]
    assert click_ratio(tone, SR, 2.0) < 1.5 and longest_quiet_ms(tone, SR, 2.0) <= 20
    spliced = np.concatenate([tone[:, : 2 * SR], 0.3 * np.cos(2 * np.pi * 220 * t[None, : 2 * SR])], axis=1)
    spliced[:, 2 * SR:] = -spliced[:, 2 * SR:]  # phase flipped at the splice: a click
    assert click_ratio(spliced, SR, 2.0) > 1.5
    gapped = tone.copy()
    gapped[:, 2 * SR: 2 * SR + int(0.05 * SR)] = 0
    assert longest_quiet_ms(gapped, SR, 2.0) >= 40


@pytest.mark.django_db
def test_cancel_keeps_the_sections_done_as_a_playable_file(user):
    plan = _plan()
    row = journey_create(user=user, plan=plan, params={"engine": "offline", "seed": 1})
    assert row.mark_running("test")
    real = Progress(row)

    def progress(fraction, note="", **extra):
        if note == "section 2 of 3" and row.status != JobStatus.CANCELLED:
            jobs.job_cancel(row)  # the user presses Cancel while section 2 renders
        real(fraction, note, **extra)

    with pytest.raises(JobCancelled):
        journey_execute(row, progress)
    row.refresh_from_db()
    assert row.status == JobStatus.CANCELLED and row.sections_done == 1 and row.markers == [0.0]
    info = sf.info(row.audio.path)
    assert abs(info.frames - 40 * SR) <= 1 and row.duration == 40.0
    audio, _ = sf.read(row.audio.path, dtype="float32", always_2d=True)
    assert np.abs(audio[-SR // 100:]).max() < 0.01  # it ends with a fade, not mid-note
    assert row.audio_preview


@pytest.mark.django_db
def test_bad_journey_input_is_refused_and_nothing_is_stored(user, other_user):
    plan = _plan()
    broken = json.loads(json.dumps(plan))
    broken["sections"][1]["seconds"] = 10
    with pytest.raises(ValidationError, match="at least 20"):
        journey_create(user=user, plan=broken, params={"engine": "offline"})
    with pytest.raises(ValidationError, match="offline engine or MusicGen"):
        journey_create(user=user, plan=plan, params={"engine": "audiocraft"})
    with pytest.raises(ValidationError, match="seed"):
        journey_create(user=user, plan=plan, params={"engine": "offline", "seed": -4})
    assert not Journey.objects.exists()


@pytest.mark.django_db
def test_checkins_are_stored_with_the_journey_scoped_to_the_owner_and_nudge_taste(user, other_user):
    from accounts.services import preferences_for

    result = run_journey(user=user, emotion="sad", target="calm", minutes=2, sections=2,
                         params={"engine": "offline", "seed": 2})
    journey = Journey.objects.get(pk=result["journey_id"])
    _before, changes = checkin_set(user=user, journey=journey, moment="before", mood="sad", intensity=5, note="rough day")
    assert changes == {}
    _after, changes = checkin_set(user=user, journey=journey, moment="after", mood="calm", intensity=4)
    arrival = journey.sections[-1]
    assert changes["improvement"] > 0.15 and changes["added_genre"] == arrival["genre"]
    assert arrival["genre"] in preferences_for(user=user).favourite_genres
    assert [(c.moment, c.mood, c.intensity) for c in journey.checkins.all()] == [("before", "sad", 5), ("after", "calm", 4)]
    # a second "before" replaces the first; bad input changes nothing
    checkin_set(user=user, journey=journey, moment="before", mood="tired", intensity=3)
    for bad in ({"mood": "bored"}, {"intensity": 9}, {"moment": "during"}):
        with pytest.raises(ValidationError):
            checkin_set(**{"user": user, "journey": journey, "moment": "before", "mood": "sad", "intensity": 2, **bad})
    assert journey.checkins.get(moment="before").mood == "tired"
    from emotion.models import EmotionReading

    theirs = EmotionReading.objects.create(user=other_user, source="webcam", media="readings/b.jpg", status="succeeded",
                                           emotion="happy")
    failed = EmotionReading.objects.create(user=user, source="webcam", media="readings/a.jpg", status="failed")
    for reading in (theirs, failed):
        with pytest.raises(ValidationError, match="your readings"):
            checkin_set(user=user, journey=journey, moment="before", mood="sad", intensity=2, reading=reading)
    mine = EmotionReading.objects.create(user=user, source="webcam", media="readings/c.jpg", status="queued")
    checkin_set(user=user, journey=journey, moment="before", mood="tired", intensity=3, reading=mine)
    assert journey.checkins.get(moment="before").reading == mine  # a snapshot still being read may be attached
    with pytest.raises(ValidationError, match="not yours"):
        checkin_set(user=other_user, journey=journey, moment="before", mood="sad", intensity=2)
    assert CheckIn.objects.filter(user=other_user).count() == 0
    # over HTTP another user gets 404 for the journey, its check-ins, its files and its status
    bob = Client()
    bob.force_login(other_user)
    for url in (f"/music/journeys/{journey.pk}/", f"/music/journeys/{journey.pk}/status/",
                f"/music/journeys/{journey.pk}/file/audio/"):
        assert bob.get(url).status_code == 404
    posted = bob.post(f"/music/journeys/{journey.pk}/checkin/", {"moment": "after", "mood": "happy", "intensity": 5})
    assert posted.status_code == 404
    assert bob.post(f"/music/journeys/{journey.pk}/cancel/").status_code == 404
    assert journey.checkins.get(moment="after").mood == "calm"
    # the owner sees both on the page, with the rule
    alice = Client()
    alice.force_login(user)
    page = alice.get(f"/music/journeys/{journey.pk}/").content.decode()
    assert "rough day" not in page and "Tired</strong> 3/5" in page and "Calm</strong> 4/5" in page
    assert "0.15 closer" in page


@pytest.mark.django_db
def test_check_in_after_needs_music_to_have_been_played(user):
    row = journey_create(user=user, plan=_plan(), params={"engine": "offline"})
    with pytest.raises(ValidationError, match="once the journey has music"):
        checkin_set(user=user, journey=row, moment="after", mood="calm", intensity=3)
    client = Client()
    client.force_login(user)
    response = client.post(f"/music/journeys/{row.pk}/checkin/", {"before-moment": "before", "before-mood": "sad",
                                                                   "before-intensity": "4", "before-note": "tense"})
    assert response.status_code == 302
    assert row.checkins.get().note == "tense"


@pytest.mark.django_db
def test_plan_page_shows_the_plan_lets_it_be_edited_then_renders(user, settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    client = Client()
    client.force_login(user)
    assert client.get("/music/journeys/new/").status_code == 200
    start = {"emotion": "fear", "intensity": "4", "target": "sleep", "minutes": "3", "sections": "3", "engine": "offline",
             "seed": "4"}
    page = client.post("/music/journeys/new/", {**start, "action": "plan"})
    assert page.status_code == 200 and not Journey.objects.exists()  # shown first, nothing rendered yet
    html = page.content.decode()
    assert html.count('class="section-row"') == 3 and 'name="s1-bpm"' in html
    plan = page.context["plan"]
    fields = {f"s{i}-{k}": (", ".join(v) if isinstance(v, list) else v) for i, s in enumerate(plan["sections"])
              for k, v in s.items() if k in ("seconds", "bpm", "key", "mode", "instruments", "dynamics", "genre")}
    bad = client.post("/music/journeys/new/", {**start, **fields, "s1-seconds": "5", "action": "render",
                                              "plan": json.dumps(plan), "plan_path": "template"})
    assert bad.status_code == 400 and "at least 20" in bad.content.decode() and not Journey.objects.exists()
    assert 'name="s1-seconds" value="5"' in bad.content.decode()  # the edit is shown again to be corrected
    fields["s2-bpm"] = str(plan["sections"][2]["bpm"] + 4)
    fields["s0-instruments"] = "cello, warm pads"
    done = client.post("/music/journeys/new/", {**start, **fields, "action": "render", "plan": json.dumps(plan),
                                               "plan_path": "template"})
    journey = Journey.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/music/journeys/{journey.pk}/"
    assert journey.status == "queued" and journey.sections[2]["bpm"] == plan["sections"][2]["bpm"] + 4
    assert journey.sections[0]["instruments"] == ["cello", "warm pads"] and journey.target == "sleep"
    # how the user said they feel when asking is the journey's "before" check-in
    before = journey.checkins.get()
    assert (before.moment, before.mood, before.intensity) == ("before", "fear", 4)
    assert "Anxious</strong> 4/5" in client.get(f"/music/journeys/{journey.pk}/").content.decode()


@pytest.mark.django_db
def test_the_journey_agent_rewords_sections_or_falls_back(user, fake_llm):
    from music.agents import agent_journey

    plan = _plan()
    words = [{"genre": "neo-classical", "mood": "tender", "instruments": ["cello"]},
             {"genre": "ambient", "mood": "softening", "instruments": ["cello", "pads"]},
             {"genre": "ambient", "mood": "calm", "instruments": ["warm pads", "harp"]}]
    fake_llm.script = [{"content": json.dumps({"sections": words})}]
    written = agent_journey(plan=plan, preferences={})
    assert written["path"] == "llm" and [s["genre"] for s in written["plan"]["sections"]] == [w["genre"] for w in words]
    assert [s["bpm"] for s in written["plan"]["sections"]] == [s["bpm"] for s in plan["sections"]]
    fake_llm.script = [{"content": json.dumps({"sections": words[:2]})}]
    written = agent_journey(plan=plan, preferences={})
    assert written["path"] == "template" and written["plan"] == plan and "expected 3 sections" in written["notes"][0]


def test_run_journey_api_and_command(tmp_path):
    result = run_journey(emotion="happy", target="sleep", minutes=2, sections=3, params={"engine": "offline", "seed": 5},
                         output_dir=tmp_path)
    assert result["journey_id"] is None and result["markers"] == [0.0, 40.0, 80.0] and result["duration"] == 120.0
    assert abs(sf.info(result["outputs"]["wav"]).frames - 120 * SR) <= 1
    out = io.StringIO()
    call_command("run_journey", "--emotion", "sad", "--target", "uplifted", "--sections", "4", "--plan-only", stdout=out)
    plan = json.loads(out.getvalue())
    assert len(plan["sections"]) == 4 and plan["target"] == "uplifted"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    out = io.StringIO()
    call_command("run_journey", "--plan", str(plan_file), "--engine", "offline", "--seed", "1", "--json",
                 "--output-dir", str(tmp_path), stdout=out)
    ran = json.loads(out.getvalue())
    assert ran["plan"] == plan and Path(ran["outputs"]["wav"]).exists()
    with pytest.raises(CommandError, match="at least 3"):
        call_command("run_journey", "--emotion", "angry", "--target", "sleep", "--sections", "2", "--plan-only",
                     stdout=io.StringIO())
    plan["sections"][0]["seconds"] = 1
    plan_file.write_text(json.dumps(plan))
    with pytest.raises(CommandError, match=r"add up to|at least 20"):
        call_command("run_journey", "--plan", str(plan_file), stdout=io.StringIO())


@pytest.mark.django_db
def test_journey_rating_nudges_taste_and_the_mood_page_is_per_user(user, other_user):
    from accounts.services import preferences_for

    result = run_journey(user=user, emotion="sad", target="uplifted", minutes=2, sections=3,
                         params={"engine": "offline", "seed": 4})
    journey = Journey.objects.get(pk=result["journey_id"])
    checkin_set(user=user, journey=journey, moment="before", mood="sad", intensity=4)
    checkin_set(user=user, journey=journey, moment="after", mood="happy", intensity=3)
    alice, bob = Client(), Client()
    alice.force_login(user)
    bob.force_login(other_user)
    url = f"/music/journeys/{journey.pk}/rate/"
    assert bob.post(url, {"stars": 5}, content_type="application/json").status_code == 404
    assert alice.post(url, {"stars": 9}, content_type="application/json").status_code == 400
    saved = alice.post(url, {"stars": 5, "liked": True}, content_type="application/json").json()
    journey.refresh_from_db()
    assert saved["stars"] == 5 and journey.stars == 5 and journey.liked is True
    assert journey.sections[-1]["instruments"][0] in preferences_for(user=user).instruments
    mine = alice.get("/music/mood/?period=all")
    assert [s["id"] for s in mine.context["data"]["sessions"]] == [journey.pk]
    assert mine.context["data"]["by_target"][0]["name"] == "Uplifted"
    theirs = bob.get("/music/mood/?period=all")
    assert theirs.context["data"]["sessions"] == [] and f"/music/journeys/{journey.pk}/" not in theirs.content.decode()
    assert alice.get("/music/mood/?period=bogus").status_code == 200  # an unknown period falls back to 30 days


@pytest.mark.django_db
def test_journey_pages_speak_chinese(alice_client):
    html = alice_client.get("/music/mood/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "心情历史" in html and "每段旅程的前后对比" in html
    html = alice_client.get("/music/journeys/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新的心情旅程" in html and "生成计划" in html
