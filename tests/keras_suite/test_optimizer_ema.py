"""Keras's moving average of the weights (`use_ema`, `ema_momentum`, `ema_overwrite_frequency`).

Ported from keras/src/optimizers/optimizer_test.py (test_ema, test_ema_with_model_fit), with Keras's
numbers; beyond Keras's file: fit ends by writing the averages into the weights and train_on_batch does
not, the averages survive model.save / rnnkit.load, and bad arguments get Keras's messages (that the
compiled step leaves the EMA to the eager one is in tests/test_optimizers.py). test_optimizer_goldens.py
compares several optimizers' averages with Keras 3.15.1's over seven steps.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Dense, Input, Sequential, optimizers
from rnnkit.optimizers.slots import EMA

from optimizer_helpers import Weights, apply, lstm_data, lstm_model


def _average(holder, index=0) -> np.ndarray:
    p = list(holder.parameters())[index] if not isinstance(holder, Weights) else holder.weights[index]
    return holder.optimizer.keras_slots[p][EMA].numpy()


def test_ema():  # Keras: test_ema
    weights = Weights([[[3.0, 4.0], [5.0, 6.0]]],
                      optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3))
    grads = [np.ones((2, 2))]
    apply(weights, grads)
    np.testing.assert_allclose(weights.values()[0], [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_allclose(_average(weights), [[2.0, 3.0], [4.0, 5.0]])  # started at the weights
    apply(weights, grads)
    np.testing.assert_allclose(weights.values()[0], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(_average(weights), [[1.9, 2.9], [3.9, 4.9]], rtol=1e-6)
    apply(weights, grads)  # the third step: the weights are overwritten with the average
    np.testing.assert_allclose(weights.values()[0], [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)
    np.testing.assert_allclose(_average(weights), [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)


def _dense(optimizer):
    model = Sequential([Input((1,)), Dense(2, kernel_initializer="ones", use_bias=False)])
    model.compile(loss="mse", optimizer=optimizer)
    return model


def test_ema_with_model_fit():  # Keras: test_ema_with_model_fit
    model = _dense(optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9))
    # Keras's y is zeros((1, 1)), broadcast against the (1, 2) output; rnnkit asks for the output's shape
    model.fit(np.ones((1, 1), np.float32), np.zeros((1, 2), np.float32), batch_size=1, epochs=2, verbose=0)
    np.testing.assert_allclose(_average(model), [[0.891], [0.891]], atol=1e-5)  # rnnkit's (out, in) kernel
    np.testing.assert_allclose(model.layers[-1].weight.detach().numpy(), [[0.891], [0.891]], atol=1e-5)


def test_train_on_batch_does_not_write_the_average_into_the_weights():
    # Keras's finalize_variable_values runs at the end of fit only: train_on_batch leaves SGD's weights
    model = _dense(optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9))
    for _ in range(2):
        model.train_on_batch(np.ones((1, 1), np.float32), np.zeros((1, 2), np.float32))
    np.testing.assert_allclose(model.layers[-1].weight.detach().numpy(), [[0.81], [0.81]], atol=1e-6)
    np.testing.assert_allclose(_average(model), [[0.891], [0.891]], atol=1e-6)
    model.optimizer.finalize_variable_values(model.trainable_weights)  # Keras's method, called by hand
    np.testing.assert_allclose(model.layers[-1].weight.detach().numpy(), [[0.891], [0.891]], atol=1e-6)


def test_finalize_checks_the_weights_it_is_given():
    model = _dense(optimizers.SGD(use_ema=True))
    model.train_on_batch(np.ones((1, 1), np.float32), np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match=r"length of model variables \(2\) to override does not match .* \(1\)"):
        model.optimizer.finalize_variable_values([torch.zeros(1), torch.zeros(1)])


def test_the_averages_survive_save_and_load(tmp_path):
    spec = optimizers.Adam(learning_rate=0.01, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=4)
    x, y = lstm_data()
    straight, saved = lstm_model(spec), lstm_model(spec)
    for model in (straight, saved):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.use_ema and loaded.optimizer_config.ema_overwrite_frequency == 4
    for model in (straight, loaded):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for i in range(len(list(straight.parameters()))):
        np.testing.assert_array_equal(_average(straight, i), _average(loaded, i))


@pytest.mark.parametrize("kwargs, message", [
    (dict(ema_momentum=1.5), r"`ema_momentum` must be in the range \[0, 1\]. Received: ema_momentum=1.5"),
    (dict(ema_overwrite_frequency=0), "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                      "ema_overwrite_frequency=0. Use 1 to overwrite .* every step, None"),
    (dict(ema_overwrite_frequency=2.5), "must be an integer >= 1 or None"),
])
def test_bad_ema_arguments_get_keras_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(use_ema=True, **kwargs)


def test_ema_arguments_are_only_checked_with_use_ema():
    assert optimizers.SGD(ema_momentum=1.5).use_ema is False  # as Keras: unused, so unchecked
