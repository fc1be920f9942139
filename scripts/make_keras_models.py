"""Generate tests/fixtures/keras_models/: small Keras 3 models saved as .keras and legacy .h5, with
fixed inputs and Keras's outputs on them, for the `rnnkit.load_keras` parity tests.

Needs the optional extra: `pip install -e ".[keras]"` (Keras 3 on JAX). The tests only read the files.
Run: python scripts/make_keras_models.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

L = keras.layers
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_models")
rng = np.random.default_rng(2026)


def airline():  # seeds 000/001: stateful, batch 1, look_back 3
    model = keras.Sequential([keras.Input(batch_shape=(1, 3, 1)), L.LSTM(4, stateful=True), L.Dense(1)])
    return model, rng.normal(size=(1, 3, 1))


def stacked():
    model = keras.Sequential([keras.Input((7, 3)), L.LSTM(5, return_sequences=True, unit_forget_bias=False),
                              L.GRU(4, return_sequences=True, reset_after=False),
                              L.SimpleRNN(3, activation="relu"), L.Dense(3, activation="softmax")])
    return model, rng.normal(size=(4, 7, 3))


def bidirectional():
    model = keras.Sequential([keras.Input((6, 2)), L.Bidirectional(L.LSTM(3, return_sequences=True)),
                              L.Bidirectional(L.GRU(2, return_sequences=True, reset_after=False), merge_mode="sum"),
                              L.TimeDistributed(L.Dense(2, activation="tanh"))])
    return model, rng.normal(size=(3, 6, 2))


def embedding():  # seed 000's text model shape: ids -> Embedding(mask_zero) -> GRU -> per-step softmax
    model = keras.Sequential([keras.Input((8,)), L.Embedding(12, 4, mask_zero=True),
                              L.GRU(6, return_sequences=True), L.Dropout(0.3),
                              L.TimeDistributed(L.Dense(12)), L.Activation("softmax")])
    x = rng.integers(1, 12, size=(3, 8))
    x[1, 5:] = 0
    x[2, 2:] = 0
    return model, x


def frames():  # seed 002, Type 2: per-frame convolution, then recurrence over frames
    model = keras.Sequential([keras.Input((4, 8, 8, 1)), L.TimeDistributed(L.Conv2D(3, (3, 3), padding="same",
                                                                                     activation="relu")),
                              L.TimeDistributed(L.MaxPooling2D((2, 2))), L.TimeDistributed(L.Flatten()),
                              L.LSTM(5), L.Dense(4, activation="softmax")])
    return model, rng.normal(size=(2, 4, 8, 8, 1))


def repeat():  # seed 000's autoencoder as a Sequential: encode, repeat, decode
    model = keras.Sequential([keras.Input((10,)), L.Reshape((5, 2)), L.LSTM(4), L.RepeatVector(5),
                              L.LSTM(3, return_sequences=True), L.TimeDistributed(L.Dense(2))])
    return model, rng.normal(size=(3, 10))


def unsupported():
    model = keras.Sequential([keras.Input((6, 2)), L.Conv1D(3, 2), L.LSTM(2)])
    return model, rng.normal(size=(1, 6, 2))


CASES = {f.__name__: f for f in (airline, stacked, bidirectional, embedding, frames, repeat, unsupported)}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, make in CASES.items():
        model, x = make()
        model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
        y = model.predict(x, verbose=0)
        model.save(os.path.join(OUT, f"{name}.keras"))
        if name != "unsupported":
            model.save(os.path.join(OUT, f"{name}.h5"))
        np.savez(os.path.join(OUT, f"{name}.npz"), x=x, y=y)
        print(name, x.shape, "->", y.shape)
