"""Studio form, history, ratings, downloads and ownership."""

from __future__ import annotations

import pytest

from accounts.services import preferences_for
from music.models import Feedback, MusicGeneration
from music.services import generation_execute

pytestmark = pytest.mark.django_db


def _done(user, **extra) -> MusicGeneration:
    row = MusicGeneration.objects.create(user=user, emotion="sad", params={"engine": "offline", "duration": 5, "seed": 1,
                                                                             "top_k": 250, "top_p": 0, "temperature": 1,
                                                                             "cfg_coef": 3, "decoder": "default"},
                                         **extra)
    generation_execute(row, lambda *a, **k: None)
    row.status = "succeeded"
    row.save(update_fields=["status"])
    return row


def test_studio_post_creates_a_queued_generation(alice_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post("/music/", {
            "description": "gentle guitar", "engine": "offline", "duration": "10", "top_k": "250", "top_p": "0",
            "temperature": "1", "cfg_coef": "3", "decoder": "default", "use_suggested": "on",
        })
    row = MusicGeneration.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == f"/music/{row.pk}/"
    assert row.status == "queued" and row.params["duration"] == 10.0 and row.params["use_suggested"] is True
    assert len(callbacks) == 1  # the job is sent after commit


def test_studio_shows_field_errors(alice_client, user):
    response = alice_client.post("/music/", {"description": "x", "engine": "offline", "duration": "500", "top_k": "250",
                                             "top_p": "0", "temperature": "1", "cfg_coef": "3", "decoder": "default"})
    assert response.status_code == 400
    assert "duration must be between 5.0 and 120.0" in response.content.decode()
    assert not MusicGeneration.objects.exists()
    response = alice_client.post("/music/", {"engine": "offline", "duration": "10", "top_k": "250", "top_p": "0",
                                             "temperature": "1", "cfg_coef": "3", "decoder": "default"})
    assert "Choose an emotion" in response.content.decode()


def test_manual_prompt_skips_agents(user):
    row = MusicGeneration.objects.create(user=user, prompt_final="calm harp and strings, 66 BPM, D major",
                                         prompt_path="manual", params={"engine": "offline", "duration": 5, "seed": 2})
    generation_execute(row, lambda *a, **k: None)
    assert row.prompt_path == "manual" and row.prompt_final == "calm harp and strings, 66 BPM, D major"
    assert row.brief["bpm"] == 66 and "harp" in row.brief["instruments"]


def test_rating_saved_and_nudges_preferences(alice_client, user):
    row = _done(user)
    prefs = preferences_for(user=user)
    prefs.bpm_min, prefs.bpm_max = 90, 120
    prefs.save()
    response = alice_client.post(f"/music/{row.pk}/feedback/", {"stars": 5}, content_type="application/json")
    assert response.status_code == 200 and response.json()["stars"] == 5
    assert Feedback.objects.get(generation=row).stars == 5
    prefs.refresh_from_db()
    genre = row.brief["genre"]
    assert prefs.favourite_genres[0] == genre and prefs.instruments[0] == row.brief["instruments"][0]
    assert prefs.bpm_min < 90  # moved towards the piece's slower tempo
    alice_client.post(f"/music/{row.pk}/feedback/", {"stars": 1, "liked": False}, content_type="application/json")
    prefs.refresh_from_db()
    assert genre not in prefs.favourite_genres and genre in prefs.negative_prompt
    assert Feedback.objects.filter(generation=row).count() == 1
    bad = alice_client.post(f"/music/{row.pk}/feedback/", {"stars": 9}, content_type="application/json")
    assert bad.status_code == 400


def test_downloads_and_ownership(alice_client, user, other_user, client):
    row = _done(user)
    wav = alice_client.get(f"/music/{row.pk}/file/audio/?download=1")
    assert (wav.status_code == 200 and wav["Content-Type"] == "audio/x-wav") or wav["Content-Type"] == "audio/wav"
    assert "attachment" in wav["Content-Disposition"]
    assert b"RIFF" == b"".join(wav.streaming_content)[:4]
    page = alice_client.get(f"/music/{row.pk}/").content.decode()
    assert "Offline arranger/synth" in page and "Download WAV" in page
    assert "<th>tempo</th>" in page and "<th>measured_bpm</th>" not in page
    client.force_login(other_user)
    for url in (f"/music/{row.pk}/", f"/music/{row.pk}/file/audio/", f"/music/{row.pk}/status/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/music/{row.pk}/feedback/", {"stars": 5}).status_code == 404


def test_history_filters_and_pages(alice_client, user, other_user):
    for i in range(23):
        MusicGeneration.objects.create(user=user, emotion="sad" if i % 2 else "happy", status="succeeded",
                                       engine="offline", prompt_final=f"piece number {i}")
    MusicGeneration.objects.create(user=other_user, emotion="sad", prompt_final="not alice's")
    page1 = alice_client.get("/music/history/").content.decode()
    assert "Page 1 of 2" in page1 and "not alice" not in page1
    sad = alice_client.get("/music/history/?emotion=sad").content.decode()
    assert sad.count('class="pill succeeded"') == 11
    found = alice_client.get("/music/history/?q=number 7").content.decode()
    assert "piece number 7" in found and "piece number 8" not in found


def test_queue_position_and_cancel(alice_client, user, other_user, django_capture_on_commit_callbacks):
    from music.selectors import generation_queue_position

    first = MusicGeneration.objects.create(user=other_user, description="a", status="queued")
    mine = MusicGeneration.objects.create(user=user, description="b", status="queued")
    assert generation_queue_position(generation=first) == 1
    assert generation_queue_position(generation=mine) == 2  # other users' jobs share the gpu queue
    assert alice_client.get(f"/music/{mine.pk}/status/").json()["queue_position"] == 2
    response = alice_client.post(f"/music/{mine.pk}/cancel/")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "cancelled" and generation_queue_position(generation=mine) is None
    assert generation_queue_position(generation=first) == 1
