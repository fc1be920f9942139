"""Can the serve worker overlap a batch's model step with another batch's commit? (benchmarks/NOTES.md)

    python benchmarks/serve_worker_overlap.py

Times, for 8,000 series of LSTM(64) x 2 on one PyTorch thread: the model step alone, the SQLite commit
plus its fdatasync alone, and both at once in two threads (a pipelined worker's best case). Prints ms
per batch; nothing is written but a temporary store.
"""
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(1)
from benchmarks import serve as B
from rnnkit import load_model
from rnnkit.serve import Engine, SQLiteStore
folder = Path(tempfile.mkdtemp()); m = B.build_model(folder)
eng = Engine(load_model(m), threads=1)
store = SQLiteStore(folder / "s.sqlite"); store.check(eng.signature(), eng.width, eng.outputs)
N = 8000
ids_b = [f"b{i}" for i in range(N)]
x = np.random.rand(N, 8).astype(np.float32)
def compute(k):
    st = eng.zeros(N)
    for _ in range(k): y, s = eng.step(x, st)
def commit(k):
    rec = store.rows(ids_b)
    for _ in range(k):
        at = rec["step"].copy(); rec["step"] += 1
        store.commit(ids_b, at, rec); store.sync()
K = 20
for name, f in [("compute", compute), ("commit", commit)]:
    t = time.perf_counter(); f(K); print(name, f"{(time.perf_counter()-t)/K*1e3:.1f} ms per {N}")
t = time.perf_counter()
th = [threading.Thread(target=compute, args=(K,)), threading.Thread(target=commit, args=(K,))]
[a.start() for a in th]; [a.join() for a in th]
print("both concurrently", f"{(time.perf_counter()-t)/K*1e3:.1f} ms per pair")
