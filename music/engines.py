"""The music engines behind one call, ``engine_render``, and their listing for ``emotune_models``.

- offline: the arranger/synth in music/synth.py (no weights, always present);
- musicgen: MusicGen through transformers (music/musicgen.py);
- audiocraft: audiocraft's MusicGen with the MultiBand Diffusion decoder, when
  audiocraft is importable (see README for the --no-deps install recipe).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from emotune.engines import engine_get
from emotune.jobs import JobError
from music.params import audiocraft_available

logger = logging.getLogger(__name__)

MBD = "MultiBand_Diffusion"


@dataclass
class Rendered:
    audio: np.ndarray  # float32 (channels, samples)
    sample_rate: int
    engine: str
    model_name: str
    decoder: str
    info: dict


Progress = Callable[..., None]


def engine_render(*, brief: dict, prompt: str, params: dict, melody: np.ndarray | None = None,
                  progress: Progress) -> Rendered:
    engine = params.get("engine") or settings.MUSIC_ENGINE
    if engine == "offline":
        return _render_offline(brief, params, progress)
    if engine == "musicgen":
        return _render_musicgen(prompt, params, melody, progress)
    if engine == "audiocraft":
        return _render_audiocraft(prompt, params, progress)
    raise JobError(f"Unknown music engine {engine!r}.")


def _render_offline(brief: dict, params: dict, progress: Progress) -> Rendered:
    from music.synth import ENGINE_LABEL, SAMPLE_RATE, render

    started = time.perf_counter()
    audio = render(brief, duration=float(params["duration"]), seed=int(params["seed"]),
                   progress=lambda f: progress(f, "rendering bars"))
    info = {"seconds": round(time.perf_counter() - started, 3)}
    return Rendered(audio, SAMPLE_RATE, "offline", ENGINE_LABEL, "", info)


def _render_musicgen(prompt: str, params: dict, melody, progress: Progress) -> Rendered:
    from music.musicgen import musicgen_render

    def step(done: int, total: int) -> None:
        # a constant note: Progress writes the row whenever the note changes
        progress(done / total, "generating", tokens=done, tokens_total=total)

    audio, sr, info = musicgen_render(prompt, params, melody=melody, progress=step)
    return Rendered(audio, sr, "musicgen", params["model"], "default", info)


def audiocraft_get(name: str):
    """audiocraft's MusicGen ``name`` and the MultiBand Diffusion decoder, loaded once per process."""

    def load():
        from audiocraft.models import MultiBandDiffusion, MusicGen

        return MusicGen.get_pretrained(name), _mbd_load(MultiBandDiffusion)

    return engine_get(f"audiocraft:{name}", load)


def _mbd_load(MultiBandDiffusion):
    """MultiBand Diffusion from MODELS_DIR when `emotune_models fetch` put it there, else from the hub.

    The same steps as audiocraft's ``MultiBandDiffusion.get_mbd_musicgen``, with local folders
    (``multiband-diffusion/`` and ``musicgen-small/``, whose compression model it decodes with)."""
    from pathlib import Path

    models = Path(settings.MODELS_DIR)
    mbd_dir, codec_dir = models / "multiband-diffusion", models / "musicgen-small"
    if not ((mbd_dir / "mbd_musicgen_32khz.th").is_file() and (codec_dir / "compression_state_dict.bin").is_file()):
        return MultiBandDiffusion.get_mbd_musicgen()
    import torch
    from audiocraft.models.loaders import load_compression_model, load_diffusion_models
    from audiocraft.models.multibanddiffusion import DiffusionProcess
    from audiocraft.modules.diffusion_schedule import NoiseSchedule

    device = "cuda" if torch.cuda.is_available() else "cpu"
    codec = load_compression_model(str(codec_dir), device=device)
    nets, processors, cfgs = load_diffusion_models(str(mbd_dir), filename="mbd_musicgen_32khz.th", device=device)
    processes = [
        DiffusionProcess(model=net, noise_schedule=NoiseSchedule(**cfg.schedule, sample_processor=proc, device=device))
        for net, proc, cfg in zip(nets, processors, cfgs)
    ]
    return MultiBandDiffusion(DPs=processes, codec_model=codec)


def _render_audiocraft(prompt: str, params: dict, progress: Progress) -> Rendered:
    if not audiocraft_available():
        raise JobError(
            "The MultiBand Diffusion decoder needs audiocraft, which is not installed on this server. "
            "Install it with: pip install --no-deps audiocraft==1.3.0 (see README), or choose the default decoder."
        )
    import torch

    name = params["model"]
    model, mbd = audiocraft_get(name)
    # audiocraft continues past its 30 s window itself: 18 s stride = 12 s of overlap, as in its app
    model.set_generation_params(
        duration=float(params["duration"]), top_k=int(params["top_k"]), top_p=float(params["top_p"]),
        temperature=float(params["temperature"]), cfg_coef=float(params["cfg_coef"]), extend_stride=18,
    )
    model.set_custom_progress_callback(lambda done, total: progress(done / max(total, 1), "generating", tokens=done, tokens_total=total))
    torch.manual_seed(int(params["seed"]))
    started = time.perf_counter()
    _, tokens = model.generate([prompt], progress=True, return_tokens=True)
    progress(0.99, "diffusion decoding")
    wav = mbd.tokens_to_wav(tokens)
    audio = wav[0].float().cpu().numpy()
    info = {"seconds": round(time.perf_counter() - started, 3)}
    return Rendered(audio, int(model.sample_rate), "audiocraft", name, MBD, info)


# --- listing and warm-up for manage.py emotune_models ------------------------------------


def engines_describe() -> list[dict]:
    from music.musicgen import musicgen_describe

    active = settings.MUSIC_ENGINE
    mg = musicgen_describe(settings.MUSICGEN_MODEL)
    has_audiocraft = audiocraft_available()
    return [
        {"name": "music.offline", "kind": "music", "active": active == "offline", "path": "music/synth.py",
         "present": True, "size_bytes": None, "note": "deterministic arranger/synth, no weights"},
        {"name": "music.musicgen", "kind": "music", "active": active == "musicgen", "path": mg["path"],
         "present": mg["present"], "size_bytes": mg["size_bytes"], "note": f"transformers; {mg['note']}"},
        {"name": "music.audiocraft", "kind": "music", "active": active == "audiocraft", "path": mg["path"],
         "present": has_audiocraft, "size_bytes": None,
         "note": "MultiBand Diffusion decoder; " + ("audiocraft importable" if has_audiocraft else
                                                     "audiocraft not installed (pip install --no-deps audiocraft==1.3.0)")},
    ]


def engines_warmup() -> list[str]:
    """Load the active engine(s) so the first job does not pay for it; returns their names."""
    active = settings.MUSIC_ENGINE
    if active == "musicgen":
        from music.musicgen import musicgen_get

        musicgen_get(settings.MUSICGEN_MODEL)
        return ["music.musicgen"]
    if active == "audiocraft":
        if not audiocraft_available():
            raise JobError("MUSIC_ENGINE=audiocraft but audiocraft is not installed.")
        audiocraft_get(settings.MUSICGEN_MODEL)
        return ["music.audiocraft"]
    from music.synth import render

    render({"bpm": 90, "key": "C", "mode": "major", "instruments": ["piano"], "energy": 0.4, "drums": False},
           duration=1.0, seed=0)
    return ["music.offline"]


# --- journeys: sections rendered one after another into one piece -----------------------

JOIN_S = 2.0  # each section's equal-power crossfade onto the one before
END_FADE_S = 1.5  # a journey cancelled part-way ends with this fade, not mid-note


class JourneyRenderer:
    """Renders a validated journey plan section by section into one continuous piece.

    Each section continues the one before: MusicGen is prompted with the previous section's
    audio (``musicgen_render(audio_prompt=...)``); the offline engine renders the next brief
    from ``JOIN_S`` before the join, without its fades. Every section is brought to the RMS
    level of its dynamics marking (music.journeys.DYNAMICS_DBFS, peaks kept under full scale)
    and crossfaded on with an equal-power fade ending at the section's start, so the file is
    exactly the plan's summed length and ``markers`` hold where each section starts.
    After a cancel (JobCancelled from ``progress``) ``joined`` still holds the sections done;
    :meth:`partial` makes them a playable piece.
    """

    def __init__(self, *, plan: dict, params: dict, progress: Progress):
        self.plan, self.params, self.progress = plan, params, progress
        self.engine = params.get("engine") or settings.MUSIC_ENGINE
        if self.engine not in ("offline", "musicgen"):
            raise JobError("Journeys are rendered by the offline engine or MusicGen (transformers), not "
                           f"{self.engine!r}.")
        self.sections = plan["sections"]
        self.joined: np.ndarray | None = None
        self.markers: list[float] = []
        self.section_info: list[dict] = []  # per section: render seconds, whether it continued audio
        self.sample_rate = self._sample_rate()
        starts = np.cumsum([0.0] + [s["seconds"] for s in self.sections])
        self.bounds = [int(round(t * self.sample_rate)) for t in starts]  # sample where each section starts
        self.model_name = ""

    def _sample_rate(self) -> int:
        if self.engine == "offline":
            from music.synth import SAMPLE_RATE

            return SAMPLE_RATE
        from music.musicgen import musicgen_get

        return musicgen_get(self.params["model"]).sample_rate

    @property
    def done(self) -> int:
        return len(self.markers)

    def run(self) -> np.ndarray:
        from music.analysis import crossfade_join

        count = len(self.sections)
        weights = [s["seconds"] / self.plan["total_seconds"] for s in self.sections]
        previous_raw = None
        for i, section in enumerate(self.sections):
            started = time.perf_counter()
            before = sum(weights[:i])

            def report(fraction: float, i=i, before=before, started=started, **extra) -> None:
                elapsed = time.perf_counter() - started
                eta = elapsed * (1 - fraction) / fraction if fraction > 0.05 else None
                self.progress(before + weights[i] * fraction, f"section {i + 1} of {count}", section=i + 1,
                              sections=count, section_progress=round(fraction, 3),
                              section_eta_s=round(eta, 1) if eta is not None else None, **extra)

            report(0.0)
            samples = self.bounds[i + 1] - self.bounds[i]
            lead = 0 if i == 0 else int(round(JOIN_S * self.sample_rate))
            raw = self._section(i, section, samples, lead, previous_raw, report)
            raw = raw[:, :samples + lead]
            if raw.shape[-1] != samples + lead:
                raise JobError(f"Section {i + 1} came out {raw.shape[-1]} samples long, not {samples + lead}.")
            level = _level(raw, section["dynamics"])
            self.joined = level if self.joined is None else crossfade_join(self.joined, level, overlap=lead)
            self.markers.append(round(self.bounds[i] / self.sample_rate, 3))
            self.section_info.append({"seconds": round(time.perf_counter() - started, 3),
                                      "continued": previous_raw is not None, "engine": self.engine})
            logger.info("journey section %s/%s (%s, %.1f s of music) rendered in %.2f s", i + 1, count, self.engine,
                        samples / self.sample_rate, self.section_info[-1]["seconds"])
            previous_raw = raw
            report(1.0)
        assert self.joined is not None  # the loop above ran at least once
        return _limit(self.joined)

    def _section(self, i: int, section: dict, samples: int, lead: int, previous, report) -> np.ndarray:
        seed = int(self.params["seed"]) + i
        seconds = samples / self.sample_rate
        if self.engine == "offline":
            from music.synth import ENGINE_LABEL, render

            self.model_name = ENGINE_LABEL
            # Whole bars of pre-roll, so that the section's first downbeat falls on the join
            # (its marker) and the crossfade carries its last pre-roll beats.
            bar = 4 * 60 / float(section["bpm"])
            skip = int(round((math.ceil(lead / self.sample_rate / bar) * bar) * self.sample_rate)) - lead if lead else 0
            audio = render(section, duration=(skip + samples + lead) / self.sample_rate, seed=seed,
                           fade_in=i == 0, fade_out=i == len(self.sections) - 1, progress=report)
            return audio[:, skip:]
        from music.musicgen import musicgen_render

        self.model_name = self.params["model"]
        params = {**self.params, "duration": seconds, "seed": seed}

        def step(done: int, total: int) -> None:
            report(done / total, tokens=done, tokens_total=total)

        if previous is None:
            audio, _sr, _info = musicgen_render(section["prompt"], params, progress=step)
        else:
            audio, _sr, _info = musicgen_render(section["prompt"], params, progress=step, audio_prompt=previous,
                                                lead=lead / self.sample_rate)
        return audio

    def partial(self) -> np.ndarray | None:
        """The sections rendered so far as a piece that ends with a fade (None before the first)."""
        if self.joined is None:
            return None
        audio = self.joined.copy()
        fade = min(int(END_FADE_S * self.sample_rate), audio.shape[-1])
        audio[:, audio.shape[-1] - fade:] *= np.linspace(1, 0, fade)
        return _limit(audio)


def _level(audio: np.ndarray, dynamics: str, *, peak: float = 0.98) -> np.ndarray:
    """Scale a section to its dynamics' RMS level, keeping its peaks under ``peak``."""
    from music.journeys import DYNAMICS_DBFS

    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < 1e-6:
        return audio.astype(np.float32)
    gain = 10 ** (DYNAMICS_DBFS[dynamics] / 20) / rms
    top = float(np.abs(audio).max()) * gain
    if top > peak:
        gain *= peak / top
    return (audio * gain).astype(np.float32)


def _limit(audio: np.ndarray, *, peak: float = 0.98) -> np.ndarray:
    top = float(np.abs(audio).max()) if audio.size else 0.0
    return (audio * (peak / top)).astype(np.float32) if top > peak else audio.astype(np.float32)
