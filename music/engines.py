"""The music engines behind one call, ``engine_render``, and their listing for ``emotune_models``.

- offline: the arranger/synth in music/synth.py (no weights, always present);
- musicgen: MusicGen through transformers (music/musicgen.py);
- audiocraft: audiocraft's MusicGen with the MultiBand Diffusion decoder, when
  audiocraft is importable (see README for the --no-deps install recipe).
"""

from __future__ import annotations

import logging
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
