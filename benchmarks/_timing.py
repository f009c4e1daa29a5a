"""Timing helper shared by the benchmark scripts (imported as ``_timing`` from this folder)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["best_of"]


def best_of(repeat: int, function: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` calls of ``function``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
