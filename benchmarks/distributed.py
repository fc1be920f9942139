"""Distributed fit throughput: the same training (global batch 64, LSTM(64) x 2 on 50 x 8 windows) on 1
process and on 2 processes under torchrun (gloo on the CPU, NCCL on a GPU), 1 thread per process, and on 1 process
with 2 threads (what the same 2 cores give without torch.distributed).

    python -m benchmarks.distributed            # writes benchmarks/RESULTS-distributed.md

Each run times 3 epochs after a warm-up epoch on rank 0 (every rank is in step: the gradient all-reduce
synchronises them every batch) and reports samples per second; efficiency = speed-up / processes.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rnnkit.training.distributed import torchrun_command

HERE = Path(__file__).resolve().parent
SAMPLES, TIME_STEPS, FEATURES, BATCH, EPOCHS = 2048, 50, 8, 64, 3


def job(out: str) -> None:
    """What each process runs (python -m benchmarks.distributed --job OUT)."""
    import numpy as np
    import torch

    from rnnkit import LSTM, Dense, Input, Sequential
    from rnnkit.training import distributed

    torch.set_num_threads(int(os.environ.get("RNNKIT_BENCH_THREADS", "1")))
    distributed.initialize()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = Sequential([Input((TIME_STEPS, FEATURES)), LSTM(64, return_sequences=True), LSTM(64), Dense(1)]).to(device)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, TIME_STEPS, FEATURES)).astype("float32")
    y = x.mean(axis=(1, 2))[:, None]
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    if distributed.is_main():
        Path(out).write_text(json.dumps({"processes": distributed.world_size(), "threads": torch.get_num_threads(),
                                         "seconds": seconds,
                                         "samples_per_s": SAMPLES * EPOCHS / seconds, "device": device}))


def measure(processes: int, threads: int = 1) -> dict:
    out = Path(tempfile.mkdtemp()) / "result.json"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "RNNKIT_BENCH_THREADS": str(threads)}
    launcher = [sys.executable] if processes == 1 else torchrun_command(processes)
    cmd = [*launcher, str(Path(__file__)), "--job", str(out)]  # torchrun takes a script path
    subprocess.run(cmd, env=env, check=True, cwd=HERE.parent, timeout=1800)
    return json.loads(out.read_text())


def main() -> int:
    rows = []
    for processes, threads in ((1, 1), (2, 1), (1, 2)):
        print(f"timing {processes} process(es) x {threads} thread(s) ...", flush=True)
        rows.append(measure(processes, threads))
    base = rows[0]["samples_per_s"]
    lines = ["# Distributed fit throughput", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores ({platform.platform()}), device "
             f"{rows[0]['device']}. Workload: LSTM(64) x 2 + Dense(1), {SAMPLES} windows of {TIME_STEPS} x "
             f"{FEATURES}, global batch {BATCH}, Adam, {EPOCHS} timed epochs after one warm-up epoch.", "",
             "| processes x threads | samples/s | speed-up vs 1 x 1 | efficiency per core |", "|---|---|---|---|"]
    for r in rows:
        speed = r["samples_per_s"] / base
        cores = r["processes"] * r["threads"]
        lines.append(f"| {r['processes']} x {r['threads']} | {r['samples_per_s']:.0f} | {speed:.2f}x | "
                     f"{speed / cores:.0%} |")
    text = "\n".join(lines) + "\n"
    (HERE / "RESULTS-distributed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--job":
        sys.path.insert(0, str(HERE.parent))
        job(sys.argv[2])
    else:
        sys.exit(main())
