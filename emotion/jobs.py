"""Jobs for emotion readings (run by a worker on the gpu queue, or in-process when embedded)."""

from __future__ import annotations

from emotion.models import EmotionReading
from emotion.services import reading_analyse


def reading_run(row: EmotionReading, progress) -> None:
    reading_analyse(reading=row, progress=progress)


def engines_warmup_run() -> list[str]:
    """Queue entry for the page's warm-up action: loads the models in the worker that runs it."""
    from emotion.engines import engines_warmup

    return engines_warmup()
