"""Keras 3's keras/src/layers/activations/relu_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6).

Not applicable: test_compute_output_shape (rnnkit layers have no compute_output_shape; the output
shape is checked by calling the layer).
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import ReLU
from rnnkit.layers.serialize import deserialize, serialize

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_relu
def test_relu():
    run_layer_test(ReLU, init_kwargs={"max_value": 10, "negative_slope": 1, "threshold": 0.5}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 4), supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_normal_relu_correctness
def test_normal_relu_correctness():
    layer = ReLU(max_value=10, negative_slope=0.0, threshold=0)
    np.testing.assert_allclose(layer(np.array([-10, -5, 0.0, 5, 10])).numpy(), [0.0, 0.0, 0.0, 5.0, 10.0], **TOL)


# Keras: test_leaky_relu_correctness
def test_leaky_relu_correctness():
    layer = ReLU(max_value=10, negative_slope=0.5, threshold=0)
    np.testing.assert_allclose(layer(np.array([-10, -5, 0.0, 5, 10])).numpy(), [-5.0, -2.5, 0.0, 5.0, 10.0], **TOL)


# Keras: test_threshold_relu_correctness
def test_threshold_relu_correctness():
    layer = ReLU(max_value=8, negative_slope=0.0, threshold=5)
    np.testing.assert_allclose(layer(np.array([6.0, 7.0, 0.0, 5, 10])).numpy(), [6.0, 7.0, 0.0, 0.0, 8.0], **TOL)


# Keras: test_invalid_usage
def test_invalid_usage():
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative value"):
        ReLU(max_value=-10, negative_slope=1, threshold=0.5)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be None or a negative value"):
        ReLU(max_value=10, negative_slope=-10, threshold=0.5)
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be None or a negative value"):
        ReLU(max_value=10, negative_slope=1, threshold=-10)


# Keras: test_get_config
def test_get_config():
    config = ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0).get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (5.0, 0.2, 1.0)


# Keras: test_get_config_default_params
def test_get_config_default_params():
    config = ReLU().get_config()
    assert config["max_value"] is None
    assert (config["negative_slope"], config["threshold"]) == (0.0, 0.0)


# Keras: test_from_config
def test_from_config():
    layer = ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    restored = deserialize(serialize(layer))
    assert (restored.max_value, restored.negative_slope, restored.threshold) == (5.0, 0.2, 1.0)


# Keras: test_default_relu_no_args
def test_default_relu_no_args():
    np.testing.assert_allclose(ReLU()(np.array([-3.0, -1.0, 0.0, 1.0, 3.0])).numpy(), [0.0, 0.0, 0.0, 1.0, 3.0], **TOL)


# Keras: test_relu_none_max_value_is_unlimited
def test_relu_none_max_value_is_unlimited():
    x = np.array([0.0, 100.0, 1000.0, 99999.0])
    np.testing.assert_allclose(ReLU(max_value=None)(x).numpy(), x, **TOL)


# Keras: test_relu_all_zeros_input
def test_relu_all_zeros_input():
    np.testing.assert_allclose(ReLU()(np.zeros((3, 4))).numpy(), np.zeros((3, 4)), **TOL)


# Keras: test_relu_multidimensional_input
def test_relu_multidimensional_input():
    layer = ReLU()
    np.testing.assert_allclose(layer(np.array([[-1.0, 2.0], [3.0, -4.0]])).numpy(), [[0.0, 2.0], [3.0, 0.0]], **TOL)
    np.testing.assert_allclose(layer(np.ones((2, 3, 4)) * -1.0).numpy(), np.zeros((2, 3, 4)), **TOL)


# Keras: test_negative_slope_none_raises
def test_negative_slope_none_raises():
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be None or a negative value"):
        ReLU(negative_slope=None)


# Keras: test_threshold_none_raises
def test_threshold_none_raises():
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be None or a negative value"):
        ReLU(threshold=None)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_all_options_together():
    """max_value 4, slope 0.5, threshold 1: x above 1 kept (capped at 4), else 0.5 * (x - 1)."""
    x = torch.tensor([-1.0, 0.5, 1.0, 2.0, 6.0])
    np.testing.assert_allclose(ReLU(4.0, 0.5, 1.0)(x).numpy(), [-1.0, -0.25, 0.0, 2.0, 4.0], **TOL)
