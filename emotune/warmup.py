"""Engines loaded in the background when a process starts, so the first turn is not cold.

The server (``emotune/asgi.py``) and each worker (``emotune.worker``) start one
warm-up at boot when ``ENGINE_WARMUP`` is on: a daemon thread that runs the
steps the apps declare (``<app>.engines.warmup_steps(role)``) one after
another. Each step's state — ``loading``, ``ready`` or ``failed`` — is on
``/readyz`` (this process) and in the worker heartbeats. Code that needs an
engine while it is still loading asks :func:`warmup_pending`, tells its user,
and waits with :func:`warmup_wait`; an engine that was never part of a warm-up
is simply loaded on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

LOADING, READY, FAILED = "loading", "ready", "failed"

_lock = threading.Lock()
_state: dict[str, dict] = {}
_done: dict[str, threading.Event] = {}


def warmup_start(steps: list[tuple[str, Callable[[], object]]]) -> threading.Thread | None:
    """Run ``steps`` ((name, load) pairs) in order on a background thread; None when there are none."""
    steps = [(name, load) for name, load in steps if name not in _state]
    if not steps:
        return None
    with _lock:
        for name, _ in steps:
            _state[name] = {"state": LOADING, "seconds": None, "error": ""}
            _done[name] = threading.Event()

    def run() -> None:
        for name, load in steps:
            started = time.perf_counter()
            try:
                load()
                result = {"state": READY, "error": ""}
            except Exception as exc:  # the engine loads again on first use and fails there, visibly
                logger.warning("warm-up of %s failed", name, exc_info=True)
                result = {"state": FAILED, "error": type(exc).__name__}
            with _lock:
                _state[name] = {**result, "seconds": round(time.perf_counter() - started, 2)}
            _done[name].set()
            logger.info("warm-up: %s %s in %.1f s", name, result["state"], time.perf_counter() - started)

    thread = threading.Thread(target=run, name="emotune-warmup", daemon=True)
    thread.start()
    return thread


def warmup_state() -> dict[str, dict]:
    """{engine: {"state", "seconds", "error"}} for this process's warm-up ({} when none ran)."""
    with _lock:
        return {name: dict(value) for name, value in _state.items()}


def warmup_pending(names: list[str]) -> list[str]:
    """Those of ``names`` this process is still loading."""
    with _lock:
        return [name for name in names if _state.get(name, {}).get("state") == LOADING]


def warmup_wait(names: list[str], timeout: float | None = None) -> bool:
    """Block until ``names`` are loaded (or failed); False on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for name in names:
        event = _done.get(name)
        if event is None:
            continue
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not event.wait(left):
            return False
    return True


def warmup_reset() -> None:
    """Forget every warm-up (tests)."""
    with _lock:
        _state.clear()
        _done.clear()


def warmup_steps(role: str) -> list[tuple[str, Callable[[], object]]]:
    """The steps every app declares for ``role`` ("server" or "worker:<queue>")."""
    from importlib import import_module

    from django.apps import apps

    steps = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.engines")
        except ModuleNotFoundError:
            continue
        declare = getattr(module, "warmup_steps", None)
        if declare is not None:
            steps.extend(declare(role))
    return steps
