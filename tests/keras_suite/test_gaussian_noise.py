"""Keras 3's keras/src/layers/regularization/gaussian_noise_test.py, ported to rnnkit, with Keras's
tolerances.

Not applicable: expected_num_seed_generators (rnnkit keeps a torch.Generator only for a given seed).
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import GaussianNoise

from layer_helpers import run_layer_test


# Keras: test_gaussian_noise_basics
def test_gaussian_noise_basics():
    run_layer_test(GaussianNoise, init_kwargs={"stddev": 0.2}, input_shape=(2, 3), call_kwargs={"training": True},
                   expected_output_shape=(2, 3), supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_gaussian_noise_correctness
def test_gaussian_noise_correctness():
    outputs = GaussianNoise(0.3, seed=1337)(np.ones((20, 500)), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), 0.3, atol=0.02)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_identity_at_inference_and_zero_mean_noise_while_training():
    x = torch.randn(50, 400)
    layer = GaussianNoise(0.5, seed=0)
    assert torch.equal(layer(x), x)
    noise = layer(x, training=True) - x
    assert abs(float(noise.mean())) < 0.01 and float(noise.std()) == pytest.approx(0.5, abs=0.01)


def test_seed_reproduces_the_sequence_and_calls_differ():
    a, b = GaussianNoise(0.1, seed=3), GaussianNoise(0.1, seed=3)
    x = torch.zeros(4, 5)
    first = a(x, training=True)
    assert torch.equal(first, b(x, training=True))
    assert not torch.equal(first, a(x, training=True))


@pytest.mark.parametrize("stddev", [-0.1, 1.5, "0.1", None])
def test_stddev_out_of_range_is_refused(stddev):
    with pytest.raises(ValueError, match="Invalid value received for argument `stddev`. Expected a float value "
                                         "between 0 and 1.*Pass e.g. stddev=0.1"):
        GaussianNoise(stddev)
