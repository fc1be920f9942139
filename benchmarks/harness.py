"""Timing helpers: warm-up, repeats under a time budget, medians, latency percentiles, peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Callable

import numpy as np


def _times(fn: Callable[[], object], repeats: int, warmup: int, budget_s: float) -> list[float]:
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return times


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, budget_s: float = 120.0) -> float:
    """Median wall time of `fn` after `warmup` calls; fewer repeats once `budget_s` is spent (at least one)."""
    return statistics.median(_times(fn, repeats, warmup, budget_s))


def _summary(times: list[float], first: float | None) -> dict:
    # "s" is the best repeat: on a shared machine noise only ever adds time, so the minimum is the
    # steadiest estimate of what the code costs (timeit's rule); the median is kept beside it.
    return {"s": min(times), "median_s": statistics.median(times), "repeats": len(times), "first_s": first}


def timed(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, budget_s: float = 120.0) -> dict:
    """Best and median seconds, plus the first call's time when there is a warm-up (compile, first trace)."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    first = time.perf_counter() - t0 if warmup else None
    return _summary(_times(fn, repeats, 0, budget_s), first)


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 7, budget_s: float = 180.0) -> dict:
    """Best and median time of each callable, timed round-robin (a, b, c, a, b, c, ...) after one warm-up each,
    so that a slow spell of a shared machine falls on every peer alike, not on whichever ran then."""
    first = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in fns}
    start = time.perf_counter()
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return {name: _summary(t, first[name]) for name, t in times.items()}


def latencies(step: Callable[[int], object], n: int = 400, warmup: int = 20) -> dict:
    """p50/p99/max of one call, over n calls (the argument is the call's number)."""
    for k in range(warmup):
        step(k)
    ts = np.empty(n)
    for k in range(n):
        t0 = time.perf_counter()
        step(k)
        ts[k] = time.perf_counter() - t0
    return {"p50_s": float(np.percentile(ts, 50)), "p99_s": float(np.percentile(ts, 99)), "max_s": float(ts.max())}


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


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The FLOP floor's denominator: a large float32 matrix product on this CPU, in GFLOP/s."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n ** 3 / min(_times(lambda: a @ b, repeats, 1, 60.0)) / 1e9


def run_keras(backend: str, workload: str, timeout_s: float = 900.0) -> dict:
    """Run one Keras workload in a fresh process (Keras picks its backend once, at import)."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "benchmarks.peers_keras", workload]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:200]}
    return json.loads(lines[-1])
