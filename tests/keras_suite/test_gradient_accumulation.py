"""Keras's `gradient_accumulation_steps`: one update per n apply_gradients calls, with their mean gradient.

Ported from keras/src/optimizers/optimizer_test.py (test_gradient_accumulation with Keras's numbers, and
test_gradient_accumulation_with_weigth_decay's equivalence, here for every optimizer rnnkit names);
beyond Keras's file: fit counts updates as Keras does and a schedule reads every call, the accumulators
survive model.save / rnnkit.load mid-way, a non-finite step under a loss scale leaves them alone (as
Keras's LossScaleOptimizer skips the apply), and bad values get Keras's message. test_optimizer_goldens.py
compares every optimizer's weights and accumulators with Keras 3.15.1's over seven steps.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import LSTM, Dense, Input, Sequential, optimizers, schedules
from rnnkit.optimizers.slots import ACCUMULATOR, apply_count

from optimizer_helpers import Weights, apply, lstm_data, lstm_model


def _accumulator(weights) -> np.ndarray:
    return weights.optimizer.keras_slots[weights.weights[0]][ACCUMULATOR].numpy()


def test_gradient_accumulation():  # Keras: test_gradient_accumulation
    weights = Weights([[[1.0, 2.0], [3.0, 4.0]]], optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=3))
    assert weights.optimizer_config.gradient_accumulation_steps == 3
    grads = [np.ones((2, 2))]
    # (weights, accumulator, Keras's _iterations, iterations) after each of four calls
    expected = [([[1.0, 2.0], [3.0, 4.0]], 1.0, 1, 0), ([[1.0, 2.0], [3.0, 4.0]], 2.0, 2, 0),
                ([[0.0, 1.0], [2.0, 3.0]], 0.0, 3, 1), ([[0.0, 1.0], [2.0, 3.0]], 1.0, 4, 1)]
    for values, accumulated, calls, iterations in expected:
        apply(weights, grads)
        np.testing.assert_allclose(weights.values()[0], values)
        np.testing.assert_allclose(_accumulator(weights), np.full((2, 2), accumulated))
        assert apply_count(weights.optimizer.param_groups[0]) == calls
        assert weights.optimizer.iterations == iterations


@pytest.mark.parametrize("name", sorted(optimizers._BY_NAME))
def test_accumulating_three_batches_is_one_step_on_their_mean(name):
    # Keras: test_gradient_accumulation_with_weigth_decay (Keras lists every optimizer but Lamb)
    once = Weights([[[0.9], [0.5]]], optimizers._BY_NAME[name](weight_decay=0.05))
    thrice = Weights([[[0.9], [0.5]]], optimizers._BY_NAME[name](weight_decay=0.05, gradient_accumulation_steps=3))
    rng = np.random.default_rng(0)
    for _ in range(8):
        grads = rng.random((3, 2, 1)).astype("float32")
        apply(once, [grads.mean(axis=0)])
        for batch in grads:
            apply(thrice, [batch])
    assert np.abs(once.values()[0] - [[0.9], [0.5]]).max() > 1e-4  # they did move
    np.testing.assert_allclose(thrice.values()[0], once.values()[0], rtol=1e-5, atol=1e-6)
    assert thrice.optimizer.iterations == once.optimizer.iterations == 8


def test_fit_counts_updates_and_the_schedule_reads_every_batch():
    # Keras: iterations counts updates (calls // n); a schedule reads the calls ("real" iterations)
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = lstm_model(optimizers.SGD(learning_rate=schedule, gradient_accumulation_steps=2))
    x, y = lstm_data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # 5 batches: 2 updates, 1 gradient pending
    assert model.optimizer.iterations == 2
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 5)


def test_the_accumulators_survive_save_and_load_mid_way(tmp_path):
    spec = optimizers.Adam(learning_rate=0.01, gradient_accumulation_steps=3)
    x, y = lstm_data()
    straight, saved = lstm_model(spec), lstm_model(spec)
    for model in (straight, saved):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # 5 batches: 2 pending
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.gradient_accumulation_steps == 3
    assert loaded.optimizer.param_groups[0]["accumulated_steps"] == 2
    for model in (straight, loaded):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert loaded.optimizer.iterations == straight.optimizer.iterations == 3
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("steps", [1, -2, 2.5, True])
def test_bad_accumulation_steps_get_keras_message(steps):
    with pytest.raises(ValueError, match=r"`gradient_accumulation_steps` must be an integer >= 2 .* Received: "
                                         rf"gradient_accumulation_steps={steps!r}"):
        optimizers.RMSprop(gradient_accumulation_steps=steps)


def test_zero_accumulation_steps_means_none_as_in_keras():
    weights = Weights([[1.0]], optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=0))
    apply(weights, [[1.0]])
    np.testing.assert_allclose(weights.values()[0], [0.0])
    assert not hasattr(weights.optimizer, "keras_slots")


def test_a_non_finite_step_under_a_loss_scale_leaves_accumulators_and_average_alone():
    # Keras's LossScaleOptimizer skips the whole apply on inf/NaN: no accumulation, no EMA, no count
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1)], dtype="mixed_float16")
    model.compile(optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=3, use_ema=True), "mse")
    x, y = lstm_data(4)
    model.train_on_batch(x, y)  # one gradient accumulated, averages started
    opt, scaler = model.optimizer, model.loss_scaler
    slots = {p: {k: v.clone() for k, v in s.items()} for p, s in opt.keras_slots.items()}
    weights, scale = [p.detach().clone() for p in model.parameters()], scaler.get_scale()
    for p in model.parameters():
        p.grad = torch.full_like(p, float("inf"))
    model.apply_gradients()
    assert scaler.get_scale() == scale / 2  # the step was seen, and skipped
    assert opt.param_groups[0]["accumulated_steps"] == 1
    for p, before in zip(model.parameters(), weights):
        torch.testing.assert_close(p.detach(), before, rtol=0, atol=0)
        for key, value in slots[p].items():
            torch.testing.assert_close(opt.keras_slots[p][key], value, rtol=0, atol=0)
    model.train_on_batch(x, y)  # finite again: accumulation carries on
    assert opt.param_groups[0]["accumulated_steps"] == 2
