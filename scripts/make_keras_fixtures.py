"""Generate tests/fixtures/keras_layers.npz: random weights, inputs and Keras 3's outputs.

Needs the optional extra: `pip install -e ".[keras]"` (Keras 3 on JAX). The tests only read the file.
Run: KERAS_BACKEND=jax python scripts/make_keras_fixtures.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
rng = np.random.default_rng(1234)
arrays: dict[str, np.ndarray] = {}
cases: list[dict] = []

B, T, F, H = 3, 6, 4, 5
CELLS = {
    "LSTM": dict(cls="LSTM", kwargs={}),
    "GRU": dict(cls="GRU", kwargs={"reset_after": True}),
    "GRU_reset_before": dict(cls="GRU", kwargs={"reset_after": False}),
    "SimpleRNN": dict(cls="SimpleRNN", kwargs={}),
}
MASKS = {
    # right-padded rows (lengths 6, 4, 2): the packed fused kernel's case
    "right": np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], bool),
    # holes anywhere: only the step loop computes this
    "holes": np.array([[1, 0, 1, 1, 0, 1], [0, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 0]], bool),
}


def random_weights(layer):
    weights = [rng.normal(0, 0.4, w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def add(name, config, weights, inputs, outputs):
    cases.append({"name": name, **config, "n_weights": len(weights), "n_outputs": len(outputs)})
    for k, w in enumerate(weights):
        arrays[f"{name}/w{k}"] = w
    for key, value in inputs.items():
        arrays[f"{name}/{key}"] = value
    for k, o in enumerate(outputs):
        arrays[f"{name}/out{k}"] = np.asarray(o)


def make(cls, kwargs):
    return getattr(keras.layers, cls)(H, **kwargs)


for cell, spec in CELLS.items():
    for return_sequences in (False, True):
        for go_backwards in (False, True):
            kw = dict(spec["kwargs"], return_sequences=return_sequences, go_backwards=go_backwards,
                      return_state=True)
            layer = make(spec["cls"], kw)
            x = rng.normal(size=(B, T, F)).astype("float32")
            layer.build((B, T, F))
            w = random_weights(layer)
            add(f"{cell}-rs{int(return_sequences)}-gb{int(go_backwards)}", {"cls": spec["cls"], "kwargs": kw},
                w, {"x": x}, layer(x))
            # the same layer from a given initial state
            init = [rng.normal(size=(B, H)).astype("float32") for _ in range(2 if spec["cls"] == "LSTM" else 1)]
            add(f"{cell}-rs{int(return_sequences)}-gb{int(go_backwards)}-init", {"cls": spec["cls"], "kwargs": kw},
                w, {"x": x, **{f"init{k}": s for k, s in enumerate(init)}}, layer(x, initial_state=init))
    for mask_name, mask in MASKS.items():
        for go_backwards in (False, True):
            kw = dict(spec["kwargs"], return_sequences=True, go_backwards=go_backwards, return_state=True)
            layer = make(spec["cls"], kw)
            layer.build((B, T, F))
            w = random_weights(layer)
            x = rng.normal(size=(B, T, F)).astype("float32")
            add(f"{cell}-mask_{mask_name}-gb{int(go_backwards)}", {"cls": spec["cls"], "kwargs": kw}, w,
                {"x": x, "mask": mask}, layer(x, mask=mask))
    # stateful: two consecutive calls; the second starts from the first one's final states
    kw = dict(spec["kwargs"], return_sequences=True, stateful=True)
    layer = make(spec["cls"], kw)
    layer.build((B, T, F))
    w = random_weights(layer)
    x1 = rng.normal(size=(B, T, F)).astype("float32")
    x2 = rng.normal(size=(B, T, F)).astype("float32")
    out1 = np.asarray(layer(x1))
    out2 = np.asarray(layer(x2))
    add(f"{cell}-stateful", {"cls": spec["cls"], "kwargs": kw}, w, {"x1": x1, "x2": x2}, [out1, out2])

for merge_mode in ("concat", "sum", "mul", "ave"):
    for return_sequences in (False, True):
        inner = keras.layers.LSTM(H, return_sequences=return_sequences)
        layer = keras.layers.Bidirectional(inner, merge_mode=merge_mode)
        layer.build((B, T, F))
        w = random_weights(layer)
        x = rng.normal(size=(B, T, F)).astype("float32")
        name = f"Bidirectional-{merge_mode}-rs{int(return_sequences)}"
        add(name, {"cls": "Bidirectional", "kwargs": {"merge_mode": merge_mode,
                                                      "return_sequences": return_sequences}},
            w, {"x": x}, [layer(x)])
        if return_sequences:
            mask = MASKS["right"]
            add(name + "-mask", {"cls": "Bidirectional", "kwargs": {"merge_mode": merge_mode,
                                                                   "return_sequences": True}},
                w, {"x": x, "mask": mask}, [layer(x, mask=mask)])

np.savez_compressed(os.path.join(OUT, "keras_layers.npz"), **arrays)
with open(os.path.join(OUT, "keras_layers.json"), "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases with Keras {keras.__version__} ({keras.backend.backend()})")
