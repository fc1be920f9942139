"""Keras 3's keras/src/constraints/constraints_test.py, ported to rnnkit.constraints with Keras's
expected values and tolerances (assertAllClose: atol=rtol=1e-6). Every test of the file is ported.

Below them, what Keras does with a constraint in training, checked against Keras's arithmetic: it is
applied after each optimizer update, to the weight in Keras's layout.
"""

import numpy as np
import pytest
import torch

from rnnkit import constraints
from rnnkit.layers import GRU, Dense, Input, LSTM
from rnnkit.models import Sequential

TOL = dict(atol=1e-6, rtol=1e-6)


def get_example_array():
    np.random.seed(3537)
    example_array = np.random.random((100, 100)) * 100.0 - 50.0
    example_array[0, 0] = 0.0
    return example_array


def _np(x):
    return np.asarray(x)


# Keras: test_max_norm
def test_max_norm():
    constraint_fn = constraints.MaxNorm(2.0)
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]]).T
    target = np.array([[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0],
                       [2.0 / np.sqrt(3), 2.0 / np.sqrt(3), 2.0 / np.sqrt(3)]]).T
    np.testing.assert_allclose(_np(constraint_fn(x)), target, **TOL)


# Keras: test_non_neg
def test_non_neg():
    output = _np(constraints.NonNeg()(get_example_array()))
    assert (np.min(output, axis=1) >= 0.0).all()


# Keras: test_unit_norm
def test_unit_norm():
    output = _np(constraints.UnitNorm()(get_example_array()))
    np.testing.assert_allclose(np.sqrt(np.sum(np.square(output), axis=0)), 1.0, **TOL)


# Keras: test_min_max_norm
def test_min_max_norm():
    output = _np(constraints.MinMaxNorm(min_value=0.2, max_value=0.5)(get_example_array()))
    l2 = np.sqrt(np.sum(np.square(output), axis=0))
    assert np.all(l2 >= 0.2)
    assert np.all(l2 <= 0.5 + 1e-6)


# Keras: test_get_method
def test_get_method():
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match=r"Could not interpret constraint identifier: 'typo'"):
        constraints.get("typo")


# Keras: test_default_constraint_call
def test_default_constraint_call():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(x, _np(constraints.Constraint()(x)), **TOL)


# Keras: test_constraint_get_config
def test_constraint_get_config():
    assert constraints.Constraint().get_config() == {}


# Keras: test_constraint_from_config
def test_constraint_from_config():
    config = constraints.Constraint().get_config()
    assert isinstance(constraints.Constraint.from_config(config), constraints.Constraint)


def _same_projection(constraint_fn, restored):
    x = get_example_array()
    np.testing.assert_allclose(_np(constraint_fn(x)), _np(restored(x)), **TOL)


# Keras: test_max_norm_get_config
def test_max_norm_get_config():
    constraint_fn = constraints.MaxNorm(max_value=3.0, axis=1)
    config = constraint_fn.get_config()
    assert config == {"max_value": 3.0, "axis": 1}
    restored = constraints.MaxNorm.from_config(config)
    assert restored.max_value == constraint_fn.max_value and restored.axis == constraint_fn.axis
    _same_projection(constraint_fn, restored)


# Keras: test_unit_norm_get_config
def test_unit_norm_get_config():
    constraint_fn = constraints.UnitNorm(axis=1)
    config = constraint_fn.get_config()
    assert config == {"axis": 1}
    restored = constraints.UnitNorm.from_config(config)
    assert restored.axis == constraint_fn.axis
    _same_projection(constraint_fn, restored)


# Keras: test_min_max_norm_get_config
def test_min_max_norm_get_config():
    constraint_fn = constraints.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.7, axis=1)
    config = constraint_fn.get_config()
    assert config == {"min_value": 0.5, "max_value": 2.0, "rate": 0.7, "axis": 1}
    restored = constraints.MinMaxNorm.from_config(config)
    assert (restored.min_value, restored.max_value, restored.rate, restored.axis) == (0.5, 2.0, 0.7, 1)
    _same_projection(constraint_fn, restored)


# Keras: test_non_neg_get_config
def test_non_neg_get_config():
    assert constraints.NonNeg().get_config() == {}


# Keras: test_non_neg_from_config
def test_non_neg_from_config():
    config = constraints.NonNeg().get_config()
    assert isinstance(constraints.NonNeg.from_config(config), constraints.NonNeg)


# Keras: test_non_neg_serialization_roundtrip
def test_non_neg_serialization_roundtrip():
    original = constraints.NonNeg()
    _same_projection(original, constraints.NonNeg.from_config(original.get_config()))


# Keras: test_non_neg_zeroes_negatives
def test_non_neg_zeroes_negatives():
    np.testing.assert_allclose(_np(constraints.NonNeg()(np.full((5, 5), -3.0))), np.zeros((5, 5)), **TOL)


# Keras: test_non_neg_preserves_positives
def test_non_neg_preserves_positives():
    x = np.full((5, 5), 3.0)
    np.testing.assert_allclose(_np(constraints.NonNeg()(x)), x, **TOL)


# Keras: test_non_neg_all_zeros_input
def test_non_neg_all_zeros_input():
    np.testing.assert_allclose(_np(constraints.NonNeg()(np.zeros((5, 5)))), np.zeros((5, 5)), **TOL)


# -- rnnkit: constraints in training, as Keras's optimizer applies them --------------------------------
def test_constraints_are_applied_after_each_update_in_keras_layout():
    # MaxNorm(axis=0) bounds each unit's incoming weights: columns of Keras's (features, units) kernel,
    # rows of PyTorch's weight; NonNeg on the bias; UnitNorm on an LSTM's recurrent kernel (H, 4H) columns.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32") * 5
    model = Sequential([Input((6, 3)), LSTM(4, recurrent_constraint=constraints.UnitNorm(axis=0),
                                            kernel_constraint="max_norm"),
                        Dense(1, kernel_constraint=constraints.MaxNorm(0.1), bias_constraint="non_neg")])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    kernel, recurrent, _ = model.layers[0].keras_weights()
    np.testing.assert_allclose(np.linalg.norm(recurrent, axis=0), 1.0, atol=1e-5)
    assert np.linalg.norm(kernel, axis=0).max() <= 2.0 + 1e-5
    dense_kernel, dense_bias = model.layers[1].keras_weights()
    assert np.linalg.norm(dense_kernel, axis=0).max() <= 0.1 + 1e-6
    assert dense_bias.min() >= 0.0


def test_one_update_equals_keras_arithmetic():
    # One SGD step then the projection, computed by hand in Keras's layout: w <- MaxNorm(w - lr * grad).
    torch.manual_seed(0)
    layer = GRU(3, kernel_constraint=constraints.MaxNorm(0.05), input_size=2)
    model = Sequential([Input((4, 2)), layer])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((2, 4, 2), "float32")
    y = np.ones((2, 3), "float32")
    kernel_before = layer.keras_weights()[0]
    out = layer(torch.tensor(x), training=True)
    ((out - torch.tensor(y)) ** 2).mean().backward()
    grad = layer.cell.weight_ih.grad.detach().clone()
    layer.cell.weight_ih.grad = None
    stepped = layer.cell.weight_ih.detach() - 0.01 * grad  # Keras's SGD default learning_rate
    order = [3, 4, 5, 0, 1, 2, 6, 7, 8]  # keras columns (z, r, h) from torch rows (r, z, n)
    keras_stepped = stepped.numpy().T[:, order]
    norms = np.sqrt((keras_stepped ** 2).sum(0, keepdims=True))
    expected = keras_stepped * (np.clip(norms, 0, 0.05) / (1e-7 + norms))
    model.train_on_batch(x, y)
    np.testing.assert_allclose(layer.keras_weights()[0], expected, atol=1e-6)
    assert not np.allclose(kernel_before, expected)


def test_bad_constraint_names_the_argument():
    with pytest.raises(ValueError, match=r"Dense: kernel_constraint: Could not interpret constraint identifier: "
                                         r"'maxnorm'\. Expected None, one of .*'max_norm'"):
        Dense(2, kernel_constraint="maxnorm")
