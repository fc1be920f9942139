"""ReduceLROnPlateau and LearningRateScheduler, ported from Keras 3's tests (github.com/keras-team/keras):
keras/src/callbacks/reduce_lr_on_plateau_test.py and learning_rate_scheduler_test.py. Keras's
`assertLogs` on io_utils messages becomes capsys; Keras's `optimizer.learning_rate.value` becomes
`optimizers.get_learning_rate(model.optimizer)`.
"""

import shutil

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Sequential, optimizers
from rnnkit.callbacks import LearningRateScheduler, ReduceLROnPlateau
from rnnkit.schedules import PolynomialDecay


def get_test_data(train_samples, test_samples, input_shape, num_classes, seed=1337):
    """keras/src/testing/test_utils.py get_test_data: class-dependent centres plus noise."""
    rng = np.random.default_rng(seed)
    n = train_samples + test_samples
    centres = rng.standard_normal((num_classes, *input_shape))
    y = rng.integers(0, num_classes, size=(n,))
    x = (centres[y] + rng.standard_normal((n, *input_shape))).astype("float32")
    return (x[:train_samples], y[:train_samples]), (x[train_samples:], y[train_samples:])


def to_categorical(y, num_classes=2):
    return np.eye(num_classes, dtype="float32")[y]


def lr(model):
    return optimizers.get_learning_rate(model.optimizer)


# -- reduce_lr_on_plateau_test.py ---------------------------------------------------------------------------
@pytest.fixture
def plateau():
    (x_train, y_train), (x_test, y_test) = get_test_data(10, 10, (3,), 2)
    model = Sequential([Dense(5), Dense(2)])
    model.compile(loss="mse", optimizer=optimizers.Adam(0.1))
    return model, x_train, to_categorical(y_train), (x_test, to_categorical(y_test))


def test_reduces_lr_with_model_fit(plateau):
    model, x, y, val = plateau
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100)
    history = model.fit(x, y, validation_data=val, callbacks=[reduce_lr], epochs=2, verbose=0)
    assert lr(model) == pytest.approx(0.01)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1])  # logged before the reduction


def test_reduce_lr_throws_when_optimizer_has_schedule(plateau):
    model, x, y, val = plateau
    model.compile(loss="mse", optimizer=optimizers.Adam(PolynomialDecay(initial_learning_rate=0.1, decay_steps=10)))
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100)
    with pytest.raises(TypeError, match="This optimizer was created with a `LearningRateSchedule`"):
        model.fit(x, y, validation_data=val, callbacks=[reduce_lr], epochs=2, verbose=0)


def test_reduce_lr_verbose_logging(plateau, capsys):
    model, x, y, val = plateau
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100, verbose=1)
    model.fit(x, y, validation_data=val, callbacks=[reduce_lr], epochs=2, verbose=0)
    assert "ReduceLROnPlateau reducing learning rate to 0.01" in capsys.readouterr().out


def test_reduce_lr_honors_min_lr(plateau):
    model, x, y, val = plateau
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=10, min_lr=0.005)
    model.fit(x, y, validation_data=val, callbacks=[reduce_lr], epochs=4, verbose=0)
    assert lr(model) == pytest.approx(0.005)


def test_reduce_lr_cooldown(plateau):
    model, x, y, val = plateau
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100, cooldown=2)
    model.fit(x, y, validation_data=val, callbacks=[reduce_lr], epochs=4, verbose=0)
    assert lr(model) == pytest.approx(0.001)  # a cooldown of 2: reduced every other epoch, twice in 4


def test_reduce_lr_state_reset_across_fit_calls(plateau):
    model = plateau[0]
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, monitor="loss", min_delta=0, cooldown=2)
    reduce_lr.set_model(model)
    reduce_lr.on_train_begin()
    reduce_lr.best, reduce_lr.wait, reduce_lr.cooldown_counter = 0.5, 3, 2
    reduce_lr.on_train_begin()
    assert reduce_lr.best is None and reduce_lr.wait == 0 and reduce_lr.cooldown_counter == 0


def test_reduce_lr_factor_must_be_below_one():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# -- learning_rate_scheduler_test.py ------------------------------------------------------------------------
@pytest.fixture
def scheduled():
    (x_train, y_train), _ = get_test_data(10, 10, (3,), 2)
    model = Sequential([Dense(5), Dense(2)])
    model.compile(loss="mse", optimizer="sgd")
    return model, x_train, to_categorical(y_train)


def test_scheduler_updates_learning_rate(scheduled):
    model, x, y = scheduled
    model.fit(x, y, callbacks=[LearningRateScheduler(lambda step: 1.0 / (2.0 + step), verbose=1)], epochs=1,
              verbose=0)
    assert lr(model) == 0.5


def test_scheduler_verbose_logging(scheduled, capsys):
    model, x, y = scheduled
    model.fit(x, y, callbacks=[LearningRateScheduler(lambda step: 1.0 / (1.0 + step), verbose=1)], epochs=1,
              verbose=0)
    assert "LearningRateScheduler setting learning rate to 1.0" in capsys.readouterr().out


def test_schedule_dependent_on_previous_learning_rate(scheduled):
    model, x, y = scheduled
    model.compile(loss="mse", optimizer=optimizers.Adam(0.03))
    model.fit(x, y, callbacks=[LearningRateScheduler(lambda step, lr: lr / 2)], epochs=2, verbose=0)
    assert lr(model) == 0.03 / 4.0


def test_scheduler_throws_when_optimizer_has_schedule(scheduled):
    model, x, y = scheduled
    model.compile(loss="mse", optimizer=optimizers.Adam(PolynomialDecay(initial_learning_rate=0.1, decay_steps=10)))
    with pytest.raises(TypeError, match="This optimizer was created with a `LearningRateSchedule`"):
        model.fit(x, y, callbacks=[LearningRateScheduler(lambda step, lr: lr / 2)], epochs=2, verbose=0)


def test_learning_rate_in_history(scheduled):
    model, x, y = scheduled
    history = model.fit(x, y, callbacks=[LearningRateScheduler(lambda step, lr: 0.5)], epochs=1, verbose=0)
    assert "learning_rate" in history.history
    assert type(history.history["learning_rate"][0]) is float and history.history["learning_rate"][0] == 0.5


def test_scheduler_output_must_be_a_float(scheduled):  # learning_rate_scheduler.py's check
    model, x, y = scheduled
    with pytest.raises(ValueError, match="output of the `schedule` function should be a float"):
        model.fit(x, y, callbacks=[LearningRateScheduler(lambda step, lr: "fast")], epochs=1, verbose=0)


def test_scheduler_rate_is_the_one_trained_with(scheduled):  # beyond Keras's file: the update uses it
    model, x, y = scheduled
    model.fit(x, y, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.125)], epochs=1, verbose=0)
    assert all(group["lr"] == 0.125 for group in model.optimizer.param_groups)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="torch.compile needs a C++ compiler on CPU")
def test_scheduler_is_honoured_by_the_compiled_step():  # beyond Keras's file: Adam's update in the graph
    def run(jit_compile):
        torch.manual_seed(0)
        model = Sequential([Input((3,)), Dense(5), Dense(2)])
        model.compile(loss="mse", optimizer=optimizers.Adam(0.03), jit_compile=jit_compile)
        (x, y), _ = get_test_data(10, 10, (3,), 2)
        history = model.fit(x, to_categorical(y), batch_size=5, epochs=3, shuffle=False, verbose=0,
                            callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)])
        return model, history.history

    model, jit = run(True)
    assert model._train_function.fallback is None and model._train_function.compiled_calls == 6
    _, eager = run(False)
    np.testing.assert_allclose(jit["loss"], eager["loss"], rtol=1e-5)
    assert jit["learning_rate"] == eager["learning_rate"] == [0.1, 0.05, 0.025]
