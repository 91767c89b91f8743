"""A per-process cache of loaded models.

Engines are loaded on first use (never at import of web code) and kept for the
life of the process, so a worker pays for loading once. ``loaded_names`` feeds
the worker heartbeat and ``manage.py emotune_models``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

_cache: dict[str, object] = {}
_lock = threading.Lock()


def engine_get(key: str, factory: Callable[[], T]) -> T:
    """Return the engine cached under ``key``, building it with ``factory`` once."""
    engine = _cache.get(key)
    if engine is not None:
        return engine  # type: ignore[return-value]
    with _lock:
        engine = _cache.get(key)
        if engine is None:
            started = time.perf_counter()
            engine = factory()
            logger.info("engine %s loaded in %.2f s", key, time.perf_counter() - started)
            _cache[key] = engine
    return engine  # type: ignore[return-value]


def loaded_names() -> list[str]:
    return sorted(_cache)


def engines_clear() -> None:
    with _lock:
        _cache.clear()
