"""Seed 002's full-size encoder-decoder script (4 x LSTM(40) encoder, 4 x LSTM(40) decoder unrolled for
150 steps, batches of 1000 five-feature sine waves): seconds per training batch, rnnkit vs Keras 3 (JAX)
building the same graph the same way. The script's epoch is 30 such batches."""

from __future__ import annotations

import os
import time

import numpy as np

HORIZON, LATENT, FEATURES = 150, 40, 5


def build(lib):
    """The seed's graph, written once for either library (`lib` gives Input, LSTM, Dense, Lambda, Model, K)."""
    Input, LSTM, Dense, Lambda, Model, K = lib
    encoder_inputs = Input(shape=(None, FEATURES))
    encoded = encoder_inputs
    for _ in range(3):
        encoded = LSTM(LATENT, return_sequences=True)(encoded)
    encoded = LSTM(LATENT, return_state=True)(encoded)
    encoder = Model(encoder_inputs, encoded)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = Input(shape=(1, FEATURES))
    lstms = [LSTM(LATENT, return_sequences=True, return_state=True) for _ in range(4)]
    dense = Dense(FEATURES)
    states = [[state_h, state_c], None, None, None]
    inputs, outs = decoder_inputs, []
    for _ in range(HORIZON):
        x = inputs
        for k, layer in enumerate(lstms):
            x, h, c = layer(x, initial_state=states[k]) if states[k] is not None else layer(x)
            states[k] = [h, c]
        inputs = dense(x)
        outs.append(inputs)
    outputs = Lambda(lambda x: K.concatenate(x, axis=1))(outs)
    model = Model([encoder_inputs, decoder_inputs], outputs)
    model.compile(loss="mean_squared_error", optimizer="adam")
    return model


def batch(n: int = 1000, history: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(history + HORIZON)[None, :, None]
    data = np.sin(t / rng.uniform(10, 30, (n, 1, FEATURES)) + rng.uniform(0, 1, (n, 1, FEATURES)))
    data = data.astype("float32")
    return [data[:, :history], data[:, history - 1:history]], data[:, history:]


def _time_batches(model, x, y, repeats: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    model.train_on_batch(x, y)  # the first call includes any compilation
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - t0)
    return first, float(np.median(times))


def bench_seed002(n: int = 1000, repeats: int = 2) -> dict:
    import rnnkit
    x, y = batch(n)
    t0 = time.perf_counter()
    model = build((rnnkit.Input, rnnkit.LSTM, rnnkit.Dense, rnnkit.Lambda, rnnkit.Model, rnnkit.backend))
    out = {"batch": n, "rnnkit_build_s": time.perf_counter() - t0}
    out["rnnkit_first_s"], out["rnnkit_batch_s"] = _time_batches(model, x, y, repeats)
    try:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        L = keras.layers
        t0 = time.perf_counter()
        km = build((keras.Input, L.LSTM, L.Dense, L.Lambda, keras.Model, keras.ops))
        out["keras_build_s"] = time.perf_counter() - t0
        out["keras_first_s"], out["keras_batch_s"] = _time_batches(km, x, y, repeats)
    except ImportError:
        out["keras_batch_s"] = None
    return out


def write(r: dict, path) -> None:
    import datetime
    import platform

    import torch
    per_epoch = lambda s: "n/a" if s is None else f"{30 * s:.0f} s"
    lines = [
        "# Seed 002's full-size script: rnnkit vs Keras 3 (JAX)", "",
        f"{datetime.date.today()}, {platform.machine()}, {torch.get_num_threads()} threads, PyTorch {torch.__version__}.",
        f"Batch of {r['batch']} sequences (history 300, horizon 150, 5 features), 4+4 x LSTM(40), the 150-step "
        "decoder unrolled in the graph as the script writes it. Median of repeated `train_on_batch` after the first.", "",
        "| | graph build (s) | first batch, incl. compile (s) | batch (s) | epoch = 30 batches | Keras / rnnkit |",
        "|---|---|---|---|---|---|",
        f"| rnnkit | {r['rnnkit_build_s']:.2f} | {r['rnnkit_first_s']:.1f} | {r['rnnkit_batch_s']:.2f} | "
        f"{per_epoch(r['rnnkit_batch_s'])} | 1.0 |",
    ]
    if r.get("keras_batch_s"):
        lines.append(f"| Keras 3 (JAX) | {r['keras_build_s']:.2f} | {r['keras_first_s']:.1f} | {r['keras_batch_s']:.2f} | "
                     f"{per_epoch(r['keras_batch_s'])} | {r['keras_batch_s'] / r['rnnkit_batch_s']:.2f} |")
    from pathlib import Path
    Path(path).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    from pathlib import Path
    result = bench_seed002()
    print(result)
    write(result, Path(__file__).parent / "RESULTS-seed002.md")
