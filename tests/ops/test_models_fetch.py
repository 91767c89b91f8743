"""``manage.py emotune_models fetch`` against a loopback hub that answers like huggingface.co."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from emotune import models_fetch
from tests.helpers import ROOT
from tests.hf_server import FakeHub

WEIGHTS = bytes(range(256)) * 64  # 16 KiB: an "LFS" file, with a sha256 on the hub
STATE = hashlib.sha256(b"state").digest() * 200  # 6.4 KB


def _vosk_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("vosk-model-small-en-us-0.15/conf/model.conf", "--min-active=200\n")
        bundle.writestr("vosk-model-small-en-us-0.15/am/final.mdl", WEIGHTS)
        bundle.writestr("vosk-model-small-en-us-0.15/README", "small English model\n")
    return buffer.getvalue()


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub().start()
    server.add("facebook/musicgen-small", {
        "config.json": b'{"model_type": "musicgen"}',
        "model.safetensors": WEIGHTS,
        "state_dict.bin": STATE,
        "README.md": b"# not wanted",
    })
    server.add("rhasspy/vosk-models", {"en/vosk-model-small-en-us-0.15.zip": _vosk_zip(), "zh/other.zip": b"x"})
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    yield server
    server.stop()


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MODELS_DIR = tmp_path / "models"
    return tmp_path


def fetch(*names, **options) -> str:
    out = StringIO()
    call_command("emotune_models", "fetch", *names, stdout=out, stderr=out, **options)
    return out.getvalue()


def test_fetch_lands_the_wanted_files_with_their_sizes(hub, data_dir):
    out = fetch("musicgen-small")
    folder = data_dir / "models" / "musicgen-small"
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert (folder / "state_dict.bin").read_bytes() == STATE
    assert (folder / "config.json").read_bytes() == b'{"model_type": "musicgen"}'
    assert not (folder / "README.md").exists()  # only the files the engine reads
    assert "musicgen-small: ok" in out
    assert sorted(r[1] for r in hub.requests if r[0] == "GET" and "/api/" not in r[1]) == [
        "config.json", "model.safetensors", "state_dict.bin"]
    # A second run finds everything and asks the hub for nothing.
    before = len(hub.requests)
    assert "present" in fetch("musicgen-small")
    assert len(hub.requests) == before


def test_fetch_unpacks_vosk_and_settings_and_listing_pick_it_up(hub, data_dir):
    fetch("vosk-model-small-en-us-0.15")
    folder = data_dir / "models" / "vosk-model-small-en-us-0.15"
    assert (folder / "conf" / "model.conf").read_text() == "--min-active=200\n"
    assert (folder / "am" / "final.mdl").read_bytes() == WEIGHTS
    assert not (folder / "en").exists() and not (folder / ".partial").exists()  # the zip is not kept
    fetch("musicgen-small")
    face = data_dir / "models" / "resemotenet" / "resemotenet.pth"  # placed by hand (no hub copy)
    face.parent.mkdir(parents=True)
    face.write_bytes(b"weights")
    env = {k: v for k, v in os.environ.items() if k not in ("VOSK_MODEL_DIR", "MUSICGEN_MODEL", "FACE_CKPT")}
    env.update(DEBUG="1", EMOTUNE_DATA_DIR=str(data_dir), EMOTUNE_MODELS_DIR=str(data_dir / "models"), VOICE_ASR="vosk",
               MUSIC_ENGINE="musicgen")
    result = subprocess.run([sys.executable, "manage.py", "emotune_models", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["asr:vosk"]["present"] and rows["asr:vosk"]["active"]
    assert rows["asr:vosk"]["path"] == str(folder)
    assert rows["music.musicgen"]["present"]
    assert rows["music.musicgen"]["path"] == str(data_dir / "models" / "musicgen-small")
    assert rows["resemotenet"]["present"] and rows["resemotenet"]["path"] == str(face)


def test_a_truncated_file_is_fetched_again(hub, data_dir):
    fetch("musicgen-small")
    weights = data_dir / "models" / "musicgen-small" / "model.safetensors"
    weights.write_bytes(WEIGHTS[:1000])
    (data_dir / "models" / "musicgen-small" / "config.json").unlink()  # so the model is not "present"
    out = fetch("musicgen-small")
    assert "model.safetensors is 1000 bytes, expected 16384; fetching it again" in out
    assert weights.read_bytes() == WEIGHTS


def test_verify_hashes_files_already_there(hub, data_dir):
    fetch("musicgen-small")
    weights = data_dir / "models" / "musicgen-small" / "model.safetensors"
    weights.write_bytes(b"\xff" + WEIGHTS[1:])  # same size: only a hash tells
    assert "present" in fetch("musicgen-small")
    out = fetch("musicgen-small", verify=True)
    assert "model.safetensors is sha256" in out and "fetching it again" in out
    assert weights.read_bytes() == WEIGHTS
    assert len(hub.gets("model.safetensors")) == 2 and len(hub.gets("config.json")) == 1


def test_a_corrupt_download_is_fetched_again_then_reported(hub, data_dir):
    hub.corrupt["model.safetensors"] = 1
    out = fetch("musicgen-small")
    assert "model.safetensors is sha256" in out and "downloading it again" in out
    assert (data_dir / "models" / "musicgen-small" / "model.safetensors").read_bytes() == WEIGHTS
    assert len(hub.gets("model.safetensors")) == 2

    hub.corrupt["model.safetensors"] = 5
    (data_dir / "models" / "musicgen-small" / "model.safetensors").unlink()
    (data_dir / "models" / "musicgen-small" / "config.json").unlink()
    with pytest.raises(CommandError, match="1 of 1 model"):
        fetch("musicgen-small")
    assert not (data_dir / "models" / "musicgen-small" / "model.safetensors").exists()  # no bad file left


def test_an_interrupted_download_resumes_where_it_stopped(hub, data_dir):
    # A run killed halfway leaves its .part file: the next run asks for the rest only.
    folder = data_dir / "models" / "musicgen-small"
    partial = models_fetch.partial_path(folder, "model.safetensors", hashlib.sha256(WEIGHTS).hexdigest())
    partial.parent.mkdir(parents=True)
    partial.write_bytes(WEIGHTS[:6000])
    # And a connection that drops mid-file in this run is resumed too.
    hub.cut["state_dict.bin"] = 2000
    fetch("musicgen-small")
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert [(r[2], r[3]) for r in hub.gets("model.safetensors")] == [("bytes=6000-", len(WEIGHTS) - 6000)]
    assert (folder / "state_dict.bin").read_bytes() == STATE
    assert not partial.exists()
    state_gets = hub.gets("state_dict.bin")
    assert [r[3] for r in state_gets] == [2000, len(STATE) - 2000] and state_gets[1][2] == "bytes=2000-"


def test_a_run_that_fails_halfway_leaves_no_marker_and_the_next_run_completes(hub, data_dir):
    hub.fail["model.safetensors"] = 1
    with pytest.raises(CommandError):
        fetch("musicgen-small")
    folder = data_dir / "models" / "musicgen-small"
    assert not (folder / "config.json").exists()  # the marker comes last: settings do not use this folder yet
    assert not models_fetch.model_present(models_fetch.REGISTRY["musicgen-small"])
    assert "musicgen-small: ok" in fetch("musicgen-small")
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS and (folder / "config.json").is_file()


def test_not_enough_disk_is_a_clear_error(hub, data_dir, monkeypatch):
    monkeypatch.setattr(models_fetch, "disk_free", lambda path: 10_000)
    out = StringIO()
    with pytest.raises(CommandError, match="not fetched: musicgen-small"):
        call_command("emotune_models", "fetch", "musicgen-small", stdout=out, stderr=out)
    assert "not enough disk for musicgen-small: 22.8 KB to download, 10.0 KB free at" in out.getvalue()
    assert not [r for r in hub.requests if r[0] == "GET" and "/api/" not in r[1]]


def test_unreachable_hub_is_one_line_and_a_failing_exit(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DEBUG": "1", "EMOTUNE_DATA_DIR": str(tmp_path), "EMOTUNE_MODELS_DIR": str(tmp_path / "models"),
           "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    result = subprocess.run([sys.executable, "manage.py", "emotune_models", "fetch", "vosk-model-small-en-us-0.15"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"vosk-model-small-en-us-0.15: cannot reach the model hub at http://127.0.0.1:{port}")
    assert "HF_ENDPOINT" in lines[0] and lines[-1].startswith("CommandError: 1 of 1 model(s) not fetched")


def test_modelscope_source_lands_checks_and_resumes_the_same_way(hub, data_dir, monkeypatch):
    hub.add("iic/CosyVoice2-0.5B", {"cosyvoice2.yaml": b"sample_rate: 24000\n", "llm.pt": WEIGHTS,
                                    "CosyVoice-BlankEN/config.json": b"{}", "asset/zero_shot_prompt.wav": b"RIFF"})
    monkeypatch.setenv("MODELSCOPE_DOMAIN", hub.url)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # Hugging Face is not asked
    folder = data_dir / "models" / "CosyVoice2-0.5B"
    partial = models_fetch.partial_path(folder, "llm.pt", hashlib.sha256(WEIGHTS).hexdigest())
    partial.parent.mkdir(parents=True)
    partial.write_bytes(WEIGHTS[:5000])
    hub.corrupt["cosyvoice2.yaml"] = 1
    out = fetch("CosyVoice2-0.5B", source="modelscope")
    assert (folder / "llm.pt").read_bytes() == WEIGHTS
    assert (folder / "cosyvoice2.yaml").read_bytes() == b"sample_rate: 24000\n"
    assert (folder / "CosyVoice-BlankEN" / "config.json").read_bytes() == b"{}"
    assert not (folder / "asset").exists()  # excluded in the table
    assert [(r[2], r[3]) for r in hub.gets("llm.pt")] == [("bytes=5000-", len(WEIGHTS) - 5000)]
    assert len(hub.gets("cosyvoice2.yaml")) == 2 and "cosyvoice2.yaml is sha256" in out
    assert all("/api/v1/models/iic/CosyVoice2-0.5B/" in r[1] for r in hub.requests if r[1].startswith("/api"))


def test_unreachable_modelscope_is_one_line(data_dir, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_DOMAIN", "http://127.0.0.1:9")
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 model"):
        call_command("emotune_models", "fetch", "CosyVoice2-0.5B", "--source", "modelscope", stdout=out, stderr=out)
    assert out.getvalue().startswith("CosyVoice2-0.5B: cannot reach ModelScope at http://127.0.0.1:9 (")
    assert len(out.getvalue().strip().splitlines()) == 1


def test_unknown_names_and_sources_without_a_repo_are_reported(hub, data_dir):
    with pytest.raises(CommandError, match="unknown model nope"):
        fetch("nope")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("emotune_models", "fetch", "vosk-model-small-cn-0.22", "--source", "modelscope",
                     stdout=out, stderr=out)
    assert "has no modelscope repository; use --source hf" in out.getvalue()


def test_profiles_choose_models_and_listing_still_works(data_dir):
    cpu = {m.name for m in models_fetch.models_select(None, "cpu")}
    gpu = {m.name for m in models_fetch.models_select(None, "gpu")}
    assert {"musicgen-small", "vosk-model-small-cn-0.22", "vosk-model-small-en-us-0.15", "faster-whisper-base"} <= cpu
    assert {"CosyVoice2-0.5B", "multiband-diffusion"} <= gpu - cpu
    out = StringIO()
    call_command("emotune_models", "fetch", "--list", stdout=out)
    assert "FunAudioLLM/CosyVoice2-0.5B" in out.getvalue() and "iic/CosyVoice2-0.5B" in out.getvalue()
    out = StringIO()
    call_command("emotune_models", "list", "--app", "ops", stdout=out)
    assert "No engines declared yet" in out.getvalue()
