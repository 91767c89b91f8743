"""MusicGen through the production loading path, on a tiny random model built here."""

from __future__ import annotations

import numpy as np
import pytest

from emotune.engines import engines_clear
from music.engines import engine_render
from music.params import params_validate
from tests.music.tiny_musicgen import tiny_musicgen_build


@pytest.fixture(scope="module")
def tiny_mono(tmp_path_factory):
    return tiny_musicgen_build(tmp_path_factory.mktemp("mg") / "tiny-mono", channels=1)


@pytest.fixture(scope="module")
def tiny_stereo(tmp_path_factory):
    return tiny_musicgen_build(tmp_path_factory.mktemp("mg") / "tiny-stereo", channels=2)


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine is shared: one thread is faster than fighting for two
    yield
    torch.set_num_threads(threads)
    engines_clear()


def _render(path, duration, seed=1):
    params = params_validate({"engine": "musicgen", "model": str(path), "duration": duration, "seed": seed})
    seen = []
    out = engine_render(brief={}, prompt="calm ambient piano", params=params,
                        progress=lambda f, note, **extra: seen.append((f, extra)))
    return out, seen


def test_generates_requested_duration_mono(tiny_mono):
    out, seen = _render(tiny_mono, 5)
    assert out.engine == "musicgen" and out.sample_rate == 32000
    assert out.audio.shape == (1, 5 * 32000)
    assert np.abs(out.audio).max() > 0
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1][1]["tokens"] == seen[-1][1]["tokens_total"] == 5 * 50 + 3
    assert out.info["segments"] == 1


def test_stereo_model_stays_stereo_and_seed_repeats(tiny_stereo):
    a, _ = _render(tiny_stereo, 5, seed=4)
    b, _ = _render(tiny_stereo, 5, seed=4)
    assert a.audio.shape == (2, 5 * 32000)
    # each channel decoded from its own codebook set (the tiny model's codebooks are random, not zero)
    assert not np.allclose(a.audio[0], a.audio[1], atol=1e-4)
    assert np.allclose(a.audio, b.audio, atol=1e-5)


def test_45_seconds_uses_continuation_with_crossfade(tiny_mono):
    out, seen = _render(tiny_mono, 45)
    frame = 32000 // 50
    assert abs(out.audio.shape[-1] - 45 * 32000) <= frame
    assert out.info["segments"] == 2
    assert seen[-1][1]["tokens"] == seen[-1][1]["tokens_total"]


def test_missing_model_is_a_readable_error(tmp_path):
    from emotune.jobs import JobError

    with pytest.raises(JobError, match="cannot be loaded"):
        _render(tmp_path / "nothing-here", 5)
