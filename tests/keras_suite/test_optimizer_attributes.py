"""Keras's optimizer attributes on a compiled model's optimizer: `learning_rate` (and the old `lr`),
`iterations`, as keras/src/optimizers/optimizer_test.py and Keras scripts use them
(`model.optimizer.learning_rate = 1e-4`, `print(model.optimizer.iterations)`)."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, load, optimizers, schedules


def _model(optimizer="adam", jit=False):
    model = Sequential([Input((3, 2)), LSTM(4), Dense(1)])
    model.compile(optimizer, "mse", jit_compile=jit)
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3, 2)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"])
def test_iterations_count_the_updates_applied(name):
    # Keras: test_iterations_counter - one per apply_gradients, i.e. per batch.
    model = _model(name)
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model.optimizer.iterations == 8
    model.train_on_batch(x[:16], y[:16])
    assert model.optimizer.iterations == 9
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert model.optimizer.iterations == 9  # no update, no count


def test_iterations_count_in_the_compiled_step_too():
    model = _model(jit=True)
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.optimizer.iterations == 4


def test_learning_rate_is_read_and_set_as_in_keras():
    model = _model(optimizers.Adam(learning_rate=0.01))
    x, y = _data()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    opt = model.optimizer
    assert isinstance(opt, torch.optim.Adam)  # still torch's optimizer
    assert opt.learning_rate == pytest.approx(0.01) and opt.lr == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert all(g["lr"] == 0.5 for g in opt.param_groups) and opt.lr == 0.5
    opt.lr = np.float32(0.25)  # Keras scripts assign NumPy scalars
    assert opt.learning_rate == 0.25


def test_a_schedule_gives_its_current_value_and_refuses_assignment():
    # Keras: reading learning_rate under a schedule gives schedule(iterations); assigning raises TypeError.
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    model = _model(optimizers.SGD(learning_rate=schedule))
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # 4 updates
    assert model.optimizer.iterations == 4
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2)
    with pytest.raises(TypeError):
        model.optimizer.learning_rate = 0.3


def test_the_count_and_rate_survive_save_and_load(tmp_path):
    model = _model(optimizers.Adam(learning_rate=0.01))
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.002
    model.save(tmp_path / "m.rnnkit")
    again = load(tmp_path / "m.rnnkit")
    again.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert again.optimizer.iterations == 8 and again.optimizer.learning_rate == pytest.approx(0.002)
