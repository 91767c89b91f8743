import numpy as np

from music.scoring import _felt_tempo, rule_score


def test_felt_tempo_folds_octaves_into_the_request():
    assert _felt_tempo(200.0, 60, 110) == 100.0  # eighth notes heard as the beat
    assert _felt_tempo(45.0, 80, 120) == 90.0  # whole bars
    assert _felt_tempo(100.0, 60, 110) == 100.0
    assert _felt_tempo(None, 60, 110) is None


def test_score_reports_the_felt_tempo_and_penalises_a_wrong_one():
    sr = 16000
    t = np.arange(sr * 12) / sr
    clicks = (np.sin(2 * np.pi * 1000 * t) * (np.mod(t, 0.3) < 0.02)).astype(np.float32)  # 200 BPM clicks
    brief = {"bpm": 100, "energy": 0.5, "mode": "major"}
    _score, parts = rule_score(clicks, sr, requested_seconds=12, bpm_range=(60, 110), brief=brief, emotion="neutral")
    assert abs(parts["measured_bpm"] - 100) < 3 and parts["tempo"] == 1.0
    _, far = rule_score(clicks, sr, requested_seconds=12, bpm_range=(150, 170), brief=brief, emotion="neutral")
    assert far["tempo"] < 1.0
