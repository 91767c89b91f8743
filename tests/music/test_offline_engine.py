"""The offline arranger/synth renders the brief it is given."""

from __future__ import annotations

import numpy as np
import pytest

from music.analysis import tempo_estimate
from music.brief import template_draft
from music.synth import SAMPLE_RATE, render


@pytest.mark.parametrize("emotion,bpm", [("neutral", 72), ("sad", 64), ("angry", 120), ("surprise", 150), ("fear", 58)])
def test_rendered_tempo_matches_request(emotion, bpm):
    brief = {**template_draft(emotion=emotion), "bpm": bpm}
    audio = render(brief, duration=12, seed=7)
    measured = tempo_estimate(audio, SAMPLE_RATE)
    assert measured is not None
    assert abs(measured - bpm) / bpm < 0.03, (measured, bpm)


def test_same_seed_same_samples_other_seed_other_melody():
    brief = template_draft(emotion="happy")
    a = render(brief, duration=6, seed=1)
    b = render(brief, duration=6, seed=1)
    c = render(brief, duration=6, seed=2)
    assert a.shape == (2, 6 * SAMPLE_RATE) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_mode_and_key_change_the_music():
    base = {**template_draft(emotion="neutral"), "drums": False}
    major = render(base, duration=4, seed=1)
    minor = render({**base, "mode": "minor"}, duration=4, seed=1)
    other_key = render({**base, "key": "F"}, duration=4, seed=1)
    assert not np.allclose(major, minor) and not np.allclose(major, other_key)
    assert np.abs(major).max() > 0.05  # audible, not silence
