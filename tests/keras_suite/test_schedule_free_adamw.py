"""Keras 3's ScheduleFreeAdamW, ported from keras/src/optimizers/schedule_free_adamw_test.py with Keras's
numbers and tolerances.

test_optimizer_goldens.py compares it with Keras 3.15.1 (JAX backend) over seven steps on five tensors
(options, warmup, a schedule, weight decay with exclusions, clipping, EMA, accumulation). Keras's torch
backend steps differently from its JAX one (it reads the updated z where the algorithm takes the z of
before the step, `optimizers.schedule_free_update`); the last test here shows the two.
"""

import numpy as np
import pytest
import torch

from rnnkit import Dense, Sequential, optimizers

from optimizer_helpers import CLIPPING, Weights, apply, assert_clips, assert_weight_decay


def test_config():
    spec = optimizers.ScheduleFreeAdamW(learning_rate=0.005, beta_1=0.95, beta_2=0.99, epsilon=1e-6, warmup_steps=100)
    config = spec.get_config()
    assert (config["beta_1"], config["beta_2"], config["epsilon"], config["warmup_steps"]) == (0.95, 0.99, 1e-6, 100)
    assert optimizers.ScheduleFreeAdamW.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_single_step():
    weights = Weights([[1.0, 2.0, 3.0, 4.0]], optimizers.ScheduleFreeAdamW(learning_rate=0.5))
    apply(weights, [[1.0, 6.0, 7.0, 2.0]])
    assert not np.allclose(weights.values()[0], [1.0, 2.0, 3.0, 4.0], rtol=1e-4, atol=1e-4)


def test_weight_decay():
    assert_weight_decay(lambda: optimizers.ScheduleFreeAdamW(learning_rate=1.0, weight_decay=0.004), check_first=False)


def test_warmup():
    no_warmup = Weights([[1.0, 2.0, 3.0]], optimizers.ScheduleFreeAdamW(learning_rate=0.5, warmup_steps=0))
    with_warmup = Weights([[1.0, 2.0, 3.0]], optimizers.ScheduleFreeAdamW(learning_rate=0.5, warmup_steps=10))
    for weights in (no_warmup, with_warmup):
        apply(weights, [[1.0, 1.0, 1.0]])
    diff_no_warmup = np.abs(no_warmup.values()[0] - [1.0, 2.0, 3.0])
    diff_with_warmup = np.abs(with_warmup.values()[0] - [1.0, 2.0, 3.0])
    assert np.all(diff_with_warmup < diff_no_warmup)


def test_multiple_steps():
    weights = Weights([[1.0, 2.0, 3.0]], optimizers.ScheduleFreeAdamW(learning_rate=0.01))
    for _ in range(10):
        apply(weights, [[0.1, 0.1, 0.1]])
    assert np.all(weights.values()[0] < [1.0, 2.0, 3.0])


def test_with_model():
    model = Sequential([Dense(10)])
    model.compile(optimizer=optimizers.ScheduleFreeAdamW(learning_rate=0.01), loss="mse")
    x, y = np.ones((4, 5), np.float32), np.zeros((4, 10), np.float32)
    model.fit(x, y, epochs=2, verbose=0)
    loss = model.evaluate(x, y, verbose=0)
    assert loss is not None and np.isfinite(loss)


@CLIPPING
def test_clipping(kwargs, clipped):
    assert_clips(optimizers.ScheduleFreeAdamW(**kwargs), clipped)


# ---- rnnkit's own ------------------------------------------------------------------------------------
def test_compile_takes_its_keras_name_and_the_average_starts_at_the_weights():
    model = Sequential([Dense(3)])
    model.compile("ScheduleFreeAdamW", "mse")
    model(torch.zeros(1, 2))
    start = [p.detach().clone() for p in model.parameters()]
    assert all(torch.equal(model.optimizer.state[p]["momentum"], s) for p, s in zip(model.parameters(), start))
    model.fit(np.ones((4, 2), np.float32), np.zeros((4, 3), np.float32), verbose=0)
    assert model.optimizer_config.get_config() == optimizers.ScheduleFreeAdamW().get_config()


@pytest.mark.parametrize("kwargs, message", [
    (dict(beta_1=0.0), r"ScheduleFreeAdamW: `beta_1` must be a number in \(0.0, 1.0\]. Received: beta_1=0.0"),
    (dict(beta_2=1.0), r"`beta_2` must be a number in \[0.0, 1.0\). Received: beta_2=1.0"),
    (dict(warmup_steps=-1), r"`warmup_steps` must be an integer >= 0. Received: warmup_steps=-1. 0 means no warmup"),
    (dict(epsilon=None), r"`epsilon` must be a number in \[0.0, inf\]. Received: epsilon=None"),
], ids=["beta_1", "beta_2", "warmup_steps", "epsilon"])
def test_hyper_parameters_are_checked_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.ScheduleFreeAdamW(**kwargs)


def test_keras_s_two_backends_differ_and_rnnkit_follows_jax():
    # Keras 3.15.1 on three steps of these gradients from [1, 2, 3] with learning rate 0.1 (measured): JAX
    # [0.81887794, 2.0320735, 2.883971], torch [0.8300864, 2.0410829, 2.8883908]
    weights = Weights([[1.0, 2.0, 3.0]], optimizers.ScheduleFreeAdamW(learning_rate=0.1))
    for g in ([0.5, -1.0, 2.0], [0.1, 0.2, -0.3], [1.0, 1.0, 1.0]):
        apply(weights, [g])
    np.testing.assert_allclose(weights.values()[0], [0.81887794, 2.0320735, 2.883971], rtol=0, atol=1e-6)
    assert np.abs(weights.values()[0] - [0.8300864, 2.0410829, 2.8883908]).max() > 5e-3
