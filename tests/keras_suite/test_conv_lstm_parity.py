"""ConvLSTM1D/2D/3D against Keras 3.15.1 (jax backend) on random weights: Keras's weights loaded with
`set_keras_weights`, outputs equal to 1e-5.

The Keras outputs are committed (conv_lstm_keras_goldens.npz beside this file), so the main assertions run
without Keras; `test_goldens_are_keras_s` recomputes them with the installed Keras, and is skipped where
Keras is not importable. Regenerate with `python tests/keras_suite/test_conv_lstm_parity.py`.
Cases cover every rank, both data formats, strides, dilation, "same"/"valid", kernel shapes with even
sides, no bias, other activations, return_sequences/return_state, go_backwards, masks, initial_state and
a stateful layer called twice. The masked case runs unrolled (`unroll=True`, the same numbers in rnnkit):
Keras 3.15.1's scan on jax cannot broadcast a (batch, 1) step mask against feature-map states and raises,
its unrolled loop tiles the mask as TensorFlow's backend does.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rnnkit.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D

GOLDENS = Path(__file__).with_name("conv_lstm_keras_goldens.npz")
LAYERS = {1: ConvLSTM1D, 2: ConvLSTM2D, 3: ConvLSTM3D}
TOL = dict(atol=1e-5, rtol=1e-5)

# (id, rank, layer arguments, input shape, extras: "mask", "initial_state", "stateful" (two calls))
CASES = [
    ("2d_same", 2, dict(filters=3, kernel_size=3, padding="same"), (2, 4, 6, 5, 2), ()),
    ("2d_even_kernel_sequences", 2, dict(filters=3, kernel_size=(2, 3), padding="same", return_sequences=True),
     (2, 4, 6, 5, 2), ()),
    ("2d_strides_same", 2, dict(filters=3, kernel_size=3, strides=2, padding="same", return_sequences=True),
     (2, 3, 7, 6, 2), ()),
    ("2d_strides_valid", 2, dict(filters=2, kernel_size=3, strides=(2, 1)), (2, 3, 7, 6, 2), ()),
    ("2d_dilation_state", 2, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same", return_state=True),
     (2, 3, 7, 6, 2), ()),
    ("2d_channels_first_backwards", 2, dict(filters=3, kernel_size=3, data_format="channels_first",
                                            return_sequences=True, go_backwards=True), (2, 3, 2, 6, 5), ()),
    ("2d_no_bias_relu_hard_sigmoid", 2, dict(filters=3, kernel_size=3, padding="same", use_bias=False,
                                             activation="relu", recurrent_activation="hard_sigmoid"),
     (2, 3, 5, 5, 2), ()),
    ("2d_mask", 2, dict(filters=2, kernel_size=3, padding="same", return_sequences=True, unroll=True), (3, 4, 5, 5, 2),
     ("mask",)),
    ("2d_initial_state", 2, dict(filters=2, kernel_size=3, padding="same", return_state=True), (2, 3, 5, 4, 2),
     ("initial_state",)),
    ("2d_stateful", 2, dict(filters=2, kernel_size=3, padding="same", stateful=True), (2, 3, 5, 4, 2),
     ("stateful",)),
    ("1d_same_sequences", 1, dict(filters=4, kernel_size=3, padding="same", return_sequences=True), (2, 5, 8, 3),
     ()),
    ("1d_channels_first_strides", 1, dict(filters=4, kernel_size=2, strides=2, data_format="channels_first"),
     (2, 5, 3, 8), ()),
    ("3d_same_sequences", 3, dict(filters=2, kernel_size=3, padding="same", return_sequences=True),
     (2, 3, 4, 5, 4, 2), ()),
    ("3d_channels_first_dilation", 3, dict(filters=2, kernel_size=(1, 2, 3), dilation_rate=(1, 2, 1),
                                           data_format="channels_first"), (2, 3, 2, 5, 6, 4), ()),
]


def case_inputs(index: int, rank: int, shape: tuple, extras: tuple, state_shape: tuple) -> dict:
    """Input, mask and initial states of a case, drawn from its own seed (the same for Keras and rnnkit)."""
    rng = np.random.default_rng(100 + index)
    data = {"x": rng.standard_normal(shape).astype("float32")}
    if "stateful" in extras:
        data["x2"] = rng.standard_normal(shape).astype("float32")
    if "mask" in extras:
        mask = rng.random(shape[:2]) > 0.35
        mask[:, 0] = True
        data["mask"] = mask
    if "initial_state" in extras:
        data["h0"] = rng.standard_normal(state_shape).astype("float32")
        data["c0"] = rng.standard_normal(state_shape).astype("float32")
    return data


def random_weights(index: int, shapes: list[tuple]) -> list[np.ndarray]:
    rng = np.random.default_rng(index)
    return [rng.uniform(-0.5, 0.5, s).astype("float32") for s in shapes]


def run_case(layer, data: dict, extras: tuple) -> list[np.ndarray]:
    """The case's outputs as NumPy arrays (a stateful case: the second call's, after the first)."""
    kwargs = {}
    if "mask" in extras:
        kwargs["mask"] = data["mask"]
    if "initial_state" in extras:
        kwargs["initial_state"] = [data["h0"], data["c0"]]
    out = layer(data["x"], **kwargs)
    if "stateful" in extras:
        out = layer(data["x2"])
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o) for o in out]


def state_shape_of(rank: int, kwargs: dict, shape: tuple) -> tuple:
    layer = LAYERS[rank](**{**kwargs, "return_state": True, "stateful": False})
    return tuple(layer(np.zeros(shape, "float32"))[1].shape)


def keras_outputs(index: int) -> list[np.ndarray]:
    """The case run by Keras with the case's random weights."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    name, rank, kwargs, shape, extras = CASES[index]
    layer = getattr(keras.layers, f"ConvLSTM{rank}D")(**kwargs)
    layer.build(shape)
    layer.set_weights(random_weights(index, [tuple(w.shape) for w in layer.get_weights()]))
    return run_case(layer, case_inputs(index, rank, shape, extras, state_shape_of(rank, kwargs, shape)), extras)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_outputs_equal_keras(index):
    name, rank, kwargs, shape, extras = CASES[index]
    layer = LAYERS[rank](**kwargs)
    layer(np.zeros(shape, "float32"))  # build, as Keras's layer.build(shape)
    layer.reset_states() if layer.stateful else None
    weights = random_weights(index, [w.shape for w in layer.keras_weights()])
    layer.set_keras_weights(weights)
    for mine, keras_w in zip(layer.keras_weights(), weights):
        np.testing.assert_array_equal(mine, keras_w)  # Keras's layout, both ways
    outputs = run_case(layer, case_inputs(index, rank, shape, extras, state_shape_of(rank, kwargs, shape)), extras)
    with np.load(GOLDENS) as goldens:
        expected = [goldens[f"{name}/{i}"] for i in range(len(outputs))]
        assert f"{name}/{len(outputs)}" not in goldens
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_goldens_are_keras_s(index):
    outputs = keras_outputs(index)
    with np.load(GOLDENS) as goldens:
        for i, out in enumerate(outputs):
            np.testing.assert_allclose(goldens[f"{CASES[index][0]}/{i}"], out, atol=1e-6, rtol=1e-6)


if __name__ == "__main__":
    arrays = {f"{case[0]}/{i}": out for k, case in enumerate(CASES) for i, out in enumerate(keras_outputs(k))}
    np.savez_compressed(GOLDENS, **arrays)
    print(f"wrote {len(arrays)} arrays to {GOLDENS}")
