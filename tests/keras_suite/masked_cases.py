"""The masked models and data of test_masked_loss_and_metrics.py, built with Keras by
scripts/make_keras_masked_goldens.py and with rnnkit by the test: `models(keras)` / `models(rnnkit)`."""

from __future__ import annotations

import numpy as np

LENGTHS = [6, 5, 4, 3, 2, 1, 6, 3, 5, 2]


def data() -> dict:
    """Padded id sequences and their float form (0 = padding), targets and per-step weights."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, size=(len(LENGTHS), 6))
    for i, n in enumerate(LENGTHS):
        ids[i, n:] = 0
    frames = rng.normal(size=(len(LENGTHS), 6, 3)).astype("float32") * (ids[..., None] != 0)
    return {"ids": ids, "frames": frames,
            "y_regression": rng.normal(size=(len(LENGTHS), 6, 2)).astype("float32"),
            "y_classes": rng.integers(0, 3, size=(len(LENGTHS), 6)),
            "y_single": rng.normal(size=(len(LENGTHS), 6, 1)).astype("float32"),
            "step_weight": rng.uniform(0.2, 2.0, size=(len(LENGTHS), 6)).astype("float32")}


def models(k) -> dict:
    """The cases, built with `k` (keras or rnnkit): (model, x, y, loss, metrics, loss_weights)."""
    L = k.layers
    embedded = k.Sequential([k.Input((6,)), L.Embedding(20, 4, mask_zero=True), L.LSTM(5, return_sequences=True),
                             L.TimeDistributed(L.Dense(2))])
    masked = k.Sequential([k.Input((6, 3)), L.Masking(0.0), L.GRU(4, return_sequences=True),
                           L.Dense(3, activation="softmax")])
    ids = k.Input((6,))
    h = L.LSTM(5, return_sequences=True)(L.Embedding(20, 4, mask_zero=True)(ids))
    two_heads = k.Model(ids, [L.Dense(1, name="level")(h), L.Dense(2, name="pair")(h)])
    return {"embedding_lstm_timedistributed": (embedded, "ids", "y_regression", "mse", ["mae"], None),
            "masking_gru_sparse": (masked, "frames", "y_classes", "sparse_categorical_crossentropy",
                                   ["accuracy"], None),
            "functional_two_outputs": (two_heads, "ids", ["y_single", "y_regression"], ["mse", "mae"],
                                       [["mae"], ["mse"]], [0.5, 2.0])}
