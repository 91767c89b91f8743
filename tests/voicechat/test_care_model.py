"""The care layer's classifiers (voicechat.care_model): the training code on a small set made
here, the shipped files rebuilt from the repository's labelled sets, and the rules working
alone when a file is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from voicechat import care, care_model
from voicechat.care import normalise


def test_features_are_stable_and_cover_both_scripts():
    a = care_model.features(normalise("I want to disappear"))
    b = care_model.features(normalise("I want to disappear"))
    assert np.array_equal(np.sort(a), np.sort(b)) and len(a) > 10  # crc32: the same ids in every process
    zh = care_model.features(normalise("想永远睡下去"))
    assert len(zh) >= 6 + 5 + 4  # characters 1-3 of six
    assert care_model.features("") .size == 0


def test_training_separates_a_small_set_and_the_file_round_trips(tmp_path):
    positives = ["i want to vanish for good", "nobody would notice if i vanished for good", "i will vanish tonight for good",
                 "我想永远消失", "想彻底消失不见", "今晚就永远消失吧"]
    negatives = ["i want pizza tonight", "the magician made the coin vanish", "play some calm music",
                 "我想吃火锅", "魔术师让硬币消失了", "放点安静的音乐"]
    texts = [normalise(t) for t in positives + negatives]
    labels = [1] * len(positives) + [0] * len(negatives)
    weights, bias = care_model.fit(texts, labels, steps=200)
    model = care_model.CareModel(weights, bias, 0.5)
    assert all(model.probability(t) > 0.5 for t in texts[:6]) and all(model.probability(t) < 0.5 for t in texts[6:])
    # Deterministic: the same data gives the same weights.
    again, _ = care_model.fit(texts, labels, steps=200)
    assert np.array_equal(weights, again)
    threshold = care_model.threshold_for(np.array([0.9, 0.8, 0.3, 0.2, 0.1]), [1, 0, 0, 0, 0], false_positive_rate=0.0)
    assert 0.8 < threshold < 0.9
    model.threshold = threshold
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = care_model.CareModel.load(path)
    assert loaded.threshold == pytest.approx(threshold) and loaded.bias == pytest.approx(bias)
    assert loaded.probability(texts[0]) == pytest.approx(model.probability(texts[0]), abs=1e-3)


def test_the_shipped_models_are_what_care_train_makes_from_the_labelled_sets(capsys):
    """Provenance: voicechat/data/care_*.npz come from voicechat/data/care/*.tsv and nothing else."""
    call_command("care_train", "--check")
    out = capsys.readouterr().out
    assert "care_messages.npz matches" in out and "care_answers.npz matches" in out


def test_the_shipped_message_model_recognises_veiled_wording_the_rules_do_not_name():
    model = care_model.CareModel.load(care_model.MESSAGES_MODEL)
    assert 0.3 < model.threshold < 0.95
    veiled = normalise("I've sorted out who gets my things and I feel strangely calm about tonight.")
    assert care._strong(veiled) is None  # not a rule's words
    assert model.probability(veiled) > model.probability(normalise("I sorted out my wardrobe and feel calm tonight."))


def test_without_a_model_file_the_rules_still_recognise(caplog):
    missing = Path("/nonexistent/care_messages.npz")
    assert care._model(missing) is None and not care._model_says(missing, "anything")
    assert "care_train" in caplog.text
    assert care.crisis_assess("I want to kill myself") is not None
