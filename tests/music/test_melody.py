"""MusicGen-melody: chroma conditioning without torchaudio, through the production loading path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotune.engines import engines_clear
from music.engines import engine_render
from music.musicgen import ChromaExtractor
from music.params import params_validate
from tests.music.tiny_musicgen import MELODY_PREPROCESSOR, tiny_musicgen_build

SR = 32000
PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def tone(freq: float, seconds: float, *, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return sum(0.5 / k * np.sin(2 * np.pi * freq * k * t) for k in range(1, harmonics + 1)).astype(np.float32)


def midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def tune(seconds: float, seed: int) -> np.ndarray:
    """Notes of random pitch and length with harmonics, over a little noise."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0.0
    while total < seconds:
        length = float(rng.uniform(0.3, 1.2))
        parts.append(tone(midi_hz(int(rng.integers(48, 84))), length, harmonics=4))
        total += length
    clip = np.concatenate(parts)[: int(seconds * SR)]
    return (clip + 0.01 * rng.standard_normal(clip.shape)).astype(np.float32)


class ReferenceSpectrogram:
    """torchaudio.transforms.Spectrogram as its documentation defines it, in float64 numpy.

    Frames of ``n_fft`` every ``hop_length`` samples after reflecting ``n_fft // 2`` samples
    at each end (center=True), a periodic Hann window, the one-sided DFT divided by the
    window's L2 norm (normalized=True), squared magnitude (power=2). Shape (batch, freq, frames).
    """

    def __init__(self, *, n_fft, win_length, hop_length, power, center, pad, normalized):
        # the only configuration this reference implements: fail loudly if upstream changes it
        assert (win_length, power, center, pad, normalized) == (n_fft, 2, True, 0, True)
        self.n_fft, self.hop = n_fft, hop_length
        self.window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)

    def __call__(self, waveform: torch.Tensor) -> torch.Tensor:
        x = np.pad(waveform.double().numpy(), [(0, 0), (self.n_fft // 2, self.n_fft // 2)], mode="reflect")
        frames = 1 + (x.shape[-1] - self.n_fft) // self.hop
        index = np.arange(self.n_fft)[None, :] + self.hop * np.arange(frames)[:, None]
        spec = np.fft.rfft(x[:, index] * self.window, axis=-1) / np.sqrt((self.window ** 2).sum())
        return torch.from_numpy((np.abs(spec) ** 2).transpose(0, 2, 1).copy()).float()


@pytest.fixture
def upstream_extractor(monkeypatch):
    """transformers' own MusicgenMelodyFeatureExtractor (its padding, filter bank, normalisation and
    one-hot code), built from the checkpoint's config. Where torchaudio is missing, its one torchaudio
    part, the spectrogram, is the numpy reference above."""
    import importlib

    from transformers.utils import is_torchaudio_available

    # imported by its file's name: the package's lazy attribute refuses it without torchaudio
    upstream = importlib.import_module("transformers.models.musicgen_melody.feature_extraction_musicgen_melody")

    if not is_torchaudio_available():
        import types

        fake = types.SimpleNamespace(transforms=types.SimpleNamespace(Spectrogram=ReferenceSpectrogram))
        monkeypatch.setattr(upstream, "torchaudio", fake, raising=False)
    config = {k: v for k, v in MELODY_PREPROCESSOR.items()
              if k not in ("feature_extractor_type", "processor_class", "n_samples")}
    return upstream.MusicgenMelodyFeatureExtractor(**config)


@pytest.mark.parametrize("clips", [
    pytest.param(lambda: [tune(7.3, seed=1)], id="7s-tune"),
    pytest.param(lambda: [tune(0.4, seed=2)], id="shorter-than-n_fft"),
    pytest.param(lambda: [tune(33.0, seed=3)], id="cut-at-30s"),
    pytest.param(lambda: [tune(6.0, seed=4), tune(2.5, seed=5)], id="batch-padded"),
])
def test_chroma_equals_upstream_extractor(upstream_extractor, clips):
    clips = clips()
    expected = upstream_extractor(clips, sampling_rate=SR, return_tensors="pt")["input_features"]
    ours = ChromaExtractor(**{k: v for k, v in MELODY_PREPROCESSOR.items()
                              if k in ("sampling_rate", "n_fft", "hop_length", "num_chroma", "chunk_length",
                                       "padding_value", "padding_side")})(clips)
    assert ours.shape == expected.shape
    assert ours.shape[-1] == 12 and (ours.sum(-1) == 1).all()
    assert torch.equal(ours, expected)
    longest = min(max(len(c) for c in clips), 30 * SR)
    assert ours.shape[1] == max(longest, 16384) // 4096 + 1


@pytest.mark.parametrize("note", [60, 62, 64, 67, 69, 71, 73])
def test_pure_tone_lands_in_its_pitch_class(note):
    features = ChromaExtractor()([tone(midi_hz(note), 3.0)])
    classes = features[0].argmax(-1)
    assert {PITCH_CLASSES[int(c)] for c in classes} == {PITCH_CLASSES[note % 12]}


def test_extractor_reads_the_checkpoint_config(tmp_path):
    import json

    (tmp_path / "preprocessor_config.json").write_text(json.dumps({**MELODY_PREPROCESSOR, "hop_length": 2048}))
    extractor = ChromaExtractor.from_pretrained(str(tmp_path))
    assert extractor.hop_length == 2048 and extractor.n_fft == 16384 and extractor.padding_side == "left"
    assert ChromaExtractor.from_pretrained(str(tmp_path))([tone(440, 2.0)]).shape == (1, 2 * SR // 2048 + 1, 12)


# --- a tiny MusicGen-melody through the production path ------------------------------------


@pytest.fixture(scope="module")
def tiny_melody(tmp_path_factory):
    return tiny_musicgen_build(tmp_path_factory.mktemp("mg") / "tiny-melody", melody=True)


@pytest.fixture(scope="module")
def tiny_stereo_melody(tmp_path_factory):
    return tiny_musicgen_build(tmp_path_factory.mktemp("mg") / "tiny-stereo-melody", channels=2, melody=True)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    engines_clear()


def _render(path, melody, *, duration=5, seed=7):
    params = params_validate({"engine": "musicgen", "model": str(path), "duration": duration, "seed": seed})
    seen = []
    out = engine_render(brief={}, prompt="calm ambient piano", params=params, melody=melody,
                        progress=lambda f, note, **extra: seen.append(extra))
    return out, seen


def test_melody_model_follows_the_clip(tiny_melody):
    from transformers.utils import is_torchaudio_available

    a_tune = tune(8.0, seed=11)[None]
    other_tune = tune(8.0, seed=12)[None]
    first, seen = _render(tiny_melody, a_tune)
    assert first.audio.shape == (1, 5 * SR) and np.abs(first.audio).max() > 0
    assert first.info["melody"] and first.info["melody_clip"]
    assert seen[-1]["tokens"] == seen[-1]["tokens_total"] == 5 * 50 + 3
    again, _ = _render(tiny_melody, a_tune)
    assert np.array_equal(first.audio, again.audio)  # same clip, same seed: same piece
    other, _ = _render(tiny_melody, other_tune)
    unconditioned, _ = _render(tiny_melody, None)
    # same seed and prompt: only the melody differs, so the melody reached the model
    assert not np.allclose(first.audio, other.audio, atol=1e-4)
    assert not np.allclose(first.audio, unconditioned.audio, atol=1e-4)
    assert not unconditioned.info["melody_clip"]
    if not is_torchaudio_available():
        from music.musicgen import musicgen_get

        assert isinstance(musicgen_get(str(tiny_melody)).chroma, ChromaExtractor)


def test_melody_models_write_at_most_30_seconds(tiny_melody):
    from emotune.jobs import JobError

    with pytest.raises(JobError, match="at most 30 s"):
        _render(tiny_melody, tune(3.0, seed=1)[None], duration=31)


def test_stereo_melody_model_stays_stereo(tiny_stereo_melody):
    out, _ = _render(tiny_stereo_melody, np.stack([tune(6.0, seed=3), tune(6.0, seed=3)]), duration=6)
    assert out.audio.shape == (2, 6 * SR)
    other, _ = _render(tiny_stereo_melody, np.stack([tune(6.0, seed=4)] * 2), duration=6)
    assert not np.allclose(out.audio, other.audio, atol=1e-4)


@pytest.mark.django_db(transaction=True)
def test_generation_with_melody_clip_runs_on_the_worker(user, tiny_melody):
    import io

    import soundfile as sf
    from django.core.files.uploadedfile import SimpleUploadedFile

    from emotune.models import JobStatus
    from music.services import generation_create
    from tests.helpers import run_worker_burst

    # a 44.1 kHz stereo upload: the service re-encodes it to the 32 kHz mono clip the chroma expects
    t = np.arange(int(4.0 * 44100)) / 44100
    wave = 0.4 * np.sin(2 * np.pi * 440 * t)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([wave, wave], axis=1), 44100, format="WAV")
    clip = SimpleUploadedFile("tune.wav", buffer.getvalue())
    row = generation_create(user=user, description="calm", melody_file=clip,
                            params={"engine": "musicgen", "model": str(tiny_melody), "duration": 5, "seed": 2})
    stored = sf.info(row.melody.path)
    assert (stored.samplerate, stored.channels) == (32000, 1)
    worker = run_worker_burst("gpu")
    assert worker.returncode == 0, worker.stderr
    row.refresh_from_db()
    assert row.status == JobStatus.SUCCEEDED, row.error
    assert row.engine == "musicgen" and row.model_name == str(tiny_melody)
    assert row.timings["engine_melody"] is True and row.timings["engine_melody_clip"] is True
    assert row.duration == 5.0 and sf.info(row.audio.path).duration == pytest.approx(5.0, abs=0.01)
