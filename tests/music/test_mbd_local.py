"""MultiBand Diffusion read from MODELS_DIR when `emotune_models fetch` put it there.

audiocraft is not installed here (GPU hosts install it with --no-deps), so stand-in modules
record what ``music.engines._mbd_load`` asks of audiocraft's loaders: the local folders when
both were fetched, audiocraft's own hub download otherwise."""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace

import pytest

from music import engines


@pytest.fixture
def audiocraft(monkeypatch):
    calls = []

    class MultiBandDiffusion:
        def __init__(self, DPs, codec_model):
            self.DPs, self.codec_model = DPs, codec_model

        @staticmethod
        def get_mbd_musicgen(device=None):
            calls.append(("hub",))
            return "from-hub"

    def load_compression_model(name, device=None):
        calls.append(("codec", name))
        return "codec"

    def load_diffusion_models(path, filename=None, device=None):
        calls.append(("mbd", path, filename))
        return ["net0", "net1"], ["proc0", "proc1"], [SimpleNamespace(schedule={"num_steps": 4})] * 2

    modules = {
        "audiocraft": types.ModuleType("audiocraft"),
        "audiocraft.models": types.ModuleType("audiocraft.models"),
        "audiocraft.models.loaders": types.ModuleType("audiocraft.models.loaders"),
        "audiocraft.models.multibanddiffusion": types.ModuleType("audiocraft.models.multibanddiffusion"),
        "audiocraft.modules": types.ModuleType("audiocraft.modules"),
        "audiocraft.modules.diffusion_schedule": types.ModuleType("audiocraft.modules.diffusion_schedule"),
    }
    modules["audiocraft.models"].MultiBandDiffusion = MultiBandDiffusion
    modules["audiocraft.models.loaders"].load_compression_model = load_compression_model
    modules["audiocraft.models.loaders"].load_diffusion_models = load_diffusion_models
    modules["audiocraft.models.multibanddiffusion"].DiffusionProcess = lambda model, noise_schedule: (
        model, noise_schedule)
    modules["audiocraft.modules.diffusion_schedule"].NoiseSchedule = lambda **kw: kw
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return SimpleNamespace(calls=calls, MultiBandDiffusion=MultiBandDiffusion)


def test_fetched_mbd_and_codec_load_from_models_dir(settings, tmp_path, audiocraft):
    settings.MODELS_DIR = tmp_path
    (tmp_path / "multiband-diffusion").mkdir()
    (tmp_path / "multiband-diffusion" / "mbd_musicgen_32khz.th").write_bytes(b"x")
    (tmp_path / "musicgen-small").mkdir()
    (tmp_path / "musicgen-small" / "compression_state_dict.bin").write_bytes(b"x")
    mbd = engines._mbd_load(audiocraft.MultiBandDiffusion)
    assert audiocraft.calls == [("codec", str(tmp_path / "musicgen-small")),
                                ("mbd", str(tmp_path / "multiband-diffusion"), "mbd_musicgen_32khz.th")]
    assert mbd.codec_model == "codec" and [dp[0] for dp in mbd.DPs] == ["net0", "net1"]
    assert mbd.DPs[1][1]["sample_processor"] == "proc1" and mbd.DPs[0][1]["num_steps"] == 4


def test_without_fetched_files_audiocraft_downloads_itself(settings, tmp_path, audiocraft):
    settings.MODELS_DIR = tmp_path
    assert engines._mbd_load(audiocraft.MultiBandDiffusion) == "from-hub"
    assert audiocraft.calls == [("hub",)]
