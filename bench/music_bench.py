"""Music engine benchmark: seconds of audio per second of compute.

    DEBUG=1 .venv/bin/python bench/music_bench.py            # CPU part (tiny MusicGen, offline engine)
    DEBUG=1 .venv/bin/python bench/music_bench.py --gpu      # adds the GPU part when CUDA is available

CPU: the tiny random MusicGen of the tests (same code path as production) and the
offline arranger/synth. GPU: MusicGen with musicgen-small's and musicgen-medium's
architectures and random weights (speed does not depend on weight values), batch 1
and 8, plain fp32 generate() against the optimised paths (fp16, static KV cache +
torch.compile, batching several users' requests). Reports audio seconds per wall
second, time to the first decoding step (the first progress event), peak GPU memory.
Each GPU line also says which KV cache the decoder really received and how many graphs
torch.compile built: in transformers 5.24 MusicGen ignores ``cache_implementation="static"``.
CPU, besides: melody chroma extraction, and whether a request keeps its audio when batched
with others (plain ``generate()`` sampling against ``music.musicgen.RowSampler``, which the
production path uses: a generator per request).
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


def bench_chroma() -> None:
    import numpy as np

    from music.musicgen import ChromaExtractor

    clip = np.sin(2 * np.pi * 440 * np.arange(30 * 32000) / 32000).astype(np.float32)
    extractor = ChromaExtractor()
    extractor([clip[:32000]])
    started = time.perf_counter()
    features = extractor([clip])
    emit({"bench": "melody-chroma", "device": "cpu", "clip_s": 30, "frames": features.shape[1],
          "wall_s": round(time.perf_counter() - started, 3)})


SAMPLING = {"top_k": 250, "top_p": 0.0, "temperature": 1.0, "cfg_coef": 3.0}  # the model cards' defaults


def bench_batch_equivalence(seconds: float) -> None:
    """Does a request get the same audio in a batch of 3 as alone, for the same seed?"""
    import torch
    from transformers import LogitsProcessorList

    from emotune.engines import engines_clear
    from music.musicgen import RowSampler, musicgen_get
    from tests.music.tiny_musicgen import tiny_musicgen_build

    prompts, seeds = ["calm piano", "gentle lo-fi beat with guitar", "soft warm pads 70 BPM"], [7, 8, 9]
    tokens = int(seconds * 50) + 3
    with tempfile.TemporaryDirectory() as tmp:
        mg = musicgen_get(str(tiny_musicgen_build(Path(tmp) / "tiny")))
        model = mg.model

        def run(texts, seed_list, row_sampler):
            inputs = dict(mg.processor(text=texts, padding=True, return_tensors="pt"))
            options = {"max_new_tokens": tokens, "guidance_scale": 3.0}
            if row_sampler:
                options["do_sample"] = False
                options["logits_processor"] = LogitsProcessorList([RowSampler(seed_list, params=SAMPLING, codebooks=4)])
            else:
                torch.manual_seed(seed_list[0])
                options.update(do_sample=True, top_k=250)
            started = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**inputs, **options)
            return out, time.perf_counter() - started

        for row_sampler in (False, True):
            alone = [run([p], [s], row_sampler) for p, s in zip(prompts, seeds)]
            batch, batch_wall = run(prompts, seeds, row_sampler)
            differences = [float((a[0][0] - batch[i]).abs().max()) for i, a in enumerate(alone)]
            emit({"bench": "batch-equivalence", "device": "cpu", "sampler": "RowSampler" if row_sampler else
                  "generate() do_sample", "audio_s": seconds, "max_abs_difference_per_request": differences,
                  "alone_wall_s": round(sum(a[1] for a in alone), 3), "batch_wall_s": round(batch_wall, 3)})
        engines_clear()


# --- GPU ------------------------------------------------------------------------------------

ARCHS = {
    # decoder shapes of the released checkpoints; text encoder t5-base; EnCodec 32 kHz, 4 codebooks of 2048
    "musicgen-small": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "ffn_dim": 4096},
    "musicgen-medium": {"hidden_size": 1536, "num_hidden_layers": 48, "num_attention_heads": 24, "ffn_dim": 6144},
}


def random_musicgen(arch: str):
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

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


def gpu_run(model, *, batch: int, seconds: float, dtype, static: bool, compile_: bool,
            row_sampler: bool = False) -> dict:
    import torch
    import torch._dynamo.utils
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

    caches: set[str] = set()

    def cache_seen(module, args, kwargs):
        cache = kwargs.get("cache")
        caches.add(type(getattr(cache, "self_attention_cache", cache)).__name__)

    hook = model.decoder.register_forward_pre_hook(cache_seen, with_kwargs=True)
    kwargs = {"input_ids": ids, "attention_mask": mask, "max_new_tokens": tokens}
    if row_sampler:
        kwargs["do_sample"] = False
    if static:
        kwargs["cache_implementation"] = "static"

    def processors():  # a fresh list per call: MusicGen's generate() appends its guidance processor to it
        from music.musicgen import RowSampler

        extra = [RowSampler(list(range(batch)), params=SAMPLING, codebooks=4, device="cuda")]
        return LogitsProcessorList([First(), *(extra if row_sampler else [])])

    torch._dynamo.utils.counters.clear()
    with torch.inference_mode():
        model.generate(**kwargs | {"max_new_tokens": 20, "logits_processor": processors()})  # warm-up (and compile)
        first.clear()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        out = model.generate(**kwargs, logits_processor=processors())
        torch.cuda.synchronize()
    wall = time.perf_counter() - started
    hook.remove()
    audio_s = out.shape[-1] / 32000
    return {"audio_s_each": round(audio_s, 2), "wall_s": round(wall, 3),
            "audio_s_per_wall_s": round(audio_s * batch / wall, 2),
            "first_step_s": round(first[0] - started, 3) if first else None,
            "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "decoder_cache": sorted(caches - {"NoneType"}),
            # compiled graphs: more than a handful means a recompile per step (then eager past dynamo's limit)
            "compiled_graphs": torch._dynamo.utils.counters["stats"]["unique_graphs"] if compile_ else None}


def bench_gpu(seconds: float, archs: list[str]) -> None:
    import torch

    name = torch.cuda.get_device_name(0)
    variants = [
        ("plain fp32 generate()", 1, torch.float32, False, False),
        ("fp16", 1, torch.float16, False, False),
        ("fp16, RowSampler (as production samples)", 1, torch.float16, False, False, True),
        ("fp16 + static cache + torch.compile", 1, torch.float16, True, True),
        ("fp16 batch 8 (8 users' requests)", 8, torch.float16, False, False),
        ("fp16 batch 8 + static cache + torch.compile", 8, torch.float16, True, True),
        ("fp16 batch 8, per-request seeds (RowSampler, as production samples)", 8, torch.float16, False, False, True),
    ]
    for arch in archs:
        for label, batch, dtype, static, compile_, *row_sampler in variants:
            model = random_musicgen(arch)
            record = {"bench": "musicgen-gpu", "arch": arch, "variant": label, "batch": batch, "device": name}
            try:
                record.update(gpu_run(model, batch=batch, seconds=seconds, dtype=dtype, static=static,
                                      compile_=compile_, row_sampler=bool(row_sampler)))
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
    bench_chroma()
    bench_batch_equivalence(args.seconds)
    import torch

    if args.gpu or torch.cuda.is_available():
        if not torch.cuda.is_available():
            emit({"bench": "musicgen-gpu", "skipped": "no CUDA device on this machine"})
            return
        bench_gpu(args.seconds, args.archs.split(","))


if __name__ == "__main__":
    main()
