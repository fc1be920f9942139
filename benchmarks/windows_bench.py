"""windows() against the seeds' create_dataset loop: time and peak memory."""

from __future__ import annotations

import numpy as np

from rnnkit.data import create_dataset, windows

from .harness import median_seconds, peak_bytes


def bench_windows(n_rnnkit: int = 10_000_000, n_loop: int = 1_000_000, look_back: int = 64) -> dict:
    """windows() vs the seeds' create_dataset loop (the loop measured on a 10x shorter series)."""
    big = np.random.default_rng(0).random((n_rnnkit, 1)).astype(np.float32)
    small = big[:n_loop]
    t_view = median_seconds(lambda: windows(big, look_back), repeats=5)
    t_view_small = median_seconds(lambda: windows(small, look_back), repeats=5)
    mem_view = peak_bytes(lambda: windows(big, look_back))
    t_loop = median_seconds(lambda: create_dataset(small, look_back), repeats=1, warmup=0)
    mem_loop = peak_bytes(lambda: create_dataset(small, look_back))
    return {"windows_10M_s": t_view, "windows_1M_s": t_view_small, "windows_10M_peak_MB": mem_view / 2**20,
            "create_dataset_1M_s": t_loop, "create_dataset_1M_peak_MB": mem_loop / 2**20,
            "series_10M_MB": big.nbytes / 2**20, "speedup_same_length_1M": t_loop / t_view_small}
