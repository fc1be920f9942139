"""Every optimizer rnnkit names trains a model compiled with its Keras name, and after model.save /
rnnkit.load carries on exactly where it stopped: its state (Ftrl's accumulator and linear term, Adafactor's
factored moments, Lamb's moments, ...), iteration count and config travel in the checkpoint."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import LSTM, Dense, Input, Sequential, optimizers


def _data(n=24):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4, 2)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def _model(optimizer):
    torch.manual_seed(0)
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1)])
    model.compile(optimizer, "mse")
    return model


@pytest.mark.parametrize("name", sorted(optimizers._BY_NAME))
def test_training_carries_on_after_save_and_load(name, tmp_path):
    x, y = _data()
    straight, saved = _model(name), _model(name)
    start = [p.detach().clone() for p in straight.parameters()]
    for model in (straight, saved):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert all((a != b).any() for a, b in zip(start, straight.parameters()))  # every weight moved
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.get_config() == optimizers.get(name).get_config()
    assert loaded.optimizer.iterations == 3
    for model in (straight, loaded):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert loaded.optimizer.iterations == straight.optimizer.iterations == 6
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
