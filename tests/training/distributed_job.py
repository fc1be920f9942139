"""A training job run by tests/training/test_distributed.py, once under torchrun with 2 ranks and once
as one plain process; it writes what each case ended with to OUT/<case>-rank<r>.npz.

Cases (50 optimizer steps each, global batch 32):
  stateless: shuffle=False;  shuffled: shuffle=True, seed=7;  stateful: stateful LSTM, batch 32, row i
  continuing row i;  resume: 25 steps, save, load (in the other world size when the test asks), 25 more.
"""

import os
import sys

import numpy as np
import torch

import rnnkit
from rnnkit import LSTM, Dense, Input, Sequential
from rnnkit.training import distributed


def _data(n=320, t=6, f=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, t, f)).astype("float32")
    # Each sample records its own row number in its first feature, so a rank can report which rows it saw.
    x[:, :, 0] = np.arange(n, dtype="float32")[:, None] / n
    return x, x[:, :, 1:].sum(axis=(1, 2))[:, None] * 0.1


def _model(stateful=False):
    torch.manual_seed(1)
    if stateful:
        layers = [Input(batch_shape=(32, 6, 3)), LSTM(8, stateful=True), Dense(1)]
    else:
        layers = [Input((6, 3)), LSTM(8), Dense(1)]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="mse", metrics=["mae", "r2_score"])  # a mean and a summed state
    return model


def _record(model, seen):
    """Wrap train_step to note the rows of every batch this rank trains on."""
    step = model.train_step

    def train_step(data):
        seen.append(np.rint(data[0][:, 0, 0].detach().cpu().numpy() * 320).astype(int))
        return step(data)
    model.train_step = train_step


def main(out, resume_from=None):
    torch.set_num_threads(1)
    distributed.initialize()
    r = distributed.rank()
    x, y = _data()
    results = {}
    for case in ("stateless", "shuffled", "stateful"):
        model = _model(stateful=case == "stateful")
        seen = []
        _record(model, seen)
        h = model.fit(x, y, batch_size=32, epochs=5, shuffle=case == "shuffled", seed=7, verbose=0,
                      validation_data=(x[:64], y[:64]))
        results[case] = dict(weights=[p.detach().numpy() for p in model.parameters()], loss=h.history["loss"],
                             val_loss=h.history["val_loss"], mae=h.history["mae"], r2=h.history["r2_score"],
                             val_r2=h.history["val_r2_score"], rows=np.concatenate(seen))
        if case == "stateful":
            results[case]["states"] = [s.numpy() for s in model.layers[0].states]
    # A generator: each rank yields its own share of every batch of 32 (one process: the whole batch).
    share, part = 32 // distributed.world_size(), distributed.rank()

    def batches():
        for start in range(0, 320, 32):
            rows = slice(start + part * share, start + (part + 1) * share)
            yield x[rows], y[rows]
    model = _model()
    model.fit((b for _ in range(5) for b in batches()), steps_per_epoch=10, epochs=5, verbose=0)
    results["generator"] = dict(weights=[p.detach().numpy() for p in model.parameters()])
    # Resume: 25 steps here and a checkpoint; then, from the checkpoint written by the other world size
    # (if given), 25 more.
    model = _model(stateful=True)
    model.fit(x[:160], y[:160], batch_size=32, epochs=5, shuffle=False, verbose=0)
    model.save(os.path.join(out, f"half-{distributed.world_size()}.rnnkit"))
    if resume_from is not None:
        resumed = rnnkit.load(resume_from)
        resumed.fit(x[160:], y[160:], batch_size=32, epochs=5, shuffle=False, verbose=0)
        results["resume"] = dict(weights=[p.detach().numpy() for p in resumed.parameters()],
                                 states=[s.numpy() for s in resumed.layers[0].states])
    model.fit(x[160:], y[160:], batch_size=32, epochs=5, shuffle=False, verbose=0)
    results["straight"] = dict(weights=[p.detach().numpy() for p in model.parameters()],
                               states=[s.numpy() for s in model.layers[0].states])
    flat = {f"{case}/{k}/{i}" if isinstance(v, list) else f"{case}/{k}": (w if isinstance(v, list) else v)
            for case, d in results.items() for k, v in d.items()
            for i, w in (enumerate(v) if isinstance(v, list) else [(0, v)])}
    np.savez(os.path.join(out, f"result-{distributed.world_size()}-rank{r}.npz"), **flat)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
