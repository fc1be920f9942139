"""Each topology trains on a small task and beats a trivial baseline by a stated margin (fixed seeds)."""

import numpy as np
import pytest
import torch

from rnnkit import optimizers
from rnnkit.data import bit_sums, sine_waves
from rnnkit.models import Autoencoder, ManyToMany, ManyToOne, OneToMany, Seq2Seq


def test_many_to_one_learns_bit_sums():
    torch.manual_seed(0)
    x, y = bit_sums(512, 10, seed=0)
    model = ManyToOne(features=1, units=16)
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    xt, yt = bit_sums(200, 10, seed=1)
    baseline = np.mean((yt - y.mean()) ** 2)  # predict the training mean
    assert model.evaluate(xt, yt) < baseline / 10


def test_many_to_many_learns_running_sums():
    torch.manual_seed(0)
    x, y = bit_sums(512, 10, cumulative=True, seed=0)
    model = ManyToMany(features=1, units=16)
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    xt, yt = bit_sums(200, 10, cumulative=True, seed=1)
    baseline = np.mean((yt - y.mean(axis=0)) ** 2)  # the mean running sum at each step
    assert model.evaluate(xt, yt) < baseline / 10
    assert model.predict(xt).shape == (200, 10, 1)


@pytest.mark.parametrize("mode", ["repeat", "feedback"])
def test_one_to_many_learns_to_count_up(mode):
    # one number in, its next 5 successors out (scaled)
    torch.manual_seed(0)
    start = np.random.default_rng(0).uniform(0, 1, (256, 1)).astype("float32")
    y = (start[:, None, :] + 0.1 * np.arange(1, 6)[None, :, None]).astype("float32")
    model = OneToMany(features=1, horizon=5, units=16, outputs=1, mode=mode)
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(start, y, epochs=60, batch_size=32, verbose=0)
    baseline = np.mean((y - y.mean(axis=0)) ** 2)
    assert model.predict(start).shape == (256, 5, 1)
    assert model.evaluate(start, y) < baseline / 10


def test_feedback_needs_outputs_equal_features():
    with pytest.raises(ValueError, match=r"outputs \(1\) must equal features \(3\)"):
        OneToMany(features=3, horizon=4, outputs=1, mode="feedback")


@pytest.mark.parametrize("teacher_forcing", [False, True], ids=["free-running", "teacher-forced"])
def test_seq2seq_continues_sine_waves_better_than_last_value(teacher_forcing):
    torch.manual_seed(0)
    data = sine_waves(256, 60, features=2, seed=0)
    x, y = data[:, :40], data[:, 40:]
    model = Seq2Seq(features=2, horizon=20, units=[24], teacher_forcing=teacher_forcing)
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    test = sine_waves(64, 60, features=2, split="test", seed=0)
    pred = model.predict(test[:, :40])
    mae = np.abs(pred - test[:, 40:]).mean()
    last_value = np.abs(test[:, 39:40] - test[:, 40:]).mean()
    assert pred.shape == (64, 20, 2)
    assert mae < 0.6 * last_value


def test_seq2seq_horizon_mismatch_in_fit():
    model = Seq2Seq(features=1, horizon=5, units=4, teacher_forcing=True)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"horizon=5"):
        model.fit(np.zeros((4, 10, 1)), np.zeros((4, 3, 1)), verbose=0)


def test_autoencoder_reconstructs_better_than_the_mean():
    torch.manual_seed(0)
    data = sine_waves(256, 16, features=1, seed=0)
    ae = Autoencoder(features=1, time_steps=16, latent=8, units=[16])
    ae.compile(optimizers.Adam(learning_rate=0.01), "mse")
    ae.fit(data, data, epochs=40, batch_size=32, verbose=0)
    test = sine_waves(64, 16, features=1, split="test", seed=0)
    baseline = np.mean((test - test.mean()) ** 2)
    assert ae.evaluate(test, test) < baseline / 4
    assert ae.encode(test).shape == (64, 8)
