"""Keras 3's keras/src/layers/regularization/gaussian_dropout_test.py, ported to rnnkit, with Keras's
tolerances.

Not applicable: expected_num_seed_generators (rnnkit keeps a torch.Generator only for a given seed).
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import GaussianDropout

from layer_helpers import run_layer_test


# Keras: test_gaussian_dropout_basics
def test_gaussian_dropout_basics():
    run_layer_test(GaussianDropout, init_kwargs={"rate": 0.2}, input_shape=(2, 3), call_kwargs={"training": True},
                   expected_output_shape=(2, 3), supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_gaussian_dropout_correctness
def test_gaussian_dropout_correctness():
    outputs = GaussianDropout(0.3, seed=1337)(np.ones((20, 500)), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), np.sqrt(0.3 / (1 - 0.3)), atol=0.02)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_identity_at_inference_and_mean_one_noise_while_training():
    layer = GaussianDropout(0.5, seed=0)
    x = torch.full((100, 400), 2.0)
    assert torch.equal(layer(x), x)
    y = layer(x, training=True)
    assert float(y.mean()) == pytest.approx(2.0, abs=0.02) and float(y.std()) == pytest.approx(2.0, abs=0.03)


@pytest.mark.parametrize("rate", [-0.5, 1.0, 1.5])
def test_rate_out_of_range_is_refused(rate):
    # Keras accepts rate=1 and then divides by zero while training; rnnkit refuses it up front
    with pytest.raises(ValueError, match=r"Invalid value received for argument `rate`. Expected a float value between "
                                         r"0 and 1 \(1 excluded"):
        GaussianDropout(rate)
