"""Keras 3's Ftrl, ported from keras/src/optimizers/ftrl_test.py with Keras's numbers and messages.

Keras's tests apply gradients to bare variables; here `optimizer_helpers.apply` gives bare weights their
gradients and runs a model's apply_gradients. test_optimizer_goldens.py compares Ftrl with Keras 3.15.1
over seven steps on five tensors, with a schedule, weight decay and clipping.
"""

import numpy as np
import pytest

from rnnkit import optimizers

from optimizer_helpers import CLIPPING, Weights, apply, assert_clips, assert_golden_run

OPTIONS = dict(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
               l1_regularization_strength=0.05, l2_regularization_strength=0.15,
               l2_shrinkage_regularization_strength=0.01, beta=0.3)


def test_config():
    spec = optimizers.Ftrl(**OPTIONS)
    config = spec.get_config()
    assert {k: config[k] for k in OPTIONS} == OPTIONS
    assert optimizers.Ftrl.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_single_step():
    weights = Weights([[1.0, 2.0, 3.0, 4.0]], optimizers.Ftrl(learning_rate=0.5))
    apply(weights, [[1.0, 6.0, 7.0, 2.0]])
    np.testing.assert_allclose(weights.values()[0], [0.2218, 1.3954, 2.3651, 2.8814], rtol=1e-4, atol=1e-4)


def test_correctness_with_golden():
    golden = np.array([
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-0.0034, -0.0077, -0.0118, -0.0157, -0.0194, -0.023, -0.0263, -0.0294, -0.0325, -0.0354],
        [-0.0078, -0.0162, -0.0242, -0.0317, -0.0387, -0.0454, -0.0516, -0.0575, -0.0631, -0.0685],
        [-0.0121, -0.0246, -0.0363, -0.0472, -0.0573, -0.0668, -0.0757, -0.0842, -0.0922, -0.0999],
        [-0.0164, -0.0328, -0.0481, -0.0623, -0.0753, -0.0875, -0.099, -0.1098, -0.1201, -0.1299]])
    assert_golden_run(optimizers.Ftrl(**OPTIONS), golden)


@CLIPPING
def test_clipping(kwargs, clipped):
    assert_clips(optimizers.Ftrl(**kwargs), clipped)


@pytest.mark.parametrize("arg, value, sign", [
    ("initial_accumulator_value", -0.1, "positive or zero"), ("learning_rate_power", 0.1, "negative or zero"),
    ("l1_regularization_strength", -0.1, "positive or zero"), ("l2_regularization_strength", -0.1, "positive or zero"),
    ("l2_shrinkage_regularization_strength", -0.1, "positive or zero")])
def test_invalid_arguments(arg, value, sign):
    with pytest.raises(ValueError, match=rf"^`{arg}` needs to be {sign}. Received: {arg}={value}.$"):
        optimizers.Ftrl(**{arg: value})
