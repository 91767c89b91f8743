"""The Python API and the generate_music command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from music.engines import engines_describe, engines_warmup
from music.models import MusicGeneration
from music.services import run_pipeline
from ops.models import Event

pytestmark = pytest.mark.django_db


def test_run_pipeline_returns_the_original_result_shape(user, tmp_path, settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    seen = []
    result = run_pipeline(user=user, params={"duration": 5, "seed": 9, "video": True}, override_emotion="fear",
                          preferences_override={"genres": ["classical"], "bpm_min": 50, "bpm_max": 70},
                          progress=lambda f, note="", **k: seen.append(f), output_dir=tmp_path)
    assert set(result) >= {"emotion", "prompt_initial", "prompt_final", "params", "outputs"}
    assert result["emotion"] == "fear" and result["path"] == "template"
    assert "classical" in result["prompt_final"]
    assert sf.info(result["outputs"]["wav"]).duration == pytest.approx(5.0, abs=0.01)
    assert Path(result["outputs"]["video"]).stat().st_size > 1000
    row = MusicGeneration.objects.get(pk=result["generation_id"])
    assert row.user == user and row.status == "succeeded" and row.audio
    assert seen == sorted(seen) and seen[0] < 0.1
    # Stored the way a job stores it (music.services.generation_store): the same files, every timing
    # with the engine's own, and the rule score's Event.
    assert row.audio.read() == Path(result["outputs"]["wav"]).read_bytes() and row.video and row.audio_preview
    assert {"agents", "render", "files", "total"} <= set(row.timings)
    assert any(key.startswith("engine_") for key in row.timings)
    event = Event.objects.get(kind="music.rule_score", subject_type="music.musicgeneration", subject_id=row.pk)
    assert event.data["score"] == row.score and row.score is not None


def test_manual_prompt_through_pipeline(tmp_path):
    result = run_pipeline(manual_prompt="bright bossa nova guitar, 100 BPM", params={"duration": 5, "seed": 1},
                          output_dir=tmp_path)
    assert result["path"] == "manual" and result["prompt_final"] == "bright bossa nova guitar, 100 BPM"
    assert result["params"]["engine"] == "offline" and result["generation_id"] is None


def test_generate_music_command(tmp_path):
    out = io.StringIO()
    call_command("generate_music", "--emotion", "sad", "--duration", "5", "--seed", "2", "--output-dir", str(tmp_path),
                 "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert Path(result["outputs"]["wav"]).exists() and result["params"]["seed"] == 2
    with pytest.raises(CommandError, match="top_p"):
        call_command("generate_music", "--emotion", "sad", "--top-p", "3", stdout=io.StringIO())


def test_engines_listing_and_warmup():
    rows = engines_describe()
    assert [r["name"] for r in rows] == ["music.offline", "music.musicgen", "music.audiocraft"]
    assert all(set(r) == {"name", "kind", "active", "path", "present", "size_bytes", "note"} for r in rows)
    assert rows[0]["active"] and rows[0]["present"]
    assert engines_warmup() == ["music.offline"]


def test_llm_path_is_recorded_on_the_generation(user, fake_llm):
    from music.services import generation_execute

    good = {"prompt": "warm ambient piano to feel safe, 62 BPM", "genre": "ambient", "mood": "warm", "goal": "safety",
            "instruments": ["piano"], "bpm": 62, "key": "C", "mode": "major", "energy": 0.2, "drums": False,
            "negative": "sudden hits"}
    fake_llm.script = [{"content": json.dumps(good)}, {"content": json.dumps({**good, "params": {"temperature": 0.7,
                                                                                             "cfg_coef": 5, "top_k": 100}})}]
    row = MusicGeneration.objects.create(user=user, emotion="fear", params={
        "engine": "offline", "duration": 5, "seed": 1, "top_k": 250, "top_p": 0, "temperature": 1, "cfg_coef": 3,
        "decoder": "default", "use_suggested": True})
    generation_execute(row, lambda *a, **k: None)
    row.refresh_from_db()
    assert row.prompt_path == "llm" and row.prompt_final == good["prompt"]
    assert row.params["temperature"] == 0.7 and row.params["top_k"] == 100  # the agent's suggestion was used
    assert row.agent_notes["merge"]["notes"] == ["no description to merge"]


def test_engine_checks(settings):
    from music.checks import music_engine_ready

    settings.MUSIC_ENGINE = "offline"
    assert music_engine_ready(None) == []
    settings.MUSIC_ENGINE, settings.MUSICGEN_MODEL = "musicgen", "/nowhere/model"
    assert [c.id for c in music_engine_ready(None)] == ["music.E002"]
    settings.MUSIC_ENGINE = "audiocraft"
    assert "music.E001" in [c.id for c in music_engine_ready(None)]


def test_audiocraft_warmup_loads_the_model_and_decoder(settings, monkeypatch):
    """Warm-up with MUSIC_ENGINE=audiocraft must load both models, not only report the name.

    audiocraft is not installable beside this torch, so a stand-in package with its two
    loader entry points takes its place; the code under test is emotune's warm-up.
    """
    import sys
    import types

    from emotune import engines

    loads = []
    package = types.ModuleType("audiocraft")
    models = types.ModuleType("audiocraft.models")
    models.MusicGen = type("MusicGen", (), {"get_pretrained": staticmethod(lambda name: loads.append(name) or "lm")})
    models.MultiBandDiffusion = type("MultiBandDiffusion", (), {
        "get_mbd_musicgen": staticmethod(lambda: loads.append("mbd") or "mbd")})
    package.models = models
    monkeypatch.setitem(sys.modules, "audiocraft", package)
    monkeypatch.setitem(sys.modules, "audiocraft.models", models)
    settings.MUSIC_ENGINE = "audiocraft"
    settings.MUSICGEN_MODEL = "facebook/musicgen-small"
    try:
        assert engines_warmup() == ["music.audiocraft"]
        assert loads == ["facebook/musicgen-small", "mbd"]
        assert "audiocraft:facebook/musicgen-small" in engines.loaded_names()
    finally:
        engines._cache.pop("audiocraft:facebook/musicgen-small", None)


def test_run_pipeline_reads_the_emotion_of_a_photo(tmp_path):
    """run_pipeline(media_path=...) reads the face with the emotion app's pipeline; a photo
    with no face is a clear error, not a silent 'neutral'."""
    from emotion.services import emotion_from_file
    from emotune.jobs import JobError
    from music.services import run_pipeline
    from tests.emotion.media import astronaut_rgb, jpeg_bytes, no_face_rgb

    face = tmp_path / "face.jpg"
    face.write_bytes(jpeg_bytes(astronaut_rgb()))
    expected = emotion_from_file(str(face))
    result = run_pipeline(media_path=str(face), params={"duration": 5, "seed": 1}, output_dir=tmp_path)
    assert result["emotion"] == expected and Path(result["outputs"]["wav"]).exists()
    blank = tmp_path / "blank.jpg"
    blank.write_bytes(jpeg_bytes(no_face_rgb()))
    with pytest.raises(JobError, match="No face"):
        run_pipeline(media_path=str(blank), params={"duration": 5})
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(JobError, match="not a photo or video"):
        run_pipeline(media_path=str(text), params={"duration": 5})
