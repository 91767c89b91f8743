"""Music engine benchmark: seconds of audio per second of compute.

    DEBUG=1 .venv/bin/python bench/music_bench.py            # CPU part (tiny MusicGen, offline engine)
    DEBUG=1 .venv/bin/python bench/music_bench.py --gpu      # adds the GPU part when CUDA is available

CPU: the tiny random MusicGen of the tests (same code path as production) and the
offline arranger/synth. GPU: MusicGen with musicgen-small's and musicgen-medium's
architectures and random weights (speed does not depend on weight values), batch 1
and 8, plain fp32 generate() against the optimised paths (fp16, static KV cache +
torch.compile, batching several users' requests). Reports audio seconds per wall
second, time to the first decoding step (the first progress event), peak GPU memory.
Results print as JSON lines and go to bench/out/music.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emotune.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

OUT = ROOT / "bench" / "out"


def emit(record: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record)
    print(line, flush=True)
    with open(OUT / "music.jsonl", "a") as fh:
        fh.write(line + "\n")


def bench_offline(duration: float) -> None:
    from music.brief import template_draft
    from music.synth import render

    brief = template_draft(emotion="neutral")
    render(brief, duration=2, seed=0)
    started = time.perf_counter()
    audio = render(brief, duration=duration, seed=1)
    wall = time.perf_counter() - started
    emit({"bench": "offline", "device": "cpu", "audio_s": duration, "wall_s": round(wall, 3),
          "audio_s_per_wall_s": round(duration / wall, 1), "samples": audio.shape[-1]})


def bench_tiny_musicgen(duration: float) -> None:
    import torch

    from emotune.engines import engines_clear
    from music.engines import engine_render
    from music.params import params_validate
    from tests.music.tiny_musicgen import tiny_musicgen_build

    with tempfile.TemporaryDirectory() as tmp:
        path = tiny_musicgen_build(Path(tmp) / "tiny")
        params = params_validate({"engine": "musicgen", "model": str(path), "duration": 5, "seed": 0})
        engine_render(brief={}, prompt="warm up", params=params, progress=lambda *a, **k: None)
        first: list[float] = []
        params["duration"] = duration
        started = time.perf_counter()
        out = engine_render(brief={}, prompt="calm piano", params=params,
                            progress=lambda *a, **k: first.append(time.perf_counter() - started) if not first else None)
        wall = time.perf_counter() - started
        emit({"bench": "tiny-musicgen", "device": "cpu", "threads": torch.get_num_threads(), "audio_s": duration,
              "wall_s": round(wall, 3), "audio_s_per_wall_s": round(out.audio.shape[-1] / out.sample_rate / wall, 2),
              "first_step_s": round(first[0], 3), "segments": out.info["segments"]})
        engines_clear()


# --- GPU ------------------------------------------------------------------------------------

ARCHS = {
    # decoder shapes of the released checkpoints; text encoder t5-base; EnCodec 32 kHz, 4 codebooks of 2048
    "musicgen-small": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "ffn_dim": 4096},
    "musicgen-medium": {"hidden_size": 1536, "num_hidden_layers": 48, "num_attention_heads": 24, "ffn_dim": 6144},
}


def random_musicgen(arch: str):
    import torch
    from transformers import (EncodecConfig, MusicgenConfig, MusicgenDecoderConfig,
                              MusicgenForConditionalGeneration, T5Config)

    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=64, hidden_size=128,
                          upsampling_ratios=[8, 5, 4, 4], codebook_size=2048, codebook_dim=128, num_lstm_layers=2,
                          target_bandwidths=[2.2], normalize=False, use_causal_conv=False)
    decoder = MusicgenDecoderConfig(vocab_size=2048, num_codebooks=4, pad_token_id=2048, bos_token_id=2048,
                                    max_position_embeddings=2048, **ARCHS[arch])
    config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    with torch.device("cuda"):
        model = MusicgenForConditionalGeneration(config).eval()
    gen = model.generation_config
    gen.decoder_start_token_id = gen.pad_token_id = 2048
    gen.do_sample, gen.top_k, gen.guidance_scale = True, 250, 3.0
    return model


def gpu_run(model, *, batch: int, seconds: float, dtype, static: bool, compile_: bool) -> dict:
    import torch
    from transformers import LogitsProcessorList

    model = model.to(dtype)
    if compile_:
        model.decoder.forward = torch.compile(model.decoder.forward, mode="reduce-overhead", fullgraph=False)
    ids = torch.randint(0, 32000, (batch, 12), device="cuda")
    mask = torch.ones_like(ids)
    tokens = int(seconds * 50) + 3
    first: list[float] = []

    class First:
        def __call__(self, input_ids, scores):
            if not first:
                torch.cuda.synchronize()
                first.append(time.perf_counter())
            return scores

    kwargs = {"input_ids": ids, "attention_mask": mask, "max_new_tokens": tokens,
              "logits_processor": LogitsProcessorList([First()])}
    if static:
        kwargs["cache_implementation"] = "static"
    with torch.inference_mode():
        model.generate(**{**kwargs, "max_new_tokens": 20})  # warm-up (and compile)
        first.clear()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        out = model.generate(**kwargs)
        torch.cuda.synchronize()
    wall = time.perf_counter() - started
    audio_s = out.shape[-1] / 32000
    return {"audio_s_each": round(audio_s, 2), "wall_s": round(wall, 3),
            "audio_s_per_wall_s": round(audio_s * batch / wall, 2),
            "first_step_s": round(first[0] - started, 3) if first else None,
            "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}


def bench_gpu(seconds: float, archs: list[str]) -> None:
    import torch

    name = torch.cuda.get_device_name(0)
    variants = [
        ("plain fp32 generate()", 1, torch.float32, False, False),
        ("fp16", 1, torch.float16, False, False),
        ("fp16 + static cache + torch.compile", 1, torch.float16, True, True),
        ("fp16 batch 8 (8 users' requests)", 8, torch.float16, False, False),
        ("fp16 batch 8 + static cache + torch.compile", 8, torch.float16, True, True),
    ]
    for arch in archs:
        for label, batch, dtype, static, compile_ in variants:
            model = random_musicgen(arch)
            record = {"bench": "musicgen-gpu", "arch": arch, "variant": label, "batch": batch, "device": name}
            try:
                record.update(gpu_run(model, batch=batch, seconds=seconds, dtype=dtype, static=static,
                                      compile_=compile_))
            except Exception as exc:  # an optimisation this transformers version does not support
                record["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            emit(record)
            del model
            torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="audio seconds per request")
    parser.add_argument("--gpu", action="store_true", help="run the GPU part (needs CUDA)")
    parser.add_argument("--archs", default="musicgen-small,musicgen-medium")
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 is fastest for tiny models on busy machines)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    bench_offline(60.0)
    bench_tiny_musicgen(args.seconds)
    import torch

    if args.gpu or torch.cuda.is_available():
        if not torch.cuda.is_available():
            emit({"bench": "musicgen-gpu", "skipped": "no CUDA device on this machine"})
            return
        bench_gpu(args.seconds, args.archs.split(","))


if __name__ == "__main__":
    main()
