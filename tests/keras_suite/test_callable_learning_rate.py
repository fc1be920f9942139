"""A learning rate given as a function of no arguments, as Keras 3 takes it (keras/src/optimizers/
base_optimizer.py: `callable(learning_rate)`, called by `_get_current_learning_rate` before each update).

Ported: optimizer_test.py `test_callable_learning_rate` (Keras's expected values). The rest are rnnkit's
own: a function that changes gives each update the rate it returns then (checked against the same rates
as a schedule), in eager and compiled fit; reading, setting, get_config and checkpoints.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Sequential, callbacks, load, optimizers, schedules

from optimizer_helpers import Weights, apply


def test_callable_learning_rate():  # Keras's test
    weights = Weights([[[1.0, 2.0], [3.0, 4.0]]], optimizers.SGD(learning_rate=lambda: 0.1))
    assert weights.optimizer.iterations == 0
    apply(weights, [[[1.0, 1.0], [1.0, 1.0]]])
    np.testing.assert_allclose(weights.values()[0], [[0.9, 1.9], [2.9, 3.9]], rtol=1e-6)
    assert weights.optimizer.iterations == 1


def Halving():
    return schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)


GRADS = ([[[1.0, -2.0], [0.5, 0.3]], [0.7, -0.1]], [[[0.2, 0.4], [-1.0, 0.6]], [0.3, 0.9]],
         [[[-0.5, 0.1], [0.2, -0.3]], [-0.6, 0.2]])


@pytest.mark.parametrize("make", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop, optimizers.AdamW])
def test_each_update_takes_the_rate_the_function_returns_then(make):
    """A function reading a rate that the caller halves before each update gives the same three updates
    as a schedule that halves it each step (a constant 0.1 would not: checked)."""
    rate = [0.1]
    by_function = Weights([[[0.3, -0.2], [0.5, 0.1]], [0.2, -0.4]], make(learning_rate=lambda: rate[0]))
    by_schedule = Weights([[[0.3, -0.2], [0.5, 0.1]], [0.2, -0.4]], make(learning_rate=Halving()))
    constant = Weights([[[0.3, -0.2], [0.5, 0.1]], [0.2, -0.4]], make(learning_rate=0.1))
    for step, grads in enumerate(GRADS):
        rate[0] = 0.1 * 0.5 ** step
        for weights in (by_function, by_schedule, constant):
            apply(weights, grads)
    for a, b in zip(by_function.values(), by_schedule.values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not np.allclose(by_function.values()[0], constant.values()[0], rtol=1e-4)


def _model(optimizer, jit_compile=False):
    torch.manual_seed(0)
    model = Sequential([Input((3,)), Dense(4, activation="tanh"), Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit_compile)
    return model


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_with_a_function_equals_fit_with_the_same_schedule(jit_compile):
    """A callback sets the rate the function reads before each batch (0.1 halved per update); fit then
    follows the schedule that halves it per update, eager and compiled."""
    x = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    rate, seen = [0.1], []

    class SetRate(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rate[0] = 0.1 * 0.5 ** len(seen)
            seen.append(rate[0])

    by_function = _model(optimizers.Adam(learning_rate=lambda: rate[0]), jit_compile)
    by_schedule = _model(optimizers.Adam(learning_rate=Halving()), jit_compile)
    h1 = by_function.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[SetRate()]).history
    h2 = by_schedule.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert len(seen) == 8
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    for a, b in zip(by_function.get_weights(), by_schedule.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_reading_calls_the_function_and_setting_is_refused():
    value = [0.3]
    spec = optimizers.SGD(learning_rate=lambda: value[0])
    assert optimizers.get_learning_rate(spec) == pytest.approx(0.3)
    weights = Weights([[1.0]], spec)
    value[0] = 0.7
    assert weights.optimizer.learning_rate == pytest.approx(0.7)  # Keras reads the function now
    with pytest.raises(TypeError, match="function as its `learning_rate`"):
        weights.optimizer.learning_rate = 0.1
    with pytest.raises(TypeError, match="function as its `learning_rate`"):
        optimizers.set_learning_rate(spec, 0.1)


def test_get_config_names_the_function_as_keras_does():
    def warm():
        return 0.01
    config = optimizers.Adam(learning_rate=warm).get_config()
    assert config["learning_rate"]["class_name"] == "function"
    assert config["learning_rate"]["config"] == "warm"


def test_a_function_that_returns_no_number_is_refused_clearly():
    with pytest.raises(TypeError, match="must return a number"):
        optimizers.SGD(learning_rate=lambda: "fast")


def test_a_class_is_not_taken_for_a_function():
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate=float)


@pytest.mark.parametrize("wrap", [lambda s: s, optimizers.LossScaleOptimizer,
                                  lambda s: optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(), {"x": s}))])
def test_a_checkpoint_cannot_keep_the_function_so_the_model_loads_uncompiled(tmp_path, wrap):
    """As with a MultiOptimizer choosing by a function: the weights load, compile is left to the user,
    rather than a constant rate standing in for the function."""
    model = _model(wrap(optimizers.SGD(learning_rate=lambda: 0.1)))
    x = np.ones((4, 3), np.float32)
    model.fit(x, np.ones((4, 1), np.float32), verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config is None
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
