"""MusicGen through transformers: loading, windowed generation with continuation, melody chroma.

MusicGen writes at most ~30 s at once. Longer pieces are continued the way
audiocraft's app does it: the last ``overlap`` seconds are fed back as the audio
prompt and the new part is crossfaded onto what exists. Models load once per
process (``emotune.engines.engine_get``) in half precision on a GPU, float32 on CPU.

Melody checkpoints condition on a chroma (pitch-class) sequence of the melody clip.
transformers computes it in ``MusicgenMelodyFeatureExtractor``, which needs torchaudio
for its spectrogram; where torchaudio is not importable (no build matches our torch)
:class:`ChromaExtractor` computes the same features with ``torch.stft``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from emotune.engines import engine_get
from emotune.jobs import JobError
from music.analysis import crossfade_join

logger = logging.getLogger(__name__)

WINDOW_S = 30.0
OVERLAP_S = 12.0
CROSSFADE_S = 1.0


@dataclass(frozen=True)
class ChromaExtractor:
    """MusicGen-melody's conditioning features without torchaudio.

    The same computation as transformers' ``MusicgenMelodyFeatureExtractor`` (5.x) for
    mono clips already at ``sampling_rate`` (``music.services.melody_clean`` re-encodes
    uploads to 32 kHz mono): clips cut to ``chunk_length`` seconds and padded to the
    longest of the batch; a clip shorter than ``n_fft`` zero-padded on both sides; power
    spectrogram (periodic Hann window of ``n_fft``, hop ``hop_length``, centred with
    reflection, scaled by the window's L2 norm as torchaudio's ``normalized=True`` does);
    librosa's chroma filter bank; each frame divided by its maximum; then one-hot at its
    strongest pitch class (0 = C). Returns (batch, frames, num_chroma) float32.
    """

    sampling_rate: int = 32000
    n_fft: int = 16384
    hop_length: int = 4096
    num_chroma: int = 12
    chunk_length: int = 30
    padding_value: float = 0.0
    padding_side: str = "right"

    @classmethod
    def from_pretrained(cls, name: str) -> ChromaExtractor:
        """Read the checkpoint's ``preprocessor_config.json`` (without instantiating upstream's class)."""
        from transformers.feature_extraction_utils import FeatureExtractionMixin

        config, _ = FeatureExtractionMixin.get_feature_extractor_dict(name)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in config.items() if k in known})

    def __call__(self, clips: list[np.ndarray]):
        import torch
        from transformers.audio_utils import chroma_filter_bank

        limit = self.chunk_length * self.sampling_rate
        waves = [np.asarray(c, dtype=np.float32).reshape(-1)[:limit] for c in clips]
        longest = max(len(w) for w in waves)
        batch = np.full((len(waves), longest), self.padding_value, dtype=np.float32)
        for row, wave in zip(batch, waves):
            if self.padding_side == "left":
                row[longest - len(wave):] = wave
            else:
                row[:len(wave)] = wave
        wave = torch.from_numpy(batch)
        if longest < self.n_fft:
            pad = self.n_fft - longest
            wave = torch.nn.functional.pad(wave, (pad // 2, pad // 2 + pad % 2))
        window = torch.hann_window(self.n_fft)
        spec = torch.stft(wave, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.n_fft, window=window,
                          center=True, pad_mode="reflect", onesided=True, return_complex=True)
        spec = (spec / window.pow(2).sum().sqrt()).abs().pow(2)  # (batch, freq, frames)
        filters = torch.from_numpy(chroma_filter_bank(sampling_rate=self.sampling_rate, num_frequency_bins=self.n_fft,
                                                      tuning=0, num_chroma=self.num_chroma)).float()
        chroma = torch.einsum("cf,bft->bct", filters, spec)
        chroma = torch.nn.functional.normalize(chroma, p=float("inf"), dim=-2, eps=1e-6).transpose(1, 2)
        return torch.zeros_like(chroma).scatter_(-1, chroma.argmax(-1, keepdim=True), 1.0)


def torchaudio_available() -> bool:
    from transformers.utils import is_torchaudio_available

    return is_torchaudio_available()


@dataclass
class LoadedMusicGen:
    model: object
    processor: object  # text (and audio prompt) processor; the tokenizer alone for melody models without torchaudio
    chroma: Callable | None  # melody clips (mono, sample_rate) -> input_features; melody models only
    device: str
    dtype: object
    melody: bool
    sample_rate: int
    frame_rate: int
    channels: int
    delay: int  # frames the codebook delay pattern costs per generate() call
    name: str


def _load(name: str) -> LoadedMusicGen:
    import torch
    from transformers import AutoConfig

    started = time.perf_counter()
    try:
        config = AutoConfig.from_pretrained(name)
    except OSError as exc:
        raise JobError(
            f"MusicGen model {name!r} cannot be loaded: give a local directory (MUSICGEN_MODEL) or allow the "
            f"Hugging Face hub to be reached. ({exc.__class__.__name__})"
        ) from exc
    melody = config.model_type == "musicgen_melody"
    if melody:
        from transformers import MusicgenMelodyForConditionalGeneration as ModelClass
    else:
        from transformers import MusicgenForConditionalGeneration as ModelClass
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    processor, chroma = _processor_load(name, melody=melody)
    model = ModelClass.from_pretrained(name, dtype=dtype).to(device).eval()
    decoder = model.config.decoder
    channels = int(getattr(decoder, "audio_channels", 1))
    loaded = LoadedMusicGen(
        model=model, processor=processor, chroma=chroma, device=device, dtype=dtype, melody=melody,
        sample_rate=int(model.config.audio_encoder.sampling_rate), frame_rate=int(model.config.audio_encoder.frame_rate),
        channels=channels, delay=decoder.num_codebooks // channels - 1, name=name,
    )
    logger.info("musicgen %s loaded on %s (%s) in %.2f s", name, device, dtype, time.perf_counter() - started)
    return loaded


def _processor_load(name: str, *, melody: bool) -> tuple[object, Callable | None]:
    from transformers import AutoProcessor, AutoTokenizer

    if not melody:
        return AutoProcessor.from_pretrained(name), None
    if torchaudio_available():
        processor = AutoProcessor.from_pretrained(name)
        extractor = processor.feature_extractor

        def upstream(clips: list[np.ndarray]):
            return extractor(clips, sampling_rate=extractor.sampling_rate, return_tensors="pt")["input_features"]

        return processor, upstream
    return AutoTokenizer.from_pretrained(name), ChromaExtractor.from_pretrained(name)


def musicgen_get(name: str) -> LoadedMusicGen:
    return engine_get(f"musicgen:{name}", lambda: _load(name))


class _StepCounter:
    """A logits processor that only counts decoding steps (for progress and cancel)."""

    def __init__(self, on_step: Callable[[], None]):
        self.on_step = on_step

    def __call__(self, input_ids, scores):
        self.on_step()
        return scores


def guidance_of(params: dict) -> float | None:
    """The classifier-free guidance scale generate() applies (it ignores scales of 1 and below)."""
    scale = float(params["cfg_coef"])
    return scale if scale > 1 else None


class RowSampler:
    """Draws each request's codes from that request's own generator, not torch's global one.

    generate() runs with ``do_sample=False`` and this among its logits processors. It sees
    the conditional rows and, with guidance, the unconditional ones after them (MusicGen
    appends its own guidance processor after ours); it applies guidance, temperature, top-k
    and top-p with transformers' own processors, in the order generate() would, draws one
    code per (request, codebook) row, and returns scores peaked on the drawn codes in both
    halves, which guidance and the greedy choice then keep. So a seed's piece does not
    depend on anything else drawing from torch's global generator (jobs in threads in the
    embedded mode), nor, in a batch, on the other requests (see bench/BENCHMARKS.md).
    All requests of a batch share ``params`` except their seeds.
    """

    def __init__(self, seeds: list[int], *, params: dict, codebooks: int, device: str = "cpu"):
        import torch
        from transformers import (
            ClassifierFreeGuidanceLogitsProcessor,
            LogitsProcessorList,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        self.generators = [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]
        self.codebooks = codebooks
        steps = []
        if guidance_of(params):
            steps.append(ClassifierFreeGuidanceLogitsProcessor(guidance_of(params)))
        if float(params["temperature"]) != 1.0:
            steps.append(TemperatureLogitsWarper(float(params["temperature"])))
        if int(params["top_k"]):
            steps.append(TopKLogitsWarper(int(params["top_k"])))
        if 0 < float(params["top_p"]) < 1:
            steps.append(TopPLogitsWarper(float(params["top_p"])))
        self.steps = LogitsProcessorList(steps)

    def __call__(self, input_ids, scores):
        import torch

        probs = self.steps(input_ids, scores.float()).softmax(-1)  # (requests × codebooks, codes)
        k = self.codebooks
        drawn = torch.cat([torch.multinomial(probs[i * k:(i + 1) * k], 1, generator=g)
                           for i, g in enumerate(self.generators)]).squeeze(1)
        peaked = torch.full_like(scores, -1e4)
        rows = torch.arange(scores.shape[0], device=scores.device)
        peaked[rows, drawn.repeat(scores.shape[0] // drawn.shape[0])] = 0
        return peaked


def _generate(mg: LoadedMusicGen, prompt: str, params: dict, seconds: float, *, sampler: RowSampler,
              audio_prompt=None, melody=None, on_step: Callable[[], None]) -> np.ndarray:
    """One generate() call; returns float32 (channels, samples), the audio prompt included."""
    import torch
    from transformers import LogitsProcessorList

    if mg.melody:
        inputs = dict(mg.processor(text=[prompt], padding=True, return_tensors="pt"))
        if melody is not None:  # without it the model conditions on its "no melody" chroma
            inputs["input_features"] = mg.chroma([melody.mean(axis=0)])
    else:
        kwargs: dict = {"text": [prompt], "padding": True, "return_tensors": "pt"}
        if audio_prompt is not None:
            kwargs.update(audio=[audio_prompt[0] if mg.channels == 1 else audio_prompt], sampling_rate=mg.sample_rate)
        inputs = mg.processor(**kwargs)
    inputs = {k: (v.to(mg.device, mg.dtype) if v.is_floating_point() else v.to(mg.device)) for k, v in inputs.items()}
    tokens = math.ceil(seconds * mg.frame_rate) + mg.delay
    with torch.inference_mode():
        out = mg.model.generate(
            **inputs,
            max_new_tokens=tokens,
            do_sample=False,  # the sampler draws; the greedy choice keeps its draw
            guidance_scale=guidance_of(params),
            logits_processor=LogitsProcessorList([_StepCounter(on_step), sampler]),
        )
    return out[0].float().cpu().numpy()


def steps_needed(duration: float, *, frame_rate: int, delay: int, window: float = WINDOW_S,
                 overlap: float = OVERLAP_S, continued: bool = False) -> int:
    """Decoding steps for a piece of ``duration`` seconds (for the progress bar's total).

    ``continued``: the piece continues given audio, so even its first window is a continuation."""
    if continued:
        steps, done = 0, 0.0
    else:
        first = min(duration, window)
        steps = math.ceil(first * frame_rate) + delay
        done = first
    while done < duration - 1e-6:
        new = min(window - overlap, duration - done + CROSSFADE_S)
        steps += math.ceil(new * frame_rate) + delay
        done += new - CROSSFADE_S
    return steps


def musicgen_render(prompt: str, params: dict, *, melody: np.ndarray | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    window: float = WINDOW_S, overlap: float = OVERLAP_S,
                    audio_prompt: np.ndarray | None = None, lead: float = 0.0) -> tuple[np.ndarray, int, dict]:
    """Render ``params['duration']`` seconds; returns (audio (channels, samples), sample rate, info).

    With ``audio_prompt`` (channels, samples at the model's rate) the piece continues that audio
    (its last ``overlap`` seconds are the first window's prompt, as for long pieces) and the
    result starts ``lead`` seconds before the prompt's end, so the caller can crossfade it on:
    ``lead + duration`` seconds in all (a journey's next section).
    """
    mg = musicgen_get(params.get("model") or "facebook/musicgen-small")
    duration = float(params["duration"])
    if mg.melody and (duration > window or audio_prompt is not None):
        raise JobError(f"Melody models write at most {window:.0f} s and do not continue audio; choose a shorter "
                       "duration or another model.")
    # one generator for the whole piece, continuation windows included
    sampler = RowSampler([int(params["seed"])], params=params, codebooks=mg.model.config.decoder.num_codebooks,
                         device=mg.device)
    continued = audio_prompt is not None
    total = steps_needed(duration, frame_rate=mg.frame_rate, delay=mg.delay, window=window, overlap=overlap,
                         continued=continued)
    done = 0

    def on_step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    sr, target = mg.sample_rate, int(round(duration * mg.sample_rate))
    started = time.perf_counter()
    if continued:
        audio = np.asarray(audio_prompt, dtype=np.float32)[:, -int(overlap * sr):]
        if audio.shape[0] != mg.channels:
            audio = np.repeat(audio.mean(axis=0, keepdims=True), mg.channels, axis=0)
        head = audio.shape[-1] - int(round(lead * sr))
        if head < 0:
            raise JobError("The audio to continue is shorter than the crossfade.")
        target += audio.shape[-1]
        segments = 0
    else:
        audio = _generate(mg, prompt, params, min(duration, window), sampler=sampler, melody=melody, on_step=on_step)
        head, segments = 0, 1
    fade = int(CROSSFADE_S * sr)
    while audio.shape[-1] < target:
        tail = audio[:, -int(overlap * sr):]
        new = min(window - overlap, (target - audio.shape[-1]) / sr + CROSSFADE_S)
        out = _generate(mg, prompt, params, new, sampler=sampler, audio_prompt=tail, on_step=on_step)
        # out = re-decoded prompt + new audio; keep the new part plus a crossfade's worth before it
        continuation = out[:, tail.shape[-1] - fade:]
        audio = crossfade_join(audio, continuation, overlap=fade)
        segments += 1
    audio = audio[:, head:target]
    info = {"segments": segments, "steps": done, "seconds": round(time.perf_counter() - started, 3),
            "device": mg.device, "melody": mg.melody, "melody_clip": mg.melody and melody is not None}
    return audio.astype(np.float32), sr, info


def musicgen_describe(name: str) -> dict:
    from pathlib import Path

    path = Path(name)
    present = path.is_dir() and (path / "config.json").exists()
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if present else None
    note = "local directory" if present else "hub id: downloaded on first use where the hub is reachable"
    return {"path": str(path), "present": present, "size_bytes": size, "note": note}
