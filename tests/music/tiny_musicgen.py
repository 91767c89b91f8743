"""Build a tiny randomly initialised MusicGen (+ processor) on disk, as STACK-NOTES describes."""

from __future__ import annotations

import json
from pathlib import Path

# What transformers' MusicgenMelodyFeatureExtractor saves for the released melody checkpoints
# (its to_dict()); written by hand because the class cannot be instantiated without torchaudio.
MELODY_PREPROCESSOR = {
    "feature_extractor_type": "MusicgenMelodyFeatureExtractor", "processor_class": "MusicgenMelodyProcessor",
    "feature_size": 12, "sampling_rate": 32000, "hop_length": 4096, "chunk_length": 30, "n_fft": 16384,
    "num_chroma": 12, "n_samples": 960000, "padding_side": "left", "padding_value": 0.0,
    "return_attention_mask": False, "stem_indices": [3, 2],
}


# Decoder weights' std. At transformers' 0.02 a tiny random decoder's logits are nearly flat, so
# sampling ignores what conditions it (text, melody); at 1.0 the conditioning changes the codes.
DECODER_INIT_STD = 1.0


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5TokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    corpus = ["calm ambient piano music", "soft warm pads 70 BPM", "gentle lo-fi beat with guitar"] * 20
    tok.train_from_iterator(corpus, trainers.UnigramTrainer(vocab_size=100, special_tokens=["<pad>", "</s>", "<unk>"],
                                                            unk_token="<unk>"))
    return T5TokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0)


def tiny_musicgen_build(path: Path, *, channels: int = 1, melody: bool = False) -> Path:
    """A tiny MusicGen, or with ``melody`` a tiny MusicGen-melody (chroma-conditioned), saved at ``path``."""
    import torch
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    torch.manual_seed(0)
    text = T5Config(vocab_size=256, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
    audio = EncodecConfig(
        sampling_rate=32000, audio_channels=1, hidden_size=32, num_filters=8, num_residual_layers=1,
        upsampling_ratios=[8, 5, 4, 4], codebook_size=64, codebook_dim=32, num_lstm_layers=1, target_bandwidths=[1.2],
    )
    # Stereo checkpoints interleave two codebook sets (one per channel) over a mono EnCodec.
    decoder_args = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, ffn_dim=64, num_attention_heads=4,
                        num_codebooks=4 * channels, audio_channels=channels, pad_token_id=64, bos_token_id=64,
                        initializer_factor=DECODER_INIT_STD)
    if melody:
        config = MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio,
                                      decoder=MusicgenMelodyDecoderConfig(**decoder_args), num_chroma=12,
                                      chroma_length=235)
        model = MusicgenMelodyForConditionalGeneration(config).eval()
    else:
        config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=MusicgenDecoderConfig(**decoder_args))
        model = MusicgenForConditionalGeneration(config).eval()
    for layer in model.audio_encoder.quantizer.layers:
        # EnCodec's codebooks start at zero (training fills them), which would decode every code
        # to the same sound; random ones make different codes sound different, as trained ones do.
        layer.codebook.embed.normal_()
        layer.codebook.embed_avg.copy_(layer.codebook.embed)
    gen = model.generation_config
    gen.decoder_start_token_id = gen.pad_token_id = 64
    gen.do_sample, gen.top_k, gen.guidance_scale, gen.max_length = True, 250, 3.0, 1500
    model.save_pretrained(path)

    tokenizer = _tokenizer()
    if melody:
        tokenizer.save_pretrained(path)
        (path / "preprocessor_config.json").write_text(json.dumps(MELODY_PREPROCESSOR, indent=2))
    else:
        MusicgenProcessor(EncodecFeatureExtractor(feature_size=channels, sampling_rate=32000),
                          tokenizer).save_pretrained(path)
    return path
