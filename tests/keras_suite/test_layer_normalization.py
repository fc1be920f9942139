"""Keras 3's keras/src/layers/normalization/layer_normalization_test.py, ported to rnnkit with Keras's
numbers and tolerances (assertAllClose's atol=rtol=1e-6 unless the case says otherwise).

Not applicable:
- test_ln_basics, the gamma_regularizer/beta_regularizer case: rnnkit has no weight regularizers (the
  same layer without them is checked);
- test_large_value_within_autocast_scope: Keras's float16 AutocastScope has no rnnkit counterpart;
- test_out_of_bounds_axis's `compute_output_shape` line: rnnkit layers have no compute_output_shape
  (build and the call are checked).
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Sequential
from rnnkit.layers import LSTM, Dense, Input, LayerNormalization

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_ln_basics
@pytest.mark.parametrize("init_kwargs,input_shape,trainable", [
    ({}, (3, 4, 2), 2),  # Keras passes gamma/beta regularizers here (see the module docstring)
    ({"gamma_initializer": "ones", "beta_initializer": "ones"}, (3, 4, 2), 2),
    ({"scale": False, "center": False}, (3, 3), 0),
    ({"rms_scaling": True}, (3, 3), 1),
    ({"axis": (-3, -2, -1)}, (2, 8, 8, 3), 2),
    ({}, (1, 0, 10), 2),
], ids=["default", "ones", "no_weights", "rms_scaling", "three_axes", "empty"])
def test_ln_basics(init_kwargs, input_shape, trainable):
    with pytest.warns(UserWarning, match="rms_scaling") if init_kwargs.get("rms_scaling") else _no_warning():
        run_layer_test(LayerNormalization, init_kwargs=init_kwargs, input_shape=input_shape,
                       expected_output_shape=input_shape, expected_num_trainable_weights=trainable,
                       expected_num_non_trainable_weights=0, supports_masking=True)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# Keras: test_invalid_axis
def test_invalid_axis():
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints for the argument 'axis'"):
        LayerNormalization(axis={"axis": -1})


# Keras: test_out_of_bounds_axis
def test_out_of_bounds_axis():
    x = np.zeros((2, 4), dtype="float32")
    for axis in (2, 99, -3, -99):
        with pytest.raises(ValueError, match="is out of bounds"):
            LayerNormalization(axis=axis)(x)
    with pytest.raises(ValueError, match="is out of bounds"):
        LayerNormalization(axis=[0, 99])(x)
    with pytest.raises(ValueError, match="is out of bounds"):
        LayerNormalization(axis=99).build((2, 4))


# Keras: test_duplicate_axis
def test_duplicate_axis():
    x = np.zeros((2, 4), dtype="float32")
    with pytest.raises(ValueError, match="Duplicate axes"):
        LayerNormalization(axis=[-1, 1])(x)
    with pytest.raises(ValueError, match="Duplicate axes"):
        LayerNormalization(axis=[1, 1])(x)


# Keras: test_axis_is_canonicalized
def test_axis_is_canonicalized():
    layer = LayerNormalization(axis=-1)
    layer.build((2, 4))
    assert layer.axis == [1]


# Keras: test_correctness
def test_correctness():
    layer = LayerNormalization()
    layer.build((2, 2, 2))
    inputs = np.random.normal(loc=5.0, scale=10.0, size=(1000, 2, 2, 2)).astype("float32")
    out = layer(inputs).numpy()
    beta, gamma = layer.bias.detach().numpy(), layer.weight.detach().numpy()
    out = (out - beta) / gamma
    np.testing.assert_allclose(np.mean(out), 0.0, atol=1e-1)
    np.testing.assert_allclose(np.std(out), 1.0, atol=1e-1)


# Keras: test_output
def test_output():
    layer = LayerNormalization(beta_initializer="ones", gamma_initializer="ones")
    inputs = np.arange(5).astype("float32")[None, :]
    np.testing.assert_allclose(layer(inputs).numpy(), [[-0.41386, 0.29307, 1.0, 1.70693, 2.41386]], atol=1e-5)


# Keras: test_output_with_rms_scaling
def test_output_with_rms_scaling():
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = LayerNormalization(rms_scaling=True, gamma_initializer="ones")
    inputs = np.arange(5).astype("float32")[None, :]
    np.testing.assert_allclose(layer(inputs).numpy(), [[0.0, 0.70693, 1.41386, 2.12079, 2.82772]], atol=1e-5)


# Keras: test_unsorted_axis
def test_unsorted_axis():
    x = np.random.randn(2, 3, 4).astype("float32")
    out_sorted = LayerNormalization(axis=[-2, -1])(x)
    out_unsorted = LayerNormalization(axis=[-1, -2])(x)
    assert tuple(out_sorted.shape) == (2, 3, 4) and tuple(out_unsorted.shape) == (2, 3, 4)
    np.testing.assert_allclose(out_sorted.numpy(), out_unsorted.numpy(), **TOL)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_matches_the_formula_with_keras_epsilon():
    """(x - mean) / sqrt(var + 1e-3) * gamma + beta over the features: Keras's epsilon, not PyTorch's 1e-5."""
    layer = LayerNormalization(gamma_initializer="random_normal", beta_initializer="random_normal")
    x = np.random.default_rng(0).normal(size=(3, 5, 6)).astype("float32") * 0.01  # small: epsilon matters
    y = layer(x).numpy()
    gamma, beta = layer.keras_weights()
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * gamma + beta
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_non_trailing_axis_matches_the_manual_formula():
    layer = LayerNormalization(axis=1, gamma_initializer="random_normal", beta_initializer="random_normal")
    x = torch.randn(2, 4, 3)
    y = layer(x).detach()
    mean, var = x.mean(1, keepdim=True), x.var(1, keepdim=True, unbiased=False)
    gamma, beta = layer.weight.detach().reshape(1, 4, 1), layer.bias.detach().reshape(1, 4, 1)
    np.testing.assert_allclose(y.numpy(), ((x - mean) / torch.sqrt(var + 1e-3) * gamma + beta).numpy(), atol=1e-5)


def test_after_lstm_saves_and_loads(tmp_path):
    model = Sequential([Input((6, 2)), LSTM(4, return_sequences=True), LayerNormalization(), LSTM(3), Dense(1)])
    x = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, **TOL)
    assert loaded.layers[1].get_config()["axis"] == [2]
    assert model.count_params() == loaded.count_params()


def test_keras_weights_round_trip():
    layer = LayerNormalization(input_shape=(5, 3))
    gamma, beta = np.arange(3.0), np.ones(3)
    layer.set_keras_weights([gamma, beta])
    np.testing.assert_allclose(layer.keras_weights()[0], gamma)
    np.testing.assert_allclose(layer.keras_weights()[1], beta)
