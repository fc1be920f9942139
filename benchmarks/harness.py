"""Timing helpers: warm-up, repeats, medians; peak memory of NumPy allocations via tracemalloc."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from typing import Callable


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak traced allocation while `fn` runs (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak
