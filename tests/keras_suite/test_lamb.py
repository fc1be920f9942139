"""Keras 3's Lamb, ported from keras/src/optimizers/lamb_test.py with Keras's numbers.

test_optimizer_goldens.py compares Lamb with Keras 3.15.1 over seven steps on five tensors. rnnkit checks
Lamb's hyper-parameters when it is made (Keras does not).
"""

import numpy as np
import pytest

from rnnkit import optimizers

from optimizer_helpers import CLIPPING, Weights, apply, assert_clips, assert_golden_run, assert_weight_decay


def test_config():
    spec = optimizers.Lamb(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5)
    config = spec.get_config()
    assert (config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"]) == (0.5, 0.5, 0.67, 1e-5)
    assert optimizers.Lamb.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_single_step():
    weights = Weights([[1.0, 2.0, 3.0, 4.0]], optimizers.Lamb(learning_rate=0.5))
    apply(weights, [[1.0, 6.0, 7.0, 2.0]])
    np.testing.assert_allclose(weights.values()[0], [-0.3693, 0.6306, 1.6306, 2.6306], rtol=1e-4, atol=1e-4)


def test_weight_decay():
    assert_weight_decay(lambda: optimizers.Lamb(learning_rate=1.0, weight_decay=0.004))


def test_correctness_with_golden():
    golden = np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10))
    assert_golden_run(optimizers.Lamb(), golden)


@CLIPPING
def test_clipping(kwargs, clipped):
    assert_clips(optimizers.Lamb(**kwargs), clipped)


def test_the_trust_ratio_is_one_for_zero_weights():
    # |w| = 0: Keras's ratio is 1, so the first step from zeros is Adam's bias-corrected step (lr * ~sign(g))
    weights = Weights([np.zeros(3)], optimizers.Lamb(learning_rate=0.1))
    apply(weights, [[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(weights.values()[0], [-0.1, 0.1, -0.1], rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(beta_1=1.0), r"Lamb: `beta_1` must be a number in \[0.0, 1.0\). Received: beta_1=1.0. It is the decay rate"),
    (dict(beta_2=-0.1), r"`beta_2` must be a number in \[0.0, 1.0\). Received: beta_2=-0.1"),
    (dict(beta_1="0.9"), r"`beta_1` must be a number.*Received: beta_1='0.9'"),
    (dict(epsilon=-1e-7), r"Lamb: `epsilon` must be a number in \[0.0, inf\]. Received: epsilon=-1e-07. It keeps"),
], ids=["beta_1-one", "beta_2-negative", "beta_1-string", "epsilon-negative"])
def test_hyper_parameters_are_checked_when_made(kwargs, message):
    # Keras's Lamb takes them unchecked (beta_1=1 divides by 1 - 1 ** t = 0 at the first step): rnnkit says so
    with pytest.raises(ValueError, match=message):
        optimizers.Lamb(**kwargs)
