"""Keras 3's keras/src/regularizers/regularizers_test.py, ported to rnnkit.regularizers with Keras's
expected values and tolerances (assertAllClose: atol=rtol=1e-6).

Keras's `backend.Variable(value)` is a torch tensor here; `run_class_serialization_test` is ported as
what it checks: from_config(get_config()) and deserialize(serialize()) give the same config and an
object with the same attributes. Every test of the file is ported; none is inapplicable.
"""

import json

import numpy as np
import pytest
import torch

from rnnkit import regularizers
from rnnkit.regularizers import validate_float_arg

TOL = dict(atol=1e-6, rtol=1e-6)


def _variable(value):
    return torch.tensor(value)


def _close(actual, expected, **tol):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), **(tol or TOL))


def run_class_serialization_test(instance):
    config = instance.get_config()
    revived = type(instance).from_config(config)
    assert json.dumps(revived.get_config()) == json.dumps(config)
    assert set(dir(revived)) == set(dir(instance))
    serialized = json.loads(json.dumps(regularizers.serialize(instance)))
    revived = regularizers.deserialize(serialized)
    assert type(revived) is type(instance)
    assert json.dumps(revived.get_config()) == json.dumps(config)
    assert set(dir(revived)) == set(dir(instance))
    return revived


# Keras: RegularizersTest.test_config
def test_config():
    run_class_serialization_test(regularizers.L1(0.1))
    run_class_serialization_test(regularizers.L2(0.1))
    run_class_serialization_test(regularizers.L1L2(l1=0.1, l2=0.2))
    run_class_serialization_test(regularizers.OrthogonalRegularizer(factor=0.1, mode="rows"))


# Keras: test_l1
def test_l1():
    value = np.random.random((4, 4)).astype(np.float32)
    y = regularizers.L1(0.1)(_variable(value))
    _close(y, 0.1 * np.sum(np.abs(value)))


# Keras: test_l2
def test_l2():
    value = np.random.random((4, 4)).astype(np.float32)
    y = regularizers.L2(0.1)(_variable(value))
    _close(y, 0.1 * np.sum(np.square(value)))


# Keras: test_l1_l2
def test_l1_l2():
    value = np.random.random((4, 4)).astype(np.float32)
    y = regularizers.L1L2(l1=0.1, l2=0.2)(_variable(value))
    _close(y, 0.1 * np.sum(np.abs(value)) + 0.2 * np.sum(np.square(value)))


# Keras: test_orthogonal_regularizer
def test_orthogonal_regularizer():
    value = np.random.random((4, 4)).astype(np.float32)
    y = regularizers.OrthogonalRegularizer(factor=0.1, mode="rows")(_variable(value))
    inputs = value / np.linalg.norm(value, axis=1, keepdims=True)
    expected = 0.1 * 0.5 * np.sum(np.abs(np.dot(inputs, np.transpose(inputs)) * (1.0 - np.eye(4)))) / (
        4.0 * (4.0 - 1.0) / 2.0)
    _close(y, expected)


# Keras: test_get_method
def test_get_method():
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("orthogonal_regularizer"), regularizers.OrthogonalRegularizer)
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match=r"Could not interpret regularizer identifier: 'typo'"):
        regularizers.get("typo")


# Keras: test_l1l2_get_config
def test_l1l2_get_config():
    l1, l2 = 0.01, 0.02
    reg = regularizers.L1L2(l1=l1, l2=l2)
    config = reg.get_config()
    _close(config["l1"], l1)
    _close(config["l2"], l2)
    reg_from_config = regularizers.L1L2.from_config(config)
    assert reg_from_config.get_config() == config
    _close(reg_from_config.l1, l1)
    _close(reg_from_config.l2, l2)


# Keras: test_orthogonal_regularizer_mode_validation
def test_orthogonal_regularizer_mode_validation():
    with pytest.raises(ValueError) as context:
        regularizers.OrthogonalRegularizer(factor=0.01, mode="invalid_mode")
    assert str(context.value) == ('Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                                  "Received: mode=invalid_mode")


# Keras: test_orthogonal_regularizer_input_rank_validation
def test_orthogonal_regularizer_input_rank_validation():
    with pytest.raises(ValueError) as context:
        value = np.random.random((4, 4, 4)).astype(np.float32)
        regularizers.OrthogonalRegularizer(factor=0.1)(_variable(value))
    assert str(context.value) == f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={(4, 4, 4)}"


# Keras: test_orthogonal_regularizer_get_config
def test_orthogonal_regularizer_get_config():
    regularizer = regularizers.OrthogonalRegularizer(factor=0.01, mode="columns")
    config = regularizer.get_config()
    assert config["factor"] == pytest.approx(0.01, abs=1e-7)
    assert config["mode"] == "columns"
    again = regularizers.OrthogonalRegularizer.from_config(config).get_config()
    assert again["factor"] == pytest.approx(0.01, abs=1e-7)
    assert again["mode"] == "columns"


# Keras: test_l1_with_zero_weights
def test_l1_with_zero_weights():
    _close(regularizers.L1(0.1)(_variable(np.zeros((4, 4), dtype=np.float32))), 0.0)


# Keras: test_l1_with_negative_weights
def test_l1_with_negative_weights():
    y_pos = regularizers.L1(0.1)(_variable(np.ones((4, 4), dtype=np.float32)))
    y_neg = regularizers.L1(0.1)(_variable(-np.ones((4, 4), dtype=np.float32)))
    _close(y_pos, y_neg)


# Keras: test_l1_zero_coefficient
def test_l1_zero_coefficient():
    _close(regularizers.L1(0.0)(_variable(np.random.random((4, 4)).astype(np.float32))), 0.0)


# Keras: test_l2_with_zero_weights
def test_l2_with_zero_weights():
    _close(regularizers.L2(0.1)(_variable(np.zeros((4, 4), dtype=np.float32))), 0.0)


# Keras: test_l2_zero_coefficient
def test_l2_zero_coefficient():
    _close(regularizers.L2(0.0)(_variable(np.random.random((4, 4)).astype(np.float32))), 0.0)


# Keras: test_l2_is_larger_than_l1_for_large_weights
def test_l2_is_larger_than_l1_for_large_weights():
    x = _variable(np.ones((4, 4), dtype=np.float32) * 10.0)
    assert float(regularizers.L2(1.0)(x)) > float(regularizers.L1(1.0)(x))


# Keras: test_l2_is_smaller_than_l1_for_small_weights
def test_l2_is_smaller_than_l1_for_small_weights():
    x = _variable(np.ones((4, 4), dtype=np.float32) * 0.1)
    assert float(regularizers.L2(1.0)(x)) < float(regularizers.L1(1.0)(x))


# Keras: test_l1l2_zero_coefficients
def test_l1l2_zero_coefficients():
    _close(regularizers.L1L2(l1=0.0, l2=0.0)(_variable(np.random.random((4, 4)).astype(np.float32))), 0.0)


# Keras: test_l1l2_only_l1
def test_l1l2_only_l1():
    x = _variable(np.random.random((4, 4)).astype(np.float32))
    _close(regularizers.L1L2(l1=0.1, l2=0.0)(x), regularizers.L1(0.1)(x))


# Keras: test_l1l2_only_l2
def test_l1l2_only_l2():
    x = _variable(np.random.random((4, 4)).astype(np.float32))
    _close(regularizers.L1L2(l1=0.0, l2=0.1)(x), regularizers.L2(0.1)(x))


# Keras: test_l1l2_with_zero_weights
def test_l1l2_with_zero_weights():
    _close(regularizers.L1L2(l1=0.1, l2=0.2)(_variable(np.zeros((4, 4), dtype=np.float32))), 0.0)


# -- Keras: ValidateFloatArgTest ---------------------------------------------------------------------
def test_validate_float_with_valid_args():
    assert validate_float_arg(1, "test") == 1.0
    assert validate_float_arg(1.0, "test") == 1.0


def _rejects(*values):
    for value in values:
        with pytest.raises(ValueError, match="expected a non-negative float"):
            validate_float_arg(value, "test")


def test_validate_float_with_invalid_types():
    _rejects("not_a_number")


def test_validate_float_with_nan():
    _rejects(float("nan"))


def test_validate_float_with_inf():
    _rejects(float("inf"), -float("inf"))


def test_validate_float_with_negative_number():
    _rejects(-1)


def test_validate_float_with_zero():
    assert validate_float_arg(0, "test") == 0.0
    assert validate_float_arg(0.0, "test") == 0.0


def test_validate_float_with_very_small_positive():
    assert validate_float_arg(1e-10, "test") == pytest.approx(1e-10)


def test_validate_float_returns_float_type():
    assert isinstance(validate_float_arg(1, "test"), float)
    assert isinstance(validate_float_arg(1.0, "test"), float)


def test_validate_float_with_large_positive():
    assert validate_float_arg(1e6, "test") == pytest.approx(1e6)


def test_validate_float_with_negative_float():
    _rejects(-0.001)


def test_validate_float_with_none():
    _rejects(None)


def test_validate_float_with_list():
    _rejects([0.1])


# -- rnnkit: the message says what to pass; Keras's dict configs are read ------------------------------
def test_bad_factor_message_says_how_to_fix():
    with pytest.raises(ValueError, match=r"Invalid value for argument l2: expected a non-negative float\. "
                                         r"Received: l2=-1\. Pass a number such as l2=0\.01\."):
        regularizers.L2(-1)


def test_keras_serialized_dict_is_read():
    keras_dict = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5},
                  "registered_name": None}
    reg = regularizers.get(keras_dict)
    assert isinstance(reg, regularizers.L2) and reg.l2 == 0.5


def test_regularizer_docstring_example_dense_losses():
    # Keras's Regularizer docstring: the kernel term is 0.25, the activity term (divided by the batch of 5) 5.0
    from rnnkit.layers import Dense
    layer = Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.01),
                  activity_regularizer=regularizers.L2(0.01))
    layer(np.ones((5, 5), "float32") * 2.0)
    _close(float(sum(layer.losses).detach()), 5.25)
    layer = Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=lambda w: 0.01 * w.abs().sum())
    layer(np.ones((5, 5), "float32"))
    _close(float(sum(layer.losses).detach()), 0.25)
