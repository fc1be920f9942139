"""The workloads, each measured for rnnkit and its peers in the same process."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit import LSTM, Dense, Input, Sequential, TimeDistributed
from rnnkit.data import bit_sums, create_dataset, windows
from rnnkit.generate import generate

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


def _bitsum_data():
    return bit_sums(1000, 20, cumulative=True, seed=0)


def bench_bitsum_epoch(repeats: int = 5) -> dict:
    """One training epoch of seed 004's running-sum model (1000 x 20 x 1, batch 32)."""
    x, y = _bitsum_data()
    torch.manual_seed(0)
    model = Sequential([Input((None, 1)), TimeDistributed(Dense(32)), LSTM(32, return_sequences=True),
                        TimeDistributed(Dense(1))])
    model.compile("adam", "mse")
    t_rnnkit = median_seconds(lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0), repeats)

    class Plain(torch.nn.Module):  # plain PyTorch as users write it
        def __init__(self):
            super().__init__()
            self.inp, self.lstm, self.out = torch.nn.Linear(1, 32), torch.nn.LSTM(32, 32, batch_first=True), \
                torch.nn.Linear(32, 1)

        def forward(self, x):
            return self.out(self.lstm(self.inp(x))[0])

    plain = Plain()
    opt = torch.optim.Adam(plain.parameters(), 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def plain_epoch():
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            loss = torch.nn.functional.mse_loss(plain(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    t_plain = median_seconds(plain_epoch, repeats)
    out = {"rnnkit_s": t_rnnkit, "plain_torch_s": t_plain}
    try:
        import os
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        km = keras.Sequential([keras.Input((None, 1)), keras.layers.TimeDistributed(keras.layers.Dense(32)),
                               keras.layers.LSTM(32, return_sequences=True),
                               keras.layers.TimeDistributed(keras.layers.Dense(1))])
        km.compile("adam", "mse")
        out["keras_jax_s"] = median_seconds(lambda: km.fit(x, y, batch_size=32, epochs=1, verbose=0), repeats)
    except ImportError:
        out["keras_jax_s"] = None
    return out


def bench_generation(series: int = 400, units: int = 128, features: int = 8, prime: int = 256,
                     steps: int = 150, repeats: int = 3) -> dict:
    """W5b: prime on 256 steps, generate 150 with feedback, 400 series, LSTM(128) x 2."""
    torch.manual_seed(0)
    model = Sequential([Input((None, features)), LSTM(units, return_sequences=True),
                        LSTM(units, return_sequences=True), Dense(features)])
    x = np.random.default_rng(0).normal(size=(series, prime, features)).astype(np.float32)
    t_rnnkit = median_seconds(lambda: generate(model, x, steps), repeats)

    def eager_loop():  # plain PyTorch per step: model(x) on the last output, states carried by hand
        l1, l2 = torch.nn.LSTM(features, units, batch_first=True), torch.nn.LSTM(units, units, batch_first=True)
        head = torch.nn.Linear(units, features)
        with torch.no_grad():
            h, s1 = l1(torch.from_numpy(x))
            h, s2 = l2(h, None)
            last = head(h[:, -1:])
            for _ in range(steps - 1):
                h, s1 = l1(last, s1)
                h, s2 = l2(h, s2)
                last = head(h)

    t_eager = median_seconds(eager_loop, repeats)

    def predict_per_step():  # the seeds' loop: a stateful model, model.predict once per new step
        stateful = Sequential([Input((None, features), batch_size=series),
                               LSTM(units, return_sequences=True, stateful=True),
                               LSTM(units, return_sequences=True, stateful=True), Dense(features)])
        stateful.load_state_dict(model.state_dict())
        last = stateful.predict(x, batch_size=series)[:, -1:]
        for _ in range(steps - 1):
            last = stateful.predict(last, batch_size=series)

    t_predict = median_seconds(predict_per_step, repeats)
    return {"rnnkit_generate_s": t_rnnkit, "eager_torch_loop_s": t_eager, "rnnkit_predict_per_step_s": t_predict}
