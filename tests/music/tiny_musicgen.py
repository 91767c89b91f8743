"""Build a tiny randomly initialised MusicGen (+ processor) on disk, as STACK-NOTES describes."""

from __future__ import annotations

from pathlib import Path


def tiny_musicgen_build(path: Path, *, channels: int = 1) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        EncodecConfig, EncodecFeatureExtractor, MusicgenConfig, MusicgenDecoderConfig,
        MusicgenForConditionalGeneration, MusicgenProcessor, T5Config, T5TokenizerFast,
    )

    torch.manual_seed(0)
    text = T5Config(vocab_size=256, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
    audio = EncodecConfig(
        sampling_rate=32000, audio_channels=1, hidden_size=32, num_filters=8, num_residual_layers=1,
        upsampling_ratios=[8, 5, 4, 4], codebook_size=64, codebook_dim=32, num_lstm_layers=1, target_bandwidths=[1.2],
    )
    # Stereo checkpoints interleave two codebook sets (one per channel) over a mono EnCodec.
    decoder = MusicgenDecoderConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=2, ffn_dim=64, num_attention_heads=4,
        num_codebooks=4 * channels, audio_channels=channels, pad_token_id=64, bos_token_id=64,
    )
    config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    model = MusicgenForConditionalGeneration(config).eval()
    gen = model.generation_config
    gen.decoder_start_token_id = gen.pad_token_id = 64
    gen.do_sample, gen.top_k, gen.guidance_scale, gen.max_length = True, 250, 3.0, 1500
    model.save_pretrained(path)

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    corpus = ["calm ambient piano music", "soft warm pads 70 BPM", "gentle lo-fi beat with guitar"] * 20
    tok.train_from_iterator(corpus, trainers.UnigramTrainer(vocab_size=100, special_tokens=["<pad>", "</s>", "<unk>"],
                                                            unk_token="<unk>"))
    tokenizer = T5TokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                extra_ids=0)
    MusicgenProcessor(EncodecFeatureExtractor(feature_size=channels, sampling_rate=32000), tokenizer).save_pretrained(path)
    return path

