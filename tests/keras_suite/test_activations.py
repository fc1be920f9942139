"""Keras 3's keras/src/activations/activations_test.py, ported to rnnkit.activations: every test, with
Keras's NumPy references, inputs and tolerances (Keras's assertAllClose: atol=rtol=1e-6 unless a test
gives rtol). Inputs are NumPy arrays, as in Keras (rnnkit's activations take them as Keras's do); the
results are torch tensors, compared as NumPy arrays.

Below the port: what a Keras script does with these functions in rnnkit -- an activation given to a layer
as the function, saved by its name in get_config and in a checkpoint, and `serialize`/`deserialize`.
"""

import math

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import activations
from rnnkit.layers import GRU, LSTM, Activation, Dense, Input, SimpleRNN
from rnnkit.models import Sequential

# Keras's own references overflow for its large inputs (np.exp(1e5)); as in Keras, the comparisons still hold.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")


def assert_all_close(actual, desired, atol=1e-6, rtol=1e-6):
    """Keras's TestCase.assertAllClose: both as NumPy arrays, np.testing.assert_allclose."""
    def to_numpy(x):
        return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    np.testing.assert_allclose(to_numpy(actual), to_numpy(desired), atol=atol, rtol=rtol)


def _ref_softmax(values):
    m = np.max(values)
    e = np.exp(values - m)
    return e / np.sum(e)


def _ref_softplus(x):
    return np.log(np.ones_like(x) + np.exp(x))


def _ref_log_softmax(values):
    max_val = np.max(values)  # for numerical stability
    stabilized_values = values - max_val
    log_sum_exp = np.log(np.sum(np.exp(stabilized_values)))
    return stabilized_values - log_sum_exp


def _ref_leaky_relu(x, alpha=0.2):
    return x if x > 0 else alpha * x


def _ref_relu6(x):
    return min(max(0, x), 6)


def _ref_silu(x):
    return x / (1 + np.exp(-x))


def _ref_hard_sigmoid(x):
    x = (x / 6.0) + 0.5
    z = 0.0 if x <= 0 else (1.0 if x >= 1 else x)
    return z


def _ref_sparse_sigmoid(x):
    return np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1)))


def _ref_log_sigmoid(x):
    return -1 * _ref_softplus(-x)


def _ref_hard_silu(x):
    return x * np.minimum(np.maximum(0.0, x + 3.0), 6.0) * (1.0 / 6.0)


def _ref_sigmoid(x):
    if x >= 0:
        return 1 / (1 + np.exp(-x))
    else:
        z = np.exp(x)
        return z / (1 + z)


def _ref_softsign(x):
    return np.divide(x, np.ones_like(x) + np.absolute(x))


# Keras: test_softmax
def test_softmax():
    x = np.random.random((2, 5))

    result = activations.softmax(x[np.newaxis, :])[0]
    expected = _ref_softmax(x[0])
    assert_all_close(result[0], expected, rtol=1e-5)

# Keras: test_softmax_2d_axis_0
def test_softmax_2d_axis_0():
    x = np.random.random((2, 5))
    result = activations.softmax(x[np.newaxis, :], axis=1)[0]
    expected = np.zeros((2, 5))
    for i in range(5):
        expected[:, i] = _ref_softmax(x[:, i])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_softmax_3d_axis_tuple
def test_softmax_3d_axis_tuple():
    x = np.random.random((2, 3, 5))
    result = activations.softmax(x, axis=(1, 2))
    expected = np.zeros((2, 3, 5))
    for i in range(2):
        expected[i, :, :] = _ref_softmax(x[i, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_softmax_1d
def test_softmax_1d():
    x = np.random.random(5)
    result = activations.softmax(x)
    expected = _ref_softmax(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_softmax_higher_dim
def test_softmax_higher_dim():
    x = np.random.random((2, 3, 4, 5))
    result = activations.softmax(x, axis=(2, 3))
    expected = np.zeros((2, 3, 4, 5))
    for i in range(2):
        for j in range(3):
            expected[i, j, :, :] = _ref_softmax(x[i, j, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_softmax_higher_dim_multiple_axes
def test_softmax_higher_dim_multiple_axes():
    x = np.random.random((2, 3, 4, 5, 6))
    result = activations.softmax(x, axis=(2, 3, 4))
    expected = np.zeros((2, 3, 4, 5, 6))
    for i in range(2):
        for j in range(3):
            expected[i, j, :, :, :] = _ref_softmax(x[i, j, :, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_softmax_negative_axis
def test_softmax_negative_axis():
    x = np.random.random((2, 5))
    result = activations.softmax(x, axis=-1)
    expected = np.zeros((2, 5))
    for i in range(2):
        expected[i, :] = _ref_softmax(x[i, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_temporal_softmax
def test_temporal_softmax():
    x = np.random.random((2, 2, 3)) * 10
    result = activations.softmax(x[np.newaxis, :])[0]
    expected = _ref_softmax(x[0, 0])
    assert_all_close(result[0, 0], expected, rtol=1e-5)

# Keras: test_log_softmax_2d_axis_0
def test_log_softmax_2d_axis_0():
    x = np.random.random((2, 5))
    result = activations.log_softmax(x[np.newaxis, :], axis=1)[0]
    expected = np.zeros((2, 5))
    for i in range(5):
        expected[:, i] = _ref_log_softmax(x[:, i])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_log_softmax_3d_axis_tuple
def test_log_softmax_3d_axis_tuple():
    x = np.random.random((2, 3, 5))
    result = activations.log_softmax(x, axis=(1, 2))
    expected = np.zeros((2, 3, 5))
    for i in range(2):
        expected[i, :, :] = _ref_log_softmax(x[i, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_log_softmax_1d
def test_log_softmax_1d():
    x = np.random.random(5)
    result = activations.log_softmax(x)
    expected = _ref_log_softmax(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_log_softmax_higher_dim
def test_log_softmax_higher_dim():
    x = np.random.random((2, 3, 4, 5))
    result = activations.log_softmax(x, axis=(2, 3))
    expected = np.zeros((2, 3, 4, 5))
    for i in range(2):
        for j in range(3):
            expected[i, j, :, :] = _ref_log_softmax(x[i, j, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_log_softmax_higher_dim_multiple_axes
def test_log_softmax_higher_dim_multiple_axes():
    x = np.random.random((2, 3, 4, 5, 6))
    result = activations.log_softmax(x, axis=(2, 3, 4))
    expected = np.zeros((2, 3, 4, 5, 6))
    for i in range(2):
        for j in range(3):
            expected[i, j, :, :, :] = _ref_log_softmax(x[i, j, :, :, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_log_softmax_negative_axis
def test_log_softmax_negative_axis():
    x = np.random.random((2, 5))
    result = activations.log_softmax(x, axis=-1)
    expected = np.zeros((2, 5))
    for i in range(2):
        expected[i, :] = _ref_log_softmax(x[i, :])
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_temporal_log_softmax
def test_temporal_log_softmax():
    x = np.random.random((2, 2, 3)) * 10
    result = activations.log_softmax(x[np.newaxis, :])[0]
    expected = _ref_log_softmax(x[0, 0])
    assert_all_close(result[0, 0], expected, rtol=1e-5)

# Keras: test_selu
def test_selu():
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    positive_values = np.array([[1, 2]], dtype="float32")
    result = activations.selu(positive_values[np.newaxis, :])[0]
    assert_all_close(result, positive_values * scale, rtol=1e-5)

    negative_values = np.array([[-1, -2]], dtype="float32")
    result = activations.selu(negative_values[np.newaxis, :])[0]
    true_result = (np.exp(negative_values) - 1) * scale * alpha
    assert_all_close(result, true_result)

# Keras: test_softplus
def test_softplus():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.softplus(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_softplus)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.softplus(x_1d)
    expected_1d = np.vectorize(_ref_softplus)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.softplus(x_3d)
    expected_3d = np.vectorize(_ref_softplus)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.softplus(x_zero)
    expected_zero = np.vectorize(_ref_softplus)(x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(10, 100, (2, 5))
    result_large_positive = activations.softplus(x_large_positive)
    expected_large_positive = np.vectorize(_ref_softplus)(x_large_positive)
    assert_all_close(
        result_large_positive, expected_large_positive, rtol=1e-5
    )

    # Test large negative values
    x_large_negative = np.random.uniform(-100, -10, (2, 5))
    result_large_negative = activations.softplus(x_large_negative)
    expected_large_negative = np.vectorize(_ref_softplus)(x_large_negative)
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_softsign
def test_softsign():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.softsign(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_softsign)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.softsign(x_1d)
    expected_1d = np.vectorize(_ref_softsign)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.softsign(x_3d)
    expected_3d = np.vectorize(_ref_softsign)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.softsign(x_zero)
    expected_zero = np.vectorize(_ref_softsign)(x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(10, 100, (2, 5))
    result_large_positive = activations.softsign(x_large_positive)
    expected_large_positive = np.vectorize(_ref_softsign)(x_large_positive)
    assert_all_close(
        result_large_positive, expected_large_positive, rtol=1e-5
    )

    # Test large negative values
    x_large_negative = np.random.uniform(-100, -10, (2, 5))
    result_large_negative = activations.softsign(x_large_negative)
    expected_large_negative = np.vectorize(_ref_softsign)(x_large_negative)
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_sigmoid
def test_sigmoid():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.sigmoid(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_sigmoid)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.sigmoid(x_1d)
    expected_1d = np.vectorize(_ref_sigmoid)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.sigmoid(x_3d)
    expected_3d = np.vectorize(_ref_sigmoid)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.sigmoid(x_zero)
    expected_zero = np.vectorize(_ref_sigmoid)(x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(10, 100, (2, 5))
    result_large_positive = activations.sigmoid(x_large_positive)
    expected_large_positive = np.vectorize(_ref_sigmoid)(x_large_positive)
    assert_all_close(
        result_large_positive, expected_large_positive, rtol=1e-5
    )

    # Test large negative values
    x_large_negative = np.random.uniform(-100, -10, (2, 5))
    result_large_negative = activations.sigmoid(x_large_negative)
    expected_large_negative = np.vectorize(_ref_sigmoid)(x_large_negative)
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_hard_sigmoid
def test_hard_sigmoid():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.hard_sigmoid(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_hard_sigmoid)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.hard_sigmoid(x_1d)
    expected_1d = np.vectorize(_ref_hard_sigmoid)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.hard_sigmoid(x_3d)
    expected_3d = np.vectorize(_ref_hard_sigmoid)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test with strictly positive values much larger than 1
    x_positive_above_1 = np.random.uniform(
        5, 10, (2, 5)
    )  # Adjusted this range
    result_positive_above_1 = activations.hard_sigmoid(x_positive_above_1)
    expected_positive_above_1 = np.ones((2, 5))
    assert_all_close(
        result_positive_above_1, expected_positive_above_1, rtol=1e-5
    )

# Keras: test_sparse_sigmoid
def test_sparse_sigmoid():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.sparse_sigmoid(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_sparse_sigmoid)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.sparse_sigmoid(x_1d)
    expected_1d = np.vectorize(_ref_sparse_sigmoid)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.sparse_sigmoid(x_3d)
    expected_3d = np.vectorize(_ref_sparse_sigmoid)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(10, 100, (2, 5))
    result_large_positive = activations.sparse_sigmoid(x_large_positive)
    expected_large_positive = np.vectorize(_ref_sparse_sigmoid)(
        x_large_positive
    )
    assert_all_close(
        result_large_positive, expected_large_positive, rtol=1e-5
    )

    # Test large negative values
    x_large_negative = np.random.uniform(-100, -10, (2, 5))
    result_large_negative = activations.sparse_sigmoid(x_large_negative)
    expected_large_negative = np.vectorize(_ref_sparse_sigmoid)(
        x_large_negative
    )
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_log_sigmoid
def test_log_sigmoid():
    # Basic test for random values between 0 and 1
    x = np.random.uniform(0, 1, (2, 5))
    result = activations.log_sigmoid(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_log_sigmoid)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.log_sigmoid(x_1d)
    expected_1d = np.vectorize(_ref_log_sigmoid)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.log_sigmoid(x_3d)
    expected_3d = np.vectorize(_ref_log_sigmoid)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(10, 100, (2, 5))
    result_large_positive = activations.log_sigmoid(x_large_positive)
    expected_large_positive = np.vectorize(_ref_log_sigmoid)(
        x_large_positive
    )
    assert_all_close(
        result_large_positive, expected_large_positive, rtol=1e-5
    )

    # Test large negative values
    x_large_negative = np.random.uniform(-100, -10, (2, 5))
    result_large_negative = activations.log_sigmoid(x_large_negative)
    expected_large_negative = np.vectorize(_ref_log_sigmoid)(
        x_large_negative
    )
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_hard_silu
def test_hard_silu():
    # Basic test for random values between -3 and 3
    x = np.random.uniform(-3, 3, (2, 5)).astype("float32")
    result = activations.hard_silu(x[np.newaxis, :])[0]
    expected = np.vectorize(_ref_hard_silu)(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5).astype("float32")
    result_1d = activations.hard_silu(x_1d)
    expected_1d = np.vectorize(_ref_hard_silu)(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3)).astype("float32")
    result_3d = activations.hard_silu(x_3d)
    expected_3d = np.vectorize(_ref_hard_silu)(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test with strictly positive values much larger than 3
    x_positive_above_3 = np.random.uniform(5, 10, (2, 5)).astype("float32")
    result_positive_above_3 = activations.hard_silu(x_positive_above_3)
    expected_positive_above_3 = x_positive_above_3
    assert_all_close(
        result_positive_above_3, expected_positive_above_3, rtol=1e-5
    )

    # Test with strictly negative values much smaller than -3
    x_negatives = np.random.uniform(-10, -5, (2, 5)).astype("float32")
    result = activations.hard_silu(x_negatives)
    expected_zeros = np.zeros_like(x_negatives)
    assert_all_close(result, expected_zeros, rtol=1e-5)

# Keras: test_relu_negative_slope
def test_relu_negative_slope():
    # Define the input tensor
    x = np.array([-10, -5, 0.0, 5, 10])

    # Test with only negative_slope
    result_negative_slope = activations.relu(x, negative_slope=0.5)
    expected_negative_slope = np.array([-5.0, -2.5, 0.0, 5.0, 10.0])
    assert_all_close(
        result_negative_slope, expected_negative_slope, rtol=1e-5
    )

# Keras: test_relu_max_value
def test_relu_max_value():
    # Define the input tensor
    x = np.array([-10, -5, 0.0, 5, 10])

    # Test with only max_value
    result_max_value = activations.relu(x, max_value=5.0)
    expected_max_value = np.array([0.0, 0.0, 0.0, 5.0, 5.0])
    assert_all_close(result_max_value, expected_max_value, rtol=1e-5)

# Keras: test_relu_threshold
def test_relu_threshold():
    # Define the input tensor
    x = np.array([-10, -5, 0.0, 5, 10])

    # Test with only threshold
    result_threshold = activations.relu(x, threshold=5.0)
    expected_threshold = np.array([-0.0, -0.0, 0.0, 0.0, 10.0])
    assert_all_close(result_threshold, expected_threshold, rtol=1e-5)

# Keras: test_relu_combined_threshold_and_max_value
def test_relu_combined_threshold_and_max_value():
    # Define the input tensor
    x = np.array([-10, -5, 0.0, 5, 10])

    # Test with threshold and max_value
    result_combined = activations.relu(x, threshold=5.0, max_value=5.0)
    expected_combined = np.array([0.0, 0.0, 0.0, 0.0, 5.0])
    assert_all_close(result_combined, expected_combined, rtol=1e-5)

# Keras: test_relu_combined_all_parameters
def test_relu_combined_all_parameters():
    # Define the input tensor
    x = np.array([-10, -5, 0.0, 5, 10])

    # Test with negative_slope, max_value, and threshold
    result_combined = activations.relu(
        x, negative_slope=0.5, max_value=5.0, threshold=5.0
    )
    expected_combined = np.array([-7.5, -5.0, -2.5, 0.0, 5.0])
    assert_all_close(result_combined, expected_combined, rtol=1e-5)

# Keras: test_relu_to_trigger_relu6
def test_relu_to_trigger_relu6():
    x = np.array([-10, -5, 0.0, 5, 10, 12])
    result_relu6 = activations.relu(x, max_value=6.0)
    expected_relu6 = np.array([0.0, 0.0, 0.0, 5.0, 6.0, 6.0])
    assert_all_close(result_relu6, expected_relu6, rtol=1e-5)

# Keras: test_relu_to_trigger_leaky
def test_relu_to_trigger_leaky():
    x = np.array([-10, -5, 0.0, 5, 10])
    result_leaky = activations.relu(x, negative_slope=0.5)
    expected_leaky = np.array([-5.0, -2.5, 0.0, 5.0, 10.0])
    assert_all_close(result_leaky, expected_leaky, rtol=1e-5)

# Keras: test_relu
def test_relu():
    # Basic test for positive values
    positive_values = np.random.uniform(0.1, 10, (2, 5))
    result = activations.relu(positive_values[np.newaxis, :])[0]
    assert_all_close(result, positive_values, rtol=1e-5)

    # Basic test for negative values
    negative_values = np.random.uniform(-10, -0.1, (2, 5))
    result = activations.relu(negative_values[np.newaxis, :])[0]
    expected = np.zeros((2, 5))
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.relu(x_1d)
    expected_1d = np.maximum(0, x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.relu(x_3d)
    expected_3d = np.maximum(0, x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.relu(x_zero)
    expected_zero = np.maximum(0, x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large positive values
    x_large_positive = np.random.uniform(1e4, 1e5, (2, 5))
    result_large_positive = activations.relu(x_large_positive)
    assert_all_close(result_large_positive, x_large_positive, rtol=1e-5)

    # Test large negative values
    x_large_negative = np.random.uniform(-1e5, -1e4, (2, 5))
    result_large_negative = activations.relu(x_large_negative)
    expected_large_negative = np.zeros((2, 5))
    assert_all_close(
        result_large_negative, expected_large_negative, rtol=1e-5
    )

# Keras: test_leaky_relu
def test_leaky_relu():
    leaky_relu_vectorized = np.vectorize(_ref_leaky_relu)

    # Test for negative_slope = 0.01
    # Test positive values
    positive_values = np.random.random((2, 5))
    result = activations.leaky_relu(
        positive_values[np.newaxis, :], negative_slope=0.01
    )[0]
    expected = leaky_relu_vectorized(positive_values, alpha=0.01)
    assert_all_close(result, expected, rtol=1e-5)

    # Test negative values
    negative_values = np.random.uniform(-1, 0, (2, 5))
    result = activations.leaky_relu(
        negative_values[np.newaxis, :], negative_slope=0.01
    )[0]
    expected = leaky_relu_vectorized(negative_values, alpha=0.01)
    assert_all_close(result, expected, rtol=1e-5)

    # Test for negative_slope = 0.3
    # Test positive values
    positive_values = np.random.random((2, 5))
    result = activations.leaky_relu(
        positive_values[np.newaxis, :], negative_slope=0.3
    )[0]
    expected = leaky_relu_vectorized(positive_values, alpha=0.3)
    assert_all_close(result, expected, rtol=1e-5)

    # Test negative values
    negative_values = np.random.uniform(-1, 0, (2, 5))
    result = activations.leaky_relu(
        negative_values[np.newaxis, :], negative_slope=0.3
    )[0]
    expected = leaky_relu_vectorized(negative_values, alpha=0.3)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_relu6
def test_relu6():
    relu6_vectorized = np.vectorize(_ref_relu6)

    # Test positive values less than 6
    positive_values = np.random.uniform(0, 5.9, (2, 5))
    result = activations.relu6(positive_values[np.newaxis, :])[0]
    expected = relu6_vectorized(positive_values)
    assert_all_close(result, expected, rtol=1e-5)

    # Test positive values greater than 6
    positive_values_above_6 = np.random.uniform(6.1, 10, (2, 5))
    result = activations.relu6(positive_values_above_6[np.newaxis, :])[0]
    expected = relu6_vectorized(positive_values_above_6)
    assert_all_close(result, expected, rtol=1e-5)

    # Test negative values
    negative_values = np.random.uniform(-1, 0, (2, 5))
    result = activations.relu6(negative_values[np.newaxis, :])[0]
    expected = relu6_vectorized(negative_values)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_silu
def test_silu():
    silu_vectorized = np.vectorize(_ref_silu)

    # Test positive values
    positive_values = np.random.uniform(0, 5.9, (2, 5))
    result = activations.silu(positive_values[np.newaxis, :])[0]
    expected = silu_vectorized(positive_values)
    assert_all_close(result, expected, rtol=1e-5)

    # Test values around zero (to ensure sigmoid behaves correctly)
    around_zero_values = np.random.uniform(-1, 1, (2, 5))
    result = activations.silu(around_zero_values[np.newaxis, :])[0]
    expected = silu_vectorized(around_zero_values)
    assert_all_close(result, expected, rtol=1e-5)

    # Test negative values
    negative_values = np.random.uniform(-5.9, 0, (2, 5))
    result = activations.silu(negative_values[np.newaxis, :])[0]
    expected = silu_vectorized(negative_values)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_gelu
def test_gelu():
    def gelu(x, approximate=False):
        if approximate:
            return (
                0.5
                * x
                * (
                    1.0
                    + np.tanh(
                        np.sqrt(2.0 / np.pi)
                        * (x + 0.044715 * np.power(x, 3))
                    )
                )
            )
        else:
            # Keras: `from scipy.stats import norm; return x * norm.cdf(x)`; the normal CDF with math.erf
            # (SciPy is not one of rnnkit's dependencies)
            return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / np.sqrt(2.0)))

    x = np.random.random((2, 5))
    result = activations.gelu(x[np.newaxis, :])[0]
    expected = gelu(x)
    assert_all_close(result, expected, rtol=1e-5)

    x = np.random.random((2, 5))
    result = activations.gelu(x[np.newaxis, :], approximate=True)[0]
    expected = gelu(x, True)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_celu
def test_celu():
    def celu(x, alpha=1.0):
        return np.maximum(x, 0.0) + alpha * np.expm1(
            np.minimum(x, 0.0) / alpha
        )

    x = np.random.random((2, 5))
    result = activations.celu(x[np.newaxis, :])[0]
    expected = celu(x)
    assert_all_close(result, expected, rtol=1e-5)

    x = np.random.random((2, 5))
    result = activations.celu(x[np.newaxis, :], alpha=0.5)[0]
    expected = celu(x, alpha=0.5)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_glu
def test_glu():
    def glu(x, axis=-1):
        x1, x2 = np.split(x, 2, axis)
        return x1 * (1 / (1 + np.exp(-x2)))

    x = np.random.random((2, 4))
    result = activations.glu(x[np.newaxis, :])[0]
    expected = glu(x)
    assert_all_close(result, expected, rtol=1e-5)

    x = np.random.random((2, 4))
    result = activations.glu(x[np.newaxis, :], axis=-2)[0]
    expected = glu(x, axis=-2)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_tanh_shrink
def test_tanh_shrink():
    def tanh_shrink(x):
        return x - np.tanh(x)

    x = np.random.random((2, 5))
    result = activations.tanh_shrink(x[np.newaxis, :])[0]
    expected = tanh_shrink(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_hard_tanh
def test_hard_tanh():
    def hard_tanh(x):
        return np.clip(x, -1.0, 1.0)

    x = np.random.random((2, 5))
    result = activations.hard_tanh(x[np.newaxis, :])[0]
    expected = hard_tanh(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_hard_shrink
def test_hard_shrink():
    def hard_shrink(x):
        return np.where(np.abs(x) > 0.5, x, 0.0)

    x = np.random.random((2, 5))
    result = activations.hard_shrink(x[np.newaxis, :])[0]
    expected = hard_shrink(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_threshold
def test_threshold():
    def threshold(x, threshold_value, value):
        return np.where(
            x > threshold_value, x, np.array(value, dtype=x.dtype)
        )

    x = np.random.random((2, 5))
    result = activations.threshold(x[np.newaxis, :], 0, 0)[0]
    expected = threshold(x, 0, 0)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_squareplus
def test_squareplus():
    def squareplus(x, b=4):
        y = x + np.sqrt(x**2 + b)
        return y / 2

    x = np.random.random((2, 5))
    result = activations.squareplus(x[np.newaxis, :])[0]
    expected = squareplus(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_soft_shrink
def test_soft_shrink():
    def soft_shrink(x, threshold=0.5):
        return np.where(
            x > threshold,
            x - threshold,
            np.where(x < -threshold, x + threshold, 0.0),
        )

    x = np.random.random((2, 5))
    result = activations.soft_shrink(x[np.newaxis, :])[0]
    expected = soft_shrink(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_sparse_plus
def test_sparse_plus():
    def sparse_plus(x):
        return np.where(
            x <= -1,
            np.zeros_like(x),
            np.where(x < 1, (1 / 4) * (x + 1) ** 2, x),
        )

    x = np.random.random((2, 5))
    result = activations.sparse_plus(x[np.newaxis, :])[0]
    expected = sparse_plus(x)
    assert_all_close(result, expected, rtol=1e-5)

# Keras: test_elu
def test_elu():
    x = np.random.random((2, 5))
    result = activations.elu(x[np.newaxis, :])[0]
    assert_all_close(result, x, rtol=1e-5)
    negative_values = np.array([[-1, -2]], dtype="float32")
    result = activations.elu(negative_values[np.newaxis, :])[0]
    true_result = np.exp(negative_values) - 1
    assert_all_close(result, true_result)

# Keras: test_tanh
def test_tanh():
    # Basic test for the tanh activation function
    x = np.random.random((2, 5))
    result = activations.tanh(x[np.newaxis, :])[0]
    expected = np.tanh(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Basic test for the tanh activation function
    x = np.random.uniform(-10, 10, (2, 5))
    result = activations.tanh(x[np.newaxis, :])[0]
    expected = np.tanh(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.tanh(x_1d)
    expected_1d = np.tanh(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.tanh(x_3d)
    expected_3d = np.tanh(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test with strictly positive values
    x_positive = np.random.uniform(0, 10, (2, 5))
    result_positive = activations.tanh(x_positive)
    expected_positive = np.tanh(x_positive)
    assert_all_close(result_positive, expected_positive, rtol=1e-5)

    # Test with strictly negative values
    x_negative = np.random.uniform(-10, 0, (2, 5))
    result_negative = activations.tanh(x_negative)
    expected_negative = np.tanh(x_negative)
    assert_all_close(result_negative, expected_negative, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.tanh(x_zero)
    expected_zero = np.tanh(x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large values to check stability
    x_large = np.random.uniform(1e4, 1e5, (2, 5))
    result_large = activations.tanh(x_large)
    expected_large = np.tanh(x_large)
    assert_all_close(result_large, expected_large, rtol=1e-5)

# Keras: test_exponential
def test_exponential():
    # Basic test for the exponential activation function
    x = np.random.random((2, 5))
    result = activations.exponential(x[np.newaxis, :])[0]
    expected = np.exp(x)
    assert_all_close(result, expected, rtol=1e-5)

    x = np.random.uniform(-10, 10, (2, 5))
    result = activations.exponential(x[np.newaxis, :])[0]
    expected = np.exp(x)
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.exponential(x_1d)
    expected_1d = np.exp(x_1d)
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.exponential(x_3d)
    expected_3d = np.exp(x_3d)
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test with strictly positive values
    x_positive = np.random.uniform(0, 10, (2, 5))
    result_positive = activations.exponential(x_positive)
    expected_positive = np.exp(x_positive)
    assert_all_close(result_positive, expected_positive, rtol=1e-5)

    # Test with strictly negative values
    x_negative = np.random.uniform(-10, 0, (2, 5))
    result_negative = activations.exponential(x_negative)
    expected_negative = np.exp(x_negative)
    assert_all_close(result_negative, expected_negative, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.exponential(x_zero)
    expected_zero = np.exp(x_zero)
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large values to check stability
    x_large = np.random.uniform(1e4, 1e5, (2, 5))
    result_large = activations.exponential(x_large)
    expected_large = np.exp(x_large)
    assert_all_close(result_large, expected_large, rtol=1e-5)

# Keras: test_mish
def test_mish():
    # Basic test for the mish activation function
    x = np.random.random((2, 5))
    result = activations.mish(x[np.newaxis, :])[0]
    expected = x * np.tanh(_ref_softplus(x))
    assert_all_close(result, expected, rtol=1e-5)

    x = np.random.uniform(-10, 10, (2, 5))
    result = activations.mish(x[np.newaxis, :])[0]
    expected = x * np.tanh(_ref_softplus(x))
    assert_all_close(result, expected, rtol=1e-5)

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    result_1d = activations.mish(x_1d)
    expected_1d = x_1d * np.tanh(_ref_softplus(x_1d))
    assert_all_close(result_1d, expected_1d, rtol=1e-5)

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (3, 3, 3))
    result_3d = activations.mish(x_3d)
    expected_3d = x_3d * np.tanh(_ref_softplus(x_3d))
    assert_all_close(result_3d, expected_3d, rtol=1e-5)

    # Test with strictly positive values
    x_positive = np.random.uniform(0, 10, (2, 5))
    result_positive = activations.mish(x_positive)
    expected_positive = x_positive * np.tanh(_ref_softplus(x_positive))
    assert_all_close(result_positive, expected_positive, rtol=1e-5)

    # Test with strictly negative values
    x_negative = np.random.uniform(-10, 0, (2, 5))
    result_negative = activations.mish(x_negative)
    expected_negative = x_negative * np.tanh(_ref_softplus(x_negative))
    assert_all_close(result_negative, expected_negative, rtol=1e-5)

    # Test near zero values
    x_zero = np.random.uniform(-1e-7, 1e-7, (2, 5))
    result_zero = activations.mish(x_zero)
    expected_zero = x_zero * np.tanh(_ref_softplus(x_zero))
    assert_all_close(result_zero, expected_zero, rtol=1e-5)

    # Test large values to check stability
    x_large = np.random.uniform(1e4, 1e5, (2, 5))
    result_large = activations.mish(x_large)
    expected_large = x_large * np.tanh(_ref_softplus(x_large))
    assert_all_close(result_large, expected_large, rtol=1e-5)

# Keras: test_linear
def test_linear():
    x = np.random.random((10, 5))
    assert_all_close(x, activations.linear(x))

    # Test with 1D array
    x_1d = np.random.uniform(-10, 10, 5)
    assert_all_close(x_1d, activations.linear(x_1d))

    # Test with 2D array
    x = np.random.uniform(-10, 10, (10, 5))
    assert_all_close(x, activations.linear(x))

    # Test with 3D array
    x_3d = np.random.uniform(-10, 10, (5, 5, 5))
    assert_all_close(x_3d, activations.linear(x_3d))

    # Test with float32 data type
    x_float32 = np.random.uniform(-10, 10, (10, 5)).astype(np.float32)
    assert_all_close(x_float32, activations.linear(x_float32))
    # Test with int32 data type
    x_int32 = np.random.randint(-10, 10, (10, 5)).astype(np.int32)
    assert_all_close(x_int32, activations.linear(x_int32))

# Keras: test_sparsemax
def test_sparsemax():
    # result check with 1d
    x_1d = np.linspace(1, 12, num=12)
    expected_result = np.zeros_like(x_1d)
    expected_result[-1] = 1.0
    assert_all_close(activations.sparsemax(x_1d), expected_result)

    # result check with 2d
    x_2d = np.linspace(1, 12, num=12).reshape(-1, 2)
    expected_result = np.zeros_like(x_2d)
    expected_result[:, -1] = 1.0
    assert_all_close(activations.sparsemax(x_2d), expected_result)

    # result check with 3d
    x_3d = np.linspace(1, 12, num=12).reshape(-1, 1, 3)
    expected_result = np.zeros_like(x_3d)
    expected_result[:, :, -1] = 1.0
    assert_all_close(activations.sparsemax(x_3d), expected_result)

    # result check with axis=-2 with 2d input
    x_2d = np.linspace(1, 12, num=12).reshape(-1, 2)
    expected_result = np.zeros_like(x_2d)
    expected_result[-1, :] = 1.0
    assert_all_close(
        activations.sparsemax(x_2d, axis=-2), expected_result
    )

    # result check with axis=-2 with 3d input
    x_3d = np.linspace(1, 12, num=12).reshape(-1, 1, 3)
    expected_result = np.ones_like(x_3d)
    assert_all_close(
        activations.sparsemax(x_3d, axis=-2), expected_result
    )

    # result check with axis=-3 with 3d input
    x_3d = np.linspace(1, 12, num=12).reshape(-1, 1, 3)
    expected_result = np.zeros_like(x_3d)
    expected_result[-1, :, :] = 1.0
    assert_all_close(
        activations.sparsemax(x_3d, axis=-3), expected_result
    )

    # result check with axis=-3 with 4d input
    x_4d = np.linspace(1, 12, num=12).reshape(-1, 1, 1, 2)
    expected_result = np.ones_like(x_4d)
    assert_all_close(
        activations.sparsemax(x_4d, axis=-3), expected_result
    )

# Keras: test_get_method
def test_get_method():
    obj = activations.get("relu")
    assert obj == activations.relu

    obj = activations.get(None)
    assert obj == activations.linear

    with pytest.raises(ValueError):
        activations.get("typo")


# -- rnnkit: Keras's public activations, their signatures and values -------------------------------------------
KERAS_ACTIVATIONS = ["celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
                     "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu",
                     "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
                     "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
                     "threshold"]  # dir(keras.activations) in Keras 3.15.1, less get/serialize/deserialize


@pytest.fixture(scope="module")
def keras():
    import os
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def test_every_keras_activation_is_here():
    missing = [name for name in KERAS_ACTIVATIONS if not callable(getattr(activations, name, None))]
    assert not missing
    assert activations.swish is activations.silu and activations.hard_swish is activations.hard_silu


def test_the_list_is_keras_list(keras):
    public = {n for n in dir(keras.activations) if not n.startswith("_")} - {"get", "serialize", "deserialize"}
    assert public == set(KERAS_ACTIVATIONS)


@pytest.mark.parametrize("name", KERAS_ACTIVATIONS)
def test_signature_and_defaults_are_keras(keras, name):
    import inspect

    ours = inspect.signature(getattr(activations, name)).parameters
    theirs = inspect.signature(getattr(keras.activations, name)).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]


_ARGUMENTS = {"threshold": [dict(threshold=0.1, default_value=-2.0)],
              "relu": [{}, dict(negative_slope=0.3), dict(max_value=0.5), dict(max_value=6.0), dict(threshold=0.2),
                       dict(negative_slope=0.3, max_value=1.0, threshold=-0.5)],
              "leaky_relu": [{}, dict(negative_slope=0.05)], "elu": [{}, dict(alpha=0.5)],
              "celu": [{}, dict(alpha=2.0)], "gelu": [{}, dict(approximate=True)], "squareplus": [{}, dict(b=1.0)],
              "hard_shrink": [{}, dict(threshold=1.0)], "soft_shrink": [{}, dict(threshold=1.0)],
              "softmax": [{}, dict(axis=1), dict(axis=(1, 2))], "log_softmax": [{}, dict(axis=0), dict(axis=(0, 2))],
              "sparsemax": [{}, dict(axis=1)], "glu": [{}, dict(axis=0)]}


@pytest.mark.parametrize("name", KERAS_ACTIVATIONS)
def test_values_equal_keras(keras, name):
    x = np.random.default_rng(7).uniform(-5, 5, (4, 6, 8)).astype("float32")
    for kwargs in _ARGUMENTS.get(name, [{}]):
        expected = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, **kwargs))
        assert_all_close(getattr(activations, name)(torch.from_numpy(x), **kwargs), expected, atol=2e-6,
                         rtol=1e-5)


# -- rnnkit: layers take the functions, and save them by name --------------------------------------------------
def test_get_serialize_deserialize():
    assert activations.get("swish") is activations.silu and activations.get(activations.relu) is activations.relu
    assert activations.serialize(activations.relu) == "relu" and activations.serialize(activations.swish) == "silu"
    assert activations.deserialize("hard_swish") is activations.hard_silu

    def my_act(x):
        return x * 2

    saved = activations.serialize(my_act)
    assert saved["class_name"] == "function" and saved["config"] == "my_act"
    assert activations.deserialize(saved, custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="my_act"):
        activations.deserialize(saved)
    with pytest.raises(ValueError, match="lambda"):
        activations.serialize(lambda x: x)
    with pytest.raises(ValueError, match="Could not interpret activation function identifier.*'typo'"):
        activations.get("typo")


def test_layers_take_the_functions_and_save_their_names(tmp_path):
    model = Sequential([Input((5, 3)),
                        LSTM(4, activation=activations.tanh, recurrent_activation=activations.hard_sigmoid,
                             return_sequences=True),
                        GRU(3, activation=activations.softsign, return_sequences=True),
                        SimpleRNN(3, activation=activations.relu), Dense(4, activation=activations.swish),
                        Activation(activations.softmax)])
    lstm, gru, rnn, dense, act = model.layers[-5:]
    assert (lstm.get_config()["activation"], lstm.get_config()["recurrent_activation"]) == ("tanh", "hard_sigmoid")
    assert gru.get_config()["activation"] == "softsign" and rnn.get_config()["activation"] == "relu"
    assert dense.get_config()["activation"] == "silu" and act.get_config()["activation"] == "softmax"
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    before = model.predict(x)
    model.save(tmp_path / "m.rnnkit")
    again = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(again.predict(x), before, atol=1e-6)
    assert again.layers[-2].get_config()["activation"] == "silu"


def test_a_function_and_its_name_compute_the_same():
    x = torch.randn(3, 6, 2)
    by_name = SimpleRNN(4, activation="relu", input_size=2)
    by_function = SimpleRNN(4, activation=activations.relu, input_size=2)
    by_function.set_keras_weights(by_name.keras_weights())
    np.testing.assert_allclose(by_function(x).detach().numpy(), by_name(x).detach().numpy(), atol=1e-6)
