"""A terminal progress bar for the music commands (generate_music, run_journey)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def progress_bar(stderr, *, quiet: bool = False, width: int = 30) -> Callable[..., None]:
    """A progress callback (fraction, note, **extra) drawing a bar with an ETA on ``stderr``
    (a command's OutputWrapper); ``quiet`` draws nothing (the command prints JSON)."""
    started = time.monotonic()

    def bar(fraction: float, note: str = "", **extra) -> None:
        if quiet:
            return
        filled = int(width * fraction)
        eta = (time.monotonic() - started) * (1 - fraction) / fraction if fraction > 0.02 else None
        tail = f" ETA {eta:4.0f}s" if eta is not None else ""
        stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {note[:28]:<28}{tail}",
                     ending="")
        sys.stderr.flush()

    return bar
