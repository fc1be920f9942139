"""Keras 3's tests of its noise layers, ported to rnnkit with Keras's tolerances:
keras/src/layers/regularization/gaussian_noise_test.py, gaussian_dropout_test.py and alpha_dropout_test.py
(their three *_basics tests are one parametrized test here).

Not applicable: expected_num_seed_generators (rnnkit keeps a torch.Generator only for a given seed).
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import AlphaDropout, GaussianDropout, GaussianNoise
from rnnkit.layers.serialize import deserialize, serialize

from layer_helpers import run_layer_test


# Keras: test_gaussian_noise_basics, test_gaussian_dropout_basics, test_alpha_dropout_basics
@pytest.mark.parametrize("cls, init_kwargs", [(GaussianNoise, {"stddev": 0.2}), (GaussianDropout, {"rate": 0.2}),
                                              (AlphaDropout, {"rate": 0.2})])
def test_basics(cls, init_kwargs):
    run_layer_test(cls, init_kwargs=init_kwargs, input_shape=(2, 3), call_kwargs={"training": True},
                   expected_output_shape=(2, 3), supports_masking=True, assert_built_after_instantiation=True)


# -- GaussianNoise -----------------------------------------------------------------------------------------------
# Keras: test_gaussian_noise_correctness
def test_gaussian_noise_correctness():
    outputs = GaussianNoise(0.3, seed=1337)(np.ones((20, 500)), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), 0.3, atol=0.02)


# -- GaussianNoise, beyond Keras's file --------------------------------------------------------------------------
def test_gaussian_noise_is_identity_at_inference_and_zero_mean_while_training():
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


# -- GaussianDropout ---------------------------------------------------------------------------------------------
# Keras: test_gaussian_dropout_correctness
def test_gaussian_dropout_correctness():
    outputs = GaussianDropout(0.3, seed=1337)(np.ones((20, 500)), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), np.sqrt(0.3 / (1 - 0.3)), atol=0.02)


# -- GaussianDropout, beyond Keras's file ------------------------------------------------------------------------
def test_gaussian_dropout_is_identity_at_inference_and_mean_one_while_training():
    layer = GaussianDropout(0.5, seed=0)
    x = torch.full((100, 400), 2.0)
    assert torch.equal(layer(x), x)
    y = layer(x, training=True)
    assert float(y.mean()) == pytest.approx(2.0, abs=0.02) and float(y.std()) == pytest.approx(2.0, abs=0.03)


@pytest.mark.parametrize("rate", [-0.5, 1.0, 1.5])
def test_gaussian_dropout_rate_out_of_range_is_refused(rate):
    # Keras accepts rate=1 and then divides by zero while training; rnnkit refuses it up front
    with pytest.raises(ValueError, match=r"Invalid value received for argument `rate`. Expected a float value between "
                                         r"0 and 1 \(1 excluded"):
        GaussianDropout(rate)


# -- AlphaDropout ------------------------------------------------------------------------------------------------
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


# -- AlphaDropout, beyond Keras's file ---------------------------------------------------------------------------
def test_alpha_dropout_keeps_mean_and_variance_of_standardized_inputs():
    x = torch.randn(400, 500, generator=torch.Generator().manual_seed(0))
    y = AlphaDropout(0.2, seed=5)(x, training=True)
    assert abs(float(y.mean())) < 0.01 and float(y.std()) == pytest.approx(1.0, abs=0.01)
    assert torch.equal(AlphaDropout(0.2)(x), x)  # inference: the identity


def test_alpha_dropout_dropped_values_take_one_value():
    # a dropped value becomes a * (-alpha * scale) + b, the same for every dropped value
    y = AlphaDropout(0.5, seed=1)(torch.full((10, 50), 7.0), training=True)
    assert len(torch.unique(y)) == 2


def test_noise_shape_must_have_one_entry_per_axis():
    with pytest.raises(ValueError, match=r"noise_shape=\[None, 1\] has 2 entries, the input \(2, 3, 4\) has 3 axes"):
        AlphaDropout(0.5, noise_shape=(None, 1))(torch.ones(2, 3, 4), training=True)


def test_alpha_dropout_config_round_trip():
    layer = deserialize(serialize(AlphaDropout(0.25, noise_shape=(None, 1, None), seed=4)))
    assert (layer.rate, layer.noise_shape, layer.seed) == (0.25, (None, 1, None), 4)
