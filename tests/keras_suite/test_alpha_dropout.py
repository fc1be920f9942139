"""Keras 3's keras/src/layers/regularization/alpha_dropout_test.py, ported to rnnkit, with Keras's
tolerances.

Not applicable: expected_num_seed_generators (rnnkit keeps a torch.Generator only for a given seed).
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import AlphaDropout
from rnnkit.layers.serialize import deserialize, serialize

from layer_helpers import run_layer_test


# Keras: test_alpha_dropout_basics
def test_alpha_dropout_basics():
    run_layer_test(AlphaDropout, init_kwargs={"rate": 0.2}, input_shape=(2, 3), call_kwargs={"training": True},
                   expected_output_shape=(2, 3), supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_alpha_dropout_correctness
def test_alpha_dropout_correctness():
    outputs = AlphaDropout(0.3, seed=1337)(np.ones((20, 500)).astype("float32"), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), 1.0, atol=1e-1)


# Keras: test_alpha_dropout_partial_noise_shape_dynamic
def test_alpha_dropout_partial_noise_shape_dynamic():
    outputs = AlphaDropout(0.5, noise_shape=(None, 1, None))(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :].numpy(), outputs[:, 1, :].numpy())


# Keras: test_alpha_dropout_partial_noise_shape_static
def test_alpha_dropout_partial_noise_shape_static():
    outputs = AlphaDropout(0.5, noise_shape=(20, 1, 10))(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :].numpy(), outputs[:, 1, :].numpy())


# Keras: test_alpha_dropout_negative_rate
def test_alpha_dropout_negative_rate():
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`. Expected a float value "
                                         "between 0 and 1."):
        AlphaDropout(rate=-0.5)


# Keras: test_alpha_dropout_rate_greater_than_one
def test_alpha_dropout_rate_greater_than_one():
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`. Expected a float value "
                                         "between 0 and 1."):
        AlphaDropout(rate=1.5)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_keeps_mean_and_variance_of_standardized_inputs():
    x = torch.randn(400, 500, generator=torch.Generator().manual_seed(0))
    y = AlphaDropout(0.2, seed=5)(x, training=True)
    assert abs(float(y.mean())) < 0.01 and float(y.std()) == pytest.approx(1.0, abs=0.01)
    assert torch.equal(AlphaDropout(0.2)(x), x)  # inference: the identity


def test_dropped_values_take_one_value():
    # a dropped value becomes a * (-alpha * scale) + b, the same for every dropped value
    y = AlphaDropout(0.5, seed=1)(torch.full((10, 50), 7.0), training=True)
    assert len(torch.unique(y)) == 2


def test_noise_shape_must_have_one_entry_per_axis():
    with pytest.raises(ValueError, match=r"noise_shape=\[None, 1\] has 2 entries, the input \(2, 3, 4\) has 3 axes"):
        AlphaDropout(0.5, noise_shape=(None, 1))(torch.ones(2, 3, 4), training=True)


def test_config_round_trip():
    layer = deserialize(serialize(AlphaDropout(0.25, noise_shape=(None, 1, None), seed=4)))
    assert (layer.rate, layer.noise_shape, layer.seed) == (0.25, (None, 1, None), 4)
