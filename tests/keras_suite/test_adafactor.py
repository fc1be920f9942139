"""Keras 3's Adafactor, ported from keras/src/optimizers/adafactor_test.py with Keras's numbers.

test_optimizer_goldens.py compares Adafactor with Keras 3.15.1 over seven steps on five tensors (a 3-axis
one among them), with a schedule, weight decay and global_clipnorm.
"""

import numpy as np

from rnnkit import optimizers

from optimizer_helpers import CLIPPING, Weights, apply, assert_clips, assert_golden_run, assert_weight_decay

OPTIONS = dict(learning_rate=0.5, beta_2_decay=-0.65, epsilon_1=1e-15, epsilon_2=1e-4, clip_threshold=0.9,
               relative_step=False)


def test_config():
    spec = optimizers.Adafactor(**OPTIONS)
    config = spec.get_config()
    assert {k: config[k] for k in OPTIONS} == OPTIONS
    assert optimizers.Adafactor.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_single_step_1d():
    weights = Weights([[1.0, 2.0, 3.0, 4.0]], optimizers.Adafactor(learning_rate=0.5))
    apply(weights, [[1.0, 6.0, 7.0, 2.0]])
    np.testing.assert_allclose(weights.values()[0], [-0.3693, 0.6307, 1.6307, 2.6307], rtol=1e-4, atol=1e-4)


def test_single_step_2d():
    weights = Weights([[[1.0, 2.0], [3.0, 4.0]]], optimizers.Adafactor(learning_rate=0.5))
    apply(weights, [[[1.0, 6.0], [7.0, 2.0]]])
    np.testing.assert_allclose(weights.values()[0], [[0.7007, -0.0081], [1.2492, 3.4407]], rtol=1e-4, atol=1e-4)


def test_a_matrix_steps_the_same_transposed():
    # rnnkit keeps Dense and recurrent kernels as Keras's transposed: the factored step must not care
    rng = np.random.default_rng(0)
    w, grads = rng.normal(size=(3, 5)), rng.normal(size=(4, 3, 5))
    keras_layout, rnnkit_layout = (Weights([a], optimizers.Adafactor(learning_rate=0.1)) for a in (w, w.T))
    for g in grads:
        apply(keras_layout, [g])
        apply(rnnkit_layout, [g.T])
    np.testing.assert_allclose(rnnkit_layout.values()[0], keras_layout.values()[0].T, rtol=1e-6, atol=1e-7)
    assert np.abs(keras_layout.values()[0] - w).max() > 1e-2


def test_weight_decay():
    assert_weight_decay(lambda: optimizers.Adafactor(learning_rate=1.0, weight_decay=0.004))


def test_correctness_with_golden():
    golden = np.array([
        [0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55],
        [0.3031, 0.3026, 0.3025, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024],
        [0.1671, 0.1665, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663],
        [0.0923, 0.0916, 0.0915, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914],
        [0.0554, 0.0548, 0.0546, 0.0546, 0.0546, 0.0546, 0.0546, 0.0545, 0.0545, 0.0545]])
    assert_golden_run(optimizers.Adafactor(**OPTIONS), golden)


@CLIPPING
def test_clipping(kwargs, clipped):
    assert_clips(optimizers.Adafactor(**kwargs), clipped)
