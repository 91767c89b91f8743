"""Build a tiny randomly initialised CosyVoice2 model directory through the upstream classes.

The layout is the released ``CosyVoice2-0.5B`` one, so ``voicechat.tts.cosyvoice2_load`` reads it
unchanged: ``cosyvoice2.yaml`` (upstream's ``examples/libritts/cosyvoice2/conf/cosyvoice2.yaml``
with the same classes and shrunk dimensions), ``CosyVoice-BlankEN/`` (a Qwen2 causal LM and its
tokenizer), ``llm.pt`` / ``flow.pt`` / ``hift.pt`` (state dicts of the instantiated ``Qwen2LM``,
``CausalMaskedDiffWithXvec`` and ``HiFTGenerator``), and the two ONNX frontends
``campplus.onnx`` (fbank [1, T, 80] -> speaker embedding [1, 192]) and ``speech_tokenizer_v2.onnx``
(whisper log-mel [1, 128, T] + length [1] -> 25 Hz speech tokens [1, T/4]), exported from small
torch nets with the names upstream's files carry.

Runs only where the upstream code is importable (``.venv-gpu``). The weights are random: the
speech is noise, but every tensor goes through the code path the released weights take.
"""

from __future__ import annotations

from pathlib import Path

SPEECH_TOKENS = 64  # upstream: 6561
LLM_DIM = 64  # upstream: 896 (Qwen2.5-0.5B)

YAML = """\
# A tiny CosyVoice2: upstream's cosyvoice2.yaml with the same classes and shrunk dimensions.
__set_seed1: !apply:random.seed [1986]
__set_seed3: !apply:torch.manual_seed [1986]

sample_rate: 24000
llm_input_size: {llm_dim}
llm_output_size: {llm_dim}
spk_embed_dim: 192
qwen_pretrain_path: ''
token_frame_rate: 25
token_mel_ratio: 2

llm: !new:cosyvoice.llm.llm.Qwen2LM
    llm_input_size: !ref <llm_input_size>
    llm_output_size: !ref <llm_output_size>
    speech_token_size: {speech_tokens}
    length_normalized_loss: True
    lsm_weight: 0
    mix_ratio: [5, 15]
    llm: !new:cosyvoice.llm.llm.Qwen2Encoder
        pretrain_path: !ref <qwen_pretrain_path>
    sampling: !name:cosyvoice.utils.common.ras_sampling
        top_p: 0.8
        top_k: 25
        win_size: 10
        tau_r: 0.1

flow: !new:cosyvoice.flow.flow.CausalMaskedDiffWithXvec
    input_size: 512  # upstream's UpsampleConformerEncoder hard-codes 512 channels in its lookahead and upsampling
    output_size: 80
    spk_embed_dim: !ref <spk_embed_dim>
    output_type: 'mel'
    vocab_size: {speech_tokens}
    input_frame_rate: !ref <token_frame_rate>
    only_mask_loss: True
    token_mel_ratio: !ref <token_mel_ratio>
    pre_lookahead_len: 3
    encoder: !new:cosyvoice.transformer.upsample_encoder.UpsampleConformerEncoder
        output_size: 512
        attention_heads: 2
        linear_units: 64
        num_blocks: 1
        dropout_rate: 0.1
        positional_dropout_rate: 0.1
        attention_dropout_rate: 0.1
        normalize_before: True
        input_layer: 'linear'
        pos_enc_layer_type: 'rel_pos_espnet'
        selfattention_layer_type: 'rel_selfattn'
        input_size: 512
        use_cnn_module: False
        macaron_style: False
        use_dynamic_chunk: True
    decoder: !new:cosyvoice.flow.flow_matching.CausalConditionalCFM
        in_channels: 240
        n_spks: 1
        spk_emb_dim: 80
        cfm_params: !new:omegaconf.DictConfig
            content:
                sigma_min: 1e-06
                solver: 'euler'
                t_scheduler: 'cosine'
                training_cfg_rate: 0.2
                inference_cfg_rate: 0.7
                reg_loss_type: 'l1'
        estimator: !new:cosyvoice.flow.decoder.CausalConditionalDecoder
            in_channels: 320
            out_channels: 80
            channels: [32]
            dropout: 0.0
            attention_head_dim: 16
            n_blocks: 1
            num_mid_blocks: 1
            num_heads: 2
            act_fn: 'gelu'
            static_chunk_size: !ref <token_frame_rate> * <token_mel_ratio>
            num_decoding_left_chunks: 2

hift: !new:cosyvoice.hifigan.generator.HiFTGenerator
    in_channels: 80
    base_channels: 32
    nb_harmonics: 8
    sampling_rate: !ref <sample_rate>
    nsf_alpha: 0.1
    nsf_sigma: 0.003
    nsf_voiced_threshold: 10
    upsample_rates: [8, 5, 3]
    upsample_kernel_sizes: [16, 11, 7]
    istft_params:
        n_fft: 16
        hop_len: 4
    resblock_kernel_sizes: [3, 7, 11]
    resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    source_resblock_kernel_sizes: [7, 7, 11]
    source_resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    lrelu_slope: 0.1
    audio_limit: 0.99
    f0_predictor: !new:cosyvoice.hifigan.f0_predictor.ConvRNNF0Predictor
        num_class: 1
        in_channels: 80
        cond_channels: 32

get_tokenizer: !name:cosyvoice.tokenizer.tokenizer.get_qwen_tokenizer
    token_path: !ref <qwen_pretrain_path>
    skip_special_tokens: True
allowed_special: 'all'
feat_extractor: !name:matcha.utils.audio.mel_spectrogram
    n_fft: 1920
    num_mels: 80
    sampling_rate: !ref <sample_rate>
    hop_size: 480
    win_size: 1920
    fmin: 0
    fmax: 8000
    center: False
"""

CORPUS = [
    "he was not an ill disposed young man", "hello there, how are you today?",
    "take a slow breath with me. you are doing well.", "I am here and I am listening.",
    # What the tests say: whole words become single tokens, so a sentence is a few tokens long.
    "Take a slow breath with me.", "You are doing well.", "Going forward sounds good. Take it slowly.", "Hi.",
]


def _qwen_dir(path: Path) -> None:
    """A tiny Qwen2 causal LM with a byte-level BPE tokenizer, where upstream has CosyVoice-BlankEN."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 10, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.save_pretrained(path)
    # upstream's QwenTokenizer adds 20 special tokens on load; the embedding table covers them.
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=512, hidden_size=LLM_DIM, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True)
    Qwen2ForCausalLM(config).eval().save_pretrained(path)


def _export_onnx(path: Path) -> None:
    import torch

    class CampPlus(torch.nn.Module):  # fbank [B, T, 80] -> embedding [B, 192]
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(80, 192)

        def forward(self, feats):
            return torch.tanh(self.proj(feats)).mean(dim=1)

    class SpeechTokenizer(torch.nn.Module):  # log-mel [B, 128, T] at 100 Hz -> tokens [B, T/4] at 25 Hz
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(128, SPEECH_TOKENS, kernel_size=4, stride=4)

        def forward(self, feats, feats_length):
            tokens = self.conv(feats).argmax(dim=1).to(torch.int32)
            return tokens[:, : feats_length[0].long() // 4]

    torch.manual_seed(1)
    torch.onnx.export(CampPlus().eval(), (torch.randn(1, 200, 80),), str(path / "campplus.onnx"),
                      input_names=["input"], output_names=["output"], dynamo=False,
                      dynamic_axes={"input": {0: "B", 1: "T"}, "output": {0: "B"}})
    torch.onnx.export(SpeechTokenizer().eval(), (torch.randn(1, 128, 300), torch.tensor([300], dtype=torch.int32)),
                      str(path / "speech_tokenizer_v2.onnx"), input_names=["feats", "feats_length"],
                      output_names=["indices"], dynamo=False,
                      dynamic_axes={"feats": {0: "B", 2: "T"}, "feats_length": {0: "B"}, "indices": {0: "B", 1: "T4"}})


def tiny_cosyvoice2_build(path: Path) -> Path:
    """Write a tiny random CosyVoice2 model directory at ``path`` (created) and return it."""
    import torch
    from hyperpyyaml import load_hyperpyyaml

    path.mkdir(parents=True, exist_ok=True)
    (path / "cosyvoice2.yaml").write_text(YAML.format(llm_dim=LLM_DIM, speech_tokens=SPEECH_TOKENS))
    _qwen_dir(path / "CosyVoice-BlankEN")
    with open(path / "cosyvoice2.yaml") as fh:
        configs = load_hyperpyyaml(fh, overrides={"qwen_pretrain_path": str(path / "CosyVoice-BlankEN")})
    llm = configs["llm"]
    with torch.no_grad():
        # A random decoder ends a sentence after ~1/67 steps; a trained one speaks the text out.
        # Lowering the stop tokens' logits makes the tiny LLM run to its length limit (20 speech
        # tokens per text token), so a sentence is long enough to stream several chunks.
        llm.llm_decoder.bias[SPEECH_TOKENS:] = -1e4
    torch.save(llm.state_dict(), path / "llm.pt")
    torch.save(configs["flow"].state_dict(), path / "flow.pt")
    torch.save(configs["hift"].state_dict(), path / "hift.pt")
    _export_onnx(path)
    return path


if __name__ == "__main__":
    import sys

    print(tiny_cosyvoice2_build(Path(sys.argv[1])))
