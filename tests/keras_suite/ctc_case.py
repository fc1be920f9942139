"""The toy CTC task of test_losses_ctc.py, built with Keras by scripts/make_keras_ctc_goldens.py and with
rnnkit by the test: `model(keras)` / `model(rnnkit)`.

Each sequence of 12 frames spells 1 to 3 symbols from {1, 2, 3}: a symbol's frames (2 or 3 in a row)
carry its one-hot code in features 1-3 plus noise, the frames between carry feature 0. The labels are
padded with 0, the blank. An LSTM reads the frames and a softmax Dense gives 4 scores per frame, taken
as logits by Keras's CTC.
"""

from __future__ import annotations

import numpy as np

STEPS, FEATURES, CLASSES, MAX_LABEL = 12, 4, 4, 3
BATCH, BATCHES = 8, 6  # one training step per batch


def data() -> dict:
    """x (BATCH * BATCHES, STEPS, FEATURES) float32, y (BATCH * BATCHES, MAX_LABEL) int labels, 0-padded,
    and per-sample weights."""
    rng = np.random.default_rng(11)
    n = BATCH * BATCHES
    x = np.zeros((n, STEPS, FEATURES), dtype="float32")
    y = np.zeros((n, MAX_LABEL), dtype="int64")
    for i in range(n):
        symbols = rng.integers(1, CLASSES, rng.integers(1, MAX_LABEL + 1))
        y[i, :len(symbols)] = symbols
        t = int(rng.integers(0, 2))
        x[i, :, 0] = 1.0
        for s in symbols:
            span = int(rng.integers(2, 4))
            x[i, t:t + span, 0], x[i, t:t + span, s] = 0.0, 1.0
            t += span + int(rng.integers(1, 2))
    x += rng.normal(0, 0.1, x.shape).astype("float32")
    return {"x": x, "y": y, "sample_weight": rng.uniform(0.5, 1.5, n).astype("float32")}


def model(k):
    """Input -> LSTM(16, return_sequences=True) -> Dense(CLASSES, softmax), built with `k` (keras or rnnkit)."""
    L = k.layers
    return k.Sequential([k.Input((STEPS, FEATURES)), L.LSTM(16, return_sequences=True),
                         L.Dense(CLASSES, activation="softmax")])
