"""Video readings: sampling, per-frame reading, voting, timeline, faceless frames, uncertainty."""

from __future__ import annotations

import itertools

import pytest

from emotion import analysis
from emotion.media import video_probe
from tests.emotion.media import video_write


def _assert_covers(timeline, duration):
    assert timeline[0]["start"] == 0
    assert timeline[-1]["end"] == pytest.approx(duration, abs=1e-3)
    for before, after in itertools.pairwise(timeline):
        assert before["end"] == after["start"]
        assert before["emotion"] != after["emotion"]  # runs are merged


def test_video_timeline_covers_the_clip_and_counts_faceless_frames(tmp_path, settings):
    settings.EMOTION_SAMPLE_FPS = 2
    path = video_write(tmp_path / "clip.mp4", "FF.F")  # 4 s: face, face, no face, face
    progress_seen = []
    result = analysis.video_read(path, progress=lambda f, note: progress_seen.append(f))
    assert result["media_seconds"] == pytest.approx(4.0, abs=0.01)
    assert result["frames_analysed"] == 8
    assert result["frames_without_face"] == 2
    assert result["face_found"] and result["emotion"] == "happy" and not result["uncertain"]
    timeline = result["timeline"]
    _assert_covers(timeline, 4.0)
    assert [s["emotion"] for s in timeline] == ["happy", "", "happy"]
    assert [(s["start"], s["end"]) for s in timeline] == [(0, 2.0), (2.0, 3.0), (3.0, 4.0)]
    assert timeline[1]["face"] is False and timeline[1]["confidence"] is None and timeline[1]["frames"] == 2
    assert sum(s["frames"] for s in timeline) == 8
    assert progress_seen and progress_seen == sorted(progress_seen) and max(progress_seen) < 1
    assert {"decode_s", "detect_s", "classify_s", "total_s"} <= set(result["timings"])


def test_video_with_too_few_faces_is_uncertain(tmp_path, settings):
    settings.EMOTION_SAMPLE_FPS = 2
    path = video_write(tmp_path / "mostly-empty.mp4", "...F", seconds_per_char=1.0)
    result = analysis.video_read(path)
    assert result["frames_without_face"] == 6 and result["frames_analysed"] == 8
    assert result["face_found"] and result["uncertain"] and result["emotion"] == ""
    assert result["scores"]["happy"] > 0.5  # the evidence is shown, just not called


def test_video_without_any_face(tmp_path, settings):
    settings.EMOTION_SAMPLE_FPS = 1
    path = video_write(tmp_path / "empty.mp4", "..")
    result = analysis.video_read(path)
    assert result["face_found"] is False and result["emotion"] == ""
    assert result["frames_without_face"] == result["frames_analysed"] == 2
    _assert_covers(result["timeline"], 2.0)


def test_vote_smooths_a_single_odd_frame():
    import numpy as np

    happy, sad = np.eye(7)[3] * 0.8 + 0.2 / 7, np.eye(7)[4] * 0.6 + 0.4 / 7
    result = analysis.vote([0, 1, 2, 3, 4], [happy, happy, sad, happy, happy], 5.0)
    assert [s["emotion"] for s in result["timeline"]] == ["happy"]
    assert result["emotion"] == "happy"


def test_probe_reads_length(tmp_path):
    info = video_probe(video_write(tmp_path / "c.mp4", "F.", fps=10))
    assert info["seconds"] == pytest.approx(2.0) and info["width"] == 320 and info["height"] == 240


def test_a_cancel_raised_mid_read_releases_the_video(tmp_path, settings, monkeypatch):
    """A cancel or timeout arrives through ``progress``; the decoder is released all the same."""
    import cv2

    settings.EMOTION_SAMPLE_FPS = 2
    path = video_write(tmp_path / "clip.mp4", "FF")
    opened, real = [], cv2.VideoCapture

    def capture(source):
        opened.append(real(source))
        return opened[-1]

    monkeypatch.setattr(cv2, "VideoCapture", capture)

    class Cancelled(Exception):
        pass

    def cancel(fraction, note):
        raise Cancelled

    with pytest.raises(Cancelled):
        analysis.video_read(path, progress=cancel)
    assert len(opened) == 1 and not opened[0].isOpened()
