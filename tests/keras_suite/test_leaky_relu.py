"""Keras 3's keras/src/layers/activations/leaky_relu_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6)."""

import numpy as np
import pytest
import torch

from rnnkit.layers import LeakyReLU
from rnnkit.layers.serialize import deserialize, serialize

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_leaky_relu
def test_leaky_relu():
    run_layer_test(LeakyReLU, init_kwargs={"negative_slope": 1}, input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4),
                   supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_leaky_relu_correctness
def test_leaky_relu_correctness():
    layer = LeakyReLU(negative_slope=0.5)
    np.testing.assert_allclose(layer(np.array([-10, -5, 0.0, 5, 10])).numpy(), [-5.0, -2.5, 0.0, 5.0, 10.0], **TOL)


# Keras: test_invalid_usage
def test_invalid_usage():
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        LeakyReLU(negative_slope=None)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_default_slope_is_keras_0_3_and_keras2_alpha_is_taken():
    np.testing.assert_allclose(LeakyReLU()(torch.tensor([-1.0, 2.0])).numpy(), [-0.3, 2.0], **TOL)
    assert LeakyReLU(alpha=0.1).negative_slope == pytest.approx(0.1)


def test_negative_slope_error_says_what_to_pass():
    with pytest.raises(ValueError, match=r"Received: negative_slope=-1.*Pass e.g. negative_slope=0.3"):
        LeakyReLU(-1)


def test_config_round_trip():
    restored = deserialize(serialize(LeakyReLU(0.25, name="lr")))
    assert (type(restored), restored.negative_slope, restored.name) == (LeakyReLU, 0.25, "lr")
