"""Each resource of /api/v1/ through real HTTP: a daphne serving the test database, real rqworkers
for the jobs, httpx as the client with a personal token."""

from __future__ import annotations

import io
import wave

import pytest

from emotion.models import EmotionReading
from music.models import Feedback, MusicGeneration
from tests.api.conftest import daphne_server, stop
from tests.emotion.media import astronaut_rgb, jpeg_bytes
from tests.helpers import run_worker_burst
from tests.hostile import tone_wav
from voicechat.models import Conversation, Speaker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    proc, srv = daphne_server(tmp_path_factory)
    yield srv
    stop(proc)


@pytest.fixture
def alice(make_user, token_for, server):
    user = make_user("alice")
    with server.client(token_for(user)) as http:
        yield user, http


@pytest.fixture
def bob(make_user, token_for, server):
    user = make_user("bob")
    with server.client(token_for(user)) as http:
        yield user, http


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    return error


def test_readings_upload_status_result_pagination(alice, bob):
    _user, http = alice
    made = http.post("/api/v1/readings", files={"media": ("me.jpg", jpeg_bytes(astronaut_rgb()), "image/jpeg")})
    assert made.status_code == 201, made.text
    reading = made.json()
    assert reading["status"] == "queued" and reading["source"] == "image" and reading["media_url"] == f"/api/v1/readings/{reading['id']}/media"
    worker = run_worker_burst("gpu", env={"EMOTION_CLASSIFIER": "pyemotion"}, timeout=300)
    assert worker.returncode == 0, worker.stderr[-3000:]
    done = http.get(f"/api/v1/readings/{reading['id']}").json()
    assert done["status"] == "succeeded" and done["emotion"] == "happy" and done["face_found"] is True
    assert abs(sum(done["scores"].values()) - 1) < 0.01 and done["progress"] == 1.0
    photo = http.get(done["media_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg" and photo.content[:2] == b"\xff\xd8"
    listing = http.get("/api/v1/readings").json()
    assert listing["count"] == 1 and [r["id"] for r in listing["items"]] == [reading["id"]]
    assert http.get("/api/v1/readings", params={"emotion": "sad"}).json()["count"] == 0
    assert http.get("/api/v1/readings", params={"page": 2}).json()["items"] == []
    bad_filter = error_of(http.get("/api/v1/readings", params={"emotion": "bored"}), 400)
    assert "emotion" in bad_filter["fields"]
    # Not a photo: refused with the field named, nothing stored.
    refused = error_of(http.post("/api/v1/readings", files={"media": ("me.jpg", b"not an image" * 10, "image/jpeg")}), 400)
    assert list(refused["fields"]) == ["media"] and len(refused["fields"]["media"][0]) > 15
    missing = error_of(http.post("/api/v1/readings", data={"webcam": "true"}), 400)
    assert list(missing["fields"]) == ["media"]
    assert EmotionReading.objects.count() == 1
    # Another user's reading does not exist for them.
    assert error_of(bob[1].get(f"/api/v1/readings/{reading['id']}"), 404)["code"] == "not_found"
    assert bob[1].get(done["media_url"]).status_code == 404
    assert bob[1].get("/api/v1/readings").json()["count"] == 0


def test_generations_create_progress_files_feedback(alice, bob):
    user, http = alice
    nothing = error_of(http.post("/api/v1/generations", json={}), 400)
    assert "emotion" in nothing["message"]
    bad = error_of(http.post("/api/v1/generations", json={"emotion": "sad", "params": {"duration": 1, "top_k": "x"}}), 400)
    assert set(bad["fields"]) == {"params.top_k"} or set(bad["fields"]) == {"duration", "top_k"}, bad
    out_of_range = error_of(http.post("/api/v1/generations", json={"emotion": "sad", "params": {"duration": 1}}), 400)
    assert list(out_of_range["fields"]) == ["duration"] and "between 5.0 and 120.0" in out_of_range["fields"]["duration"][0]
    assert error_of(http.post("/api/v1/generations", json={"emotion": "bored"}), 400)["fields"].keys() == {"emotion"}
    assert MusicGeneration.objects.count() == 0

    made = http.post("/api/v1/generations", json={
        "emotion": "sad", "description": "rain at night",
        "params": {"engine": "offline", "duration": 5, "seed": 7}})
    assert made.status_code == 201, made.text
    generation = made.json()
    assert generation["status"] == "queued" and generation["queue_position"] == 1 and generation["files"] == {}
    assert generation["params"]["seed"] == 7 and generation["params"]["duration"] == 5
    # Not finished: cannot be rated yet.
    assert error_of(http.put(f"/api/v1/generations/{generation['id']}/feedback", json={"stars": 5}), 400)
    worker = run_worker_burst("gpu", "default", timeout=300)
    assert worker.returncode == 0, worker.stderr[-3000:]
    done = http.get(f"/api/v1/generations/{generation['id']}").json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["duration"] == pytest.approx(5, abs=0.5)
    assert set(done["files"]) == {"audio", "audio_preview"} and done["prompt_final"]
    audio = http.get(done["files"]["audio"])
    assert audio.status_code == 200 and audio.headers["content-type"] in ("audio/wav", "audio/x-wav")
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(5, abs=0.5)
    assert http.get(done["files"]["audio_preview"]).content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert error_of(http.get(f"/api/v1/generations/{generation['id']}/files/video"), 404)
    assert error_of(http.get(f"/api/v1/generations/{generation['id']}/files/other"), 400)["fields"].keys() == {"kind"}

    assert error_of(http.get(f"/api/v1/generations/{generation['id']}/feedback"), 404)
    assert error_of(http.put(f"/api/v1/generations/{generation['id']}/feedback", json={"stars": 9}), 400)["fields"].keys() == {"stars"}
    rated = http.put(f"/api/v1/generations/{generation['id']}/feedback", json={"stars": 5, "liked": True, "comment": "lovely"})
    assert rated.json() == {"stars": 5, "liked": True, "comment": "lovely"}
    assert http.get(f"/api/v1/generations/{generation['id']}/feedback").json()["stars"] == 5
    assert Feedback.objects.get().stars == 5
    listing = http.get("/api/v1/generations", params={"status": "succeeded"}).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == generation["id"]

    # Owner only: every route answers 404 to another user, and changes nothing.
    other = bob[1]
    for method, path, body in [("get", "", None), ("put", "/feedback", {"stars": 1}), ("get", "/feedback", None),
                               ("get", "/files/audio", None), ("post", "/cancel", None)]:
        response = other.request(method.upper(), f"/api/v1/generations/{generation['id']}{path}", json=body)
        assert error_of(response, 404)["code"] == "not_found"
    assert Feedback.objects.get().stars == 5
    # From one of the user's readings: its emotion is the start; an unfinished one is refused by name.
    mine = EmotionReading.objects.create(user=user, source="image", media="readings/m.jpg", status="succeeded",
                                         emotion="angry")
    from_reading = http.post("/api/v1/generations", json={"reading_id": mine.pk, "params": {"engine": "offline"}})
    assert from_reading.status_code == 201 and from_reading.json()["emotion"] == "angry"
    assert from_reading.json()["reading_id"] == mine.pk
    pending = EmotionReading.objects.create(user=user, source="image", media="readings/p.jpg")
    assert error_of(http.post("/api/v1/generations", json={"reading_id": pending.pk}), 400)["fields"].keys() == {"reading_id"}
    english_only = error_of(http.post("/api/v1/generations", json={"manual_prompt": "安静的钢琴"}), 400)
    assert english_only["fields"].keys() == {"manual_prompt"}
    # A reading of another user cannot be the start of a generation.
    theirs = EmotionReading.objects.create(user=bob[0], source="image", media="readings/x.jpg", status="succeeded",
                                           emotion="happy")
    assert error_of(http.post("/api/v1/generations", json={"reading_id": theirs.pk}), 404)
    assert MusicGeneration.objects.count() == 2


def test_conversations_list_create_rename_clear_delete(alice, bob):
    _user, http = alice
    made = http.post("/api/v1/conversations", json={"title": "Evening"})
    assert made.status_code == 201
    pk = made.json()["id"]
    http.post("/api/v1/conversations", json={})
    listing = http.get("/api/v1/conversations", params={"page_size": 1}).json()
    assert listing["count"] == 2 and len(listing["items"]) == 1
    assert http.patch(f"/api/v1/conversations/{pk}", json={"title": "Night"}).json()["title"] == "Night"
    assert error_of(http.patch(f"/api/v1/conversations/{pk}", json={"title": ""}), 400)["fields"].keys() == {"title"}
    assert error_of(http.patch(f"/api/v1/conversations/{pk}", json={"title": "x" * 121}), 400)["fields"].keys() == {"title"}
    conversation = Conversation.objects.get(pk=pk)
    from voicechat.services import message_add

    message_add(conversation=conversation, role="user", text="hello")
    message_add(conversation=conversation, role="assistant", text="hi there")
    messages = http.get(f"/api/v1/conversations/{pk}/messages").json()
    assert [m["text"] for m in messages["items"]] == ["hello", "hi there"] and messages["count"] == 2
    for method, path, body in [("GET", "", None), ("PATCH", "", {"title": "mine"}), ("GET", "/messages", None),
                               ("POST", "/clear", None), ("DELETE", "", None), ("POST", "/messages", {"text": "hi"})]:
        assert error_of(bob[1].request(method, f"/api/v1/conversations/{pk}{path}", json=body), 404)
    assert conversation.messages.count() == 2 and Conversation.objects.get(pk=pk).title == "Night"
    assert http.post(f"/api/v1/conversations/{pk}/clear").status_code == 200
    assert http.get(f"/api/v1/conversations/{pk}/messages").json()["count"] == 0
    assert http.delete(f"/api/v1/conversations/{pk}").status_code == 204
    assert error_of(http.get(f"/api/v1/conversations/{pk}"), 404)
    assert http.get("/api/v1/conversations").json()["count"] == 1


def test_speakers_upload_activate_delete(alice, bob):
    user, http = alice
    clip = tone_wav(4.0)
    fields = {"name": "Calm", "transcript": "hello there", "consent": "true"}
    first = http.post("/api/v1/speakers", data=fields, files={"reference": ("me.wav", clip, "audio/wav")})
    assert first.status_code == 201, first.text
    assert first.json()["active"] is True and first.json()["reference_seconds"] == pytest.approx(4, abs=0.1)
    second = http.post("/api/v1/speakers", data={**fields, "name": "Bright"}, files={"reference": ("b.wav", clip, "audio/wav")})
    assert second.json()["active"] is False
    duplicate = error_of(http.post("/api/v1/speakers", data=fields, files={"reference": ("c.wav", clip, "audio/wav")}), 400)
    assert duplicate["fields"].keys() == {"name"}
    no_consent = error_of(http.post("/api/v1/speakers", data={**fields, "name": "X", "consent": "false"},
                                    files={"reference": ("c.wav", clip, "audio/wav")}), 400)
    assert no_consent["fields"].keys() == {"consent"}
    short = error_of(http.post("/api/v1/speakers", data={**fields, "name": "Y"},
                               files={"reference": ("c.wav", tone_wav(1.0), "audio/wav")}), 400)
    assert short["fields"].keys() == {"reference"} and "between 3 and 30 seconds" in short["fields"]["reference"][0]
    assert Speaker.objects.count() == 2
    pk = second.json()["id"]
    assert error_of(bob[1].post(f"/api/v1/speakers/{pk}/activate"), 404)
    assert error_of(bob[1].delete(f"/api/v1/speakers/{pk}"), 404)
    assert bob[1].get("/api/v1/speakers").json() == []
    assert http.post(f"/api/v1/speakers/{pk}/activate").json()["active"] is True
    assert [s["active"] for s in http.get("/api/v1/speakers").json()] == [False, True]
    user.preferences.refresh_from_db()
    assert user.preferences.active_speaker_id == pk
    assert http.get("/api/v1/preferences").json()["active_speaker_id"] == pk
    assert http.delete(f"/api/v1/speakers/{pk}").status_code == 204
    assert [s["name"] for s in http.get("/api/v1/speakers").json()] == ["Calm"]


def test_preferences_read_and_change(alice):
    user, http = alice
    prefs = http.get("/api/v1/preferences").json()
    assert prefs["bpm_min"] == 60 and prefs["favourite_genres"] == []
    changed = http.patch("/api/v1/preferences", json={"favourite_genres": ["lo-fi", "ambient"], "bpm_max": 90})
    assert changed.status_code == 200, changed.text
    assert changed.json()["favourite_genres"] == ["lo-fi", "ambient"] and changed.json()["bpm_max"] == 90
    assert changed.json()["bpm_min"] == 60  # left out: kept
    for body, field in [({"bpm_min": 300}, "bpm_min"), ({"bpm_min": 95}, "bpm_max"), ({"ui_language": "xx"}, "ui_language"),
                        ({"bpm_max": "fast"}, "bpm_max")]:
        assert field in error_of(http.patch("/api/v1/preferences", json=body), 400)["fields"], body
    user.preferences.refresh_from_db()
    assert user.preferences.bpm_max == 90 and user.preferences.favourite_genres == ["lo-fi", "ambient"]


def test_rate_limits_are_shared_with_the_site(alice, settings, server):
    """The API counts uploads in the same window as the pages: uploads made on the site count here."""
    from django.core.cache import cache

    from emotune.ratelimit import rate_limit_hit

    user, http = alice
    limit = settings.RATE_LIMITS["upload"][0]
    for _ in range(limit):  # as many uploads as the site allows, counted where the site counts them
        rate_limit_hit("upload", user.pk)
    refused = http.post("/api/v1/readings", files={"media": ("me.jpg", jpeg_bytes(astronaut_rgb()), "image/jpeg")})
    error = error_of(refused, 429)
    assert error["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    assert EmotionReading.objects.count() == 0
    import time

    window = settings.RATE_LIMITS["upload"][1]
    cache.delete(f"rl:upload:{user.pk}:{int(time.time()) // window}")


def test_speech_with_no_speech_worker_is_a_clear_error(alice):
    """Production topology with no gpu worker alive: the request ends with a 503, not a hang."""
    import time

    _user, http = alice
    started = time.monotonic()
    response = http.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "Hello there."})
    error = error_of(response, 503)
    assert error["code"] == "tts_unavailable" and "no live worker" in error["message"]
    assert time.monotonic() - started < 30
