"""Keras 2's `decay=` argument (seed 000 writes `Adam(lr=0.009, ..., decay=0.01)`): Keras 2's optimizers
took update t's rate as lr / (1 + decay * t) (optimizer_v2 `_decayed_lr`). Keras 3 warns and ignores it;
rnnkit keeps Keras 2's meaning and warns that it does."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit import optimizers, schedules

from optimizer_helpers import Weights, apply


def test_sgd_decay_follows_keras_2s_formula():
    with pytest.warns(UserWarning, match="Keras 3 ignores it"):
        spec = optimizers.SGD(learning_rate=0.1, decay=0.5)
    weights = Weights([[1.0, -1.0]], spec)
    for _ in range(3):
        apply(weights, [[1.0, 2.0]])
    # rates 0.1 / (1 + 0.5 t) for t = 0, 1, 2: 0.1, 0.0667, 0.05
    taken = 0.1 + 0.1 / 1.5 + 0.1 / 2.0
    np.testing.assert_allclose(weights.values()[0], [1.0 - taken, -1.0 - 2 * taken], rtol=1e-6)


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adagrad", "Nadam", "Adamax"])
def test_decay_equals_inverse_time_decay(name):
    make = getattr(optimizers, name)
    with pytest.warns(UserWarning):
        decayed = Weights([[0.5, -0.3], [0.2]], make(lr=0.01, decay=0.01))
    scheduled = Weights([[0.5, -0.3], [0.2]], make(learning_rate=schedules.InverseTimeDecay(0.01, 1, 0.01)))
    plain = Weights([[0.5, -0.3], [0.2]], make(learning_rate=0.01))
    for grads in ([[0.3, -1.0], [0.5]], [[0.1, 0.4], [-0.2]], [[-0.7, 0.2], [0.9]]) * 20:
        for w in (decayed, scheduled, plain):
            apply(w, grads)
    for a, b in zip(decayed.values(), scheduled.values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not np.allclose(decayed.values()[0], plain.values()[0], rtol=1e-5)


def test_decay_is_saved_as_the_schedule():
    with pytest.warns(UserWarning):
        config = optimizers.Adam(lr=0.009, decay=0.01).get_config()
    rebuilt = optimizers.Adam.from_config(config)
    assert rebuilt.learning_rate_schedule()(4) == pytest.approx(0.009 / 1.04)


def test_zero_or_none_decay_changes_nothing():
    assert optimizers.SGD(decay=0.0) == optimizers.SGD()
    assert optimizers.Adam(decay=None) == optimizers.Adam()


@pytest.mark.parametrize("bad", [-0.1, "0.01"])
def test_bad_decay_is_refused(bad):
    with pytest.raises(ValueError, match="decay"):
        optimizers.SGD(decay=bad)


def test_decay_with_a_schedule_is_refused():
    with pytest.raises(ValueError, match="needs a float learning_rate"):
        optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9), decay=0.01)
