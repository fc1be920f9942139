"""Run the benchmarks and write benchmarks/RESULTS.md."""

from __future__ import annotations

import datetime
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from . import workloads


def _fmt(v):
    return "n/a" if v is None else f"{v:.4g}"


def main() -> int:
    print("windows ...", flush=True)
    w = workloads.bench_windows()
    print(w, flush=True)
    print("bit-sum epoch ...", flush=True)
    b = workloads.bench_bitsum_epoch()
    print(b, flush=True)
    print("generation ...", flush=True)
    g = workloads.bench_generation()
    print(g, flush=True)
    try:
        import keras
        keras_version = keras.__version__
    except ImportError:
        keras_version = "not installed"
    lines = [
        "# Benchmark results", "",
        f"{datetime.date.today()}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"Python {sys.version.split()[0]}, PyTorch {torch.__version__}, NumPy {np.__version__}, Keras {keras_version}.",
        "Median of repeated runs after a warm-up; every peer measured in the same process.", "",
        "## windows: 10M-step series, look_back 64", "",
        "| | time (s) | peak memory (MiB) |", "|---|---|---|",
        f"| rnnkit `windows`, 10M steps | {_fmt(w['windows_10M_s'])} | {_fmt(w['windows_10M_peak_MB'])} |",
        f"| rnnkit `windows`, 1M steps | {_fmt(w['windows_1M_s'])} | |",
        f"| seeds' `create_dataset` loop, 1M steps | {_fmt(w['create_dataset_1M_s'])} | "
        f"{_fmt(w['create_dataset_1M_peak_MB'])} |", "",
        f"Same length (1M): `windows` is {w['speedup_same_length_1M']:.0f}x faster. The loop was measured on "
        f"1M steps only (on 10M its output alone would need ~2.4 GiB); the series itself is "
        f"{w['series_10M_MB']:.0f} MiB and `windows` allocates no copy of it.", "",
        "## Bit-sum training epoch (1000 x 20 x 1, Dense(32) -> LSTM(32, return_sequences) -> Dense(1), batch 32)", "",
        "| | time (ms) | peer / rnnkit |", "|---|---|---|",
        f"| rnnkit | {b['rnnkit_s'] * 1e3:.1f} | 1.0 |",
        f"| plain PyTorch (nn.LSTM, hand loop) | {b['plain_torch_s'] * 1e3:.1f} | {b['plain_torch_s'] / b['rnnkit_s']:.2f} |",
    ]
    if b["keras_jax_s"] is not None:
        lines.append(f"| Keras 3 (JAX) | {b['keras_jax_s'] * 1e3:.1f} | {b['keras_jax_s'] / b['rnnkit_s']:.2f} |")
    else:
        lines.append("| Keras 3 (JAX) | not installed (`pip install -e .[bench]`) | |")
    lines += [
        "", "FLOP floor: training ~24*B*H*(F+H) FLOP per layer per step = "
        f"{24 * 1000 * 20 * 32 * (32 + 32) / 1e9:.2f} GFLOP per epoch for the LSTM layer.", "",
        "## Generation (400 series, LSTM(128) x 2, F 8, prime 256 steps, generate 150)", "",
        "| | time (s) | peer / rnnkit |", "|---|---|---|",
        f"| rnnkit `generate` | {_fmt(g['rnnkit_generate_s'])} | 1.0 |",
        f"| eager PyTorch per-step loop (nn.LSTM, states by hand) | {_fmt(g['eager_torch_loop_s'])} | "
        f"{g['eager_torch_loop_s'] / g['rnnkit_generate_s']:.2f} |",
        f"| seeds' loop: stateful model, `predict` per step (rnnkit) | {_fmt(g['rnnkit_predict_per_step_s'])} | "
        f"{g['rnnkit_predict_per_step_s'] / g['rnnkit_generate_s']:.2f} |", "",
    ]
    path = Path(__file__).parent / "RESULTS.md"
    path.write_text("\n".join(lines))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
