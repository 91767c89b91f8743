"""Start-up checks for the music engines (registered in MusicConfig.ready)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning


def music_engine_ready(app_configs, **kwargs):
    problems = []
    engine, model = settings.MUSIC_ENGINE, settings.MUSICGEN_MODEL
    if engine == "audiocraft":
        from music.params import audiocraft_available

        if not audiocraft_available():
            problems.append(Error("MUSIC_ENGINE=audiocraft but audiocraft is not importable "
                                  "(pip install --no-deps audiocraft==1.3.0, see README).", id="music.E001"))
    if engine in ("musicgen", "audiocraft") and not (Path(model) / "config.json").exists():
        if model.startswith(("/", ".")):
            problems.append(Error(f"MUSICGEN_MODEL {model} has no config.json.", id="music.E002"))
        else:
            problems.append(Warning(f"MUSICGEN_MODEL {model} is a hub id: it downloads on first use, which fails "
                                    "where the Hugging Face hub is unreachable.", id="music.W001"))
    return problems
