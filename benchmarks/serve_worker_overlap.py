"""Can the serve worker overlap a batch's model step with another batch's commit? (benchmarks/NOTES.md)

    python benchmarks/serve_worker_overlap.py

Times, for 8,000 series of LSTM(64) x 2 (benchmarks/serve.py's model) on one PyTorch thread: the model
step alone, the SQLite commit plus its fdatasync alone, and both at once in two threads (a pipelined
worker's best case). Prints ms per batch; nothing is written but a temporary store.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.serve import FEATURES, build_model  # noqa: E402
from rnnkit import load_model  # noqa: E402
from rnnkit.serve import Engine, SQLiteStore  # noqa: E402

ROWS, REPEATS = 8000, 20


def main() -> None:
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="rnnkit-overlap-"))
    engine = Engine(load_model(build_model(folder)), threads=1)
    store = SQLiteStore(folder / "states.sqlite")
    store.check(engine.signature(), engine.width, engine.outputs)
    ids = [f"s{i}" for i in range(ROWS)]
    x = np.random.default_rng(0).random((ROWS, FEATURES), dtype=np.float32)

    def step() -> None:
        states = engine.zeros(ROWS)
        for _ in range(REPEATS):
            engine.step(x, states)

    def commit() -> None:
        records = store.rows(ids)
        for _ in range(REPEATS):
            at = records["step"].copy()
            records["step"] += 1
            store.commit(ids, at, records)
            store.sync()

    for name, work in (("model step", step), ("commit + fdatasync", commit)):
        started = time.perf_counter()
        work()
        print(f"{name}: {(time.perf_counter() - started) / REPEATS * 1e3:.1f} ms per {ROWS} series")
    threads = [threading.Thread(target=step), threading.Thread(target=commit)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"both at once, two threads: {(time.perf_counter() - started) / REPEATS * 1e3:.1f} ms per pair")
    store.close()


if __name__ == "__main__":
    main()
