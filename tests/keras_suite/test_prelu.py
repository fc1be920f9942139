"""Keras 3's keras/src/layers/activations/prelu_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6)."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Sequential
from rnnkit.layers import Dense, Input, PReLU

from layer_helpers import run_layer_test


def np_prelu(x, alpha):
    return (x > 0) * x + (x <= 0) * alpha * x


# Keras: test_prelu
def test_prelu():
    layer = run_layer_test(PReLU, init_kwargs={"alpha_initializer": "zeros", "alpha_regularizer": "L1",
                                               "alpha_constraint": "MaxNorm", "shared_axes": 1},
                           input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4), expected_num_trainable_weights=1,
                           supports_masking=True)
    assert tuple(layer.alpha.shape) == (1, 4)
    assert len(layer.losses) == 1  # Keras's expected_num_losses: the alpha regularizer's penalty


# Keras: test_prelu_correctness
def test_prelu_correctness():
    inputs = np.random.randn(2, 10, 5, 3)
    layer = PReLU(alpha_initializer="glorot_uniform", alpha_regularizer="l1", alpha_constraint="non_neg",
                  shared_axes=(1, 2))
    layer.build(inputs.shape)
    weights = np.random.random((1, 1, 3))
    layer.set_keras_weights([weights])
    np.testing.assert_allclose(layer(inputs).numpy(), np_prelu(inputs, weights), atol=1e-6, rtol=1e-6)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_alpha_has_the_input_shape_without_batch_and_trains():
    layer = PReLU()
    x = torch.randn(4, 6, 3)
    layer(x).sum().backward()
    assert tuple(layer.alpha.shape) == (6, 3)
    np.testing.assert_allclose(layer.alpha.grad.numpy(), (-torch.relu(-x)).sum(0).numpy(), atol=1e-5)


def test_constraint_and_regularizer_act_on_alpha():
    layer = PReLU(alpha_regularizer=rnnkit.regularizers.L1(0.5), alpha_constraint="non_neg")
    layer.build((None, 3))
    layer.set_keras_weights([np.array([-1.0, 2.0, -3.0])])
    assert float(layer.losses[0].detach()) == pytest.approx(0.5 * 6.0)
    layer.apply_constraints()
    assert layer.alpha.tolist() == [0.0, 2.0, 0.0]


def test_input_of_another_shape_is_refused():
    layer = PReLU(shared_axes=[1])
    layer(torch.zeros(2, 5, 3))
    layer(torch.zeros(2, 7, 3))  # the shared time axis may change length
    with pytest.raises(ValueError, match=r"was built for inputs \(batch, 1, 3\).*received input shape \(2, 5, 4\)"):
        layer(torch.zeros(2, 5, 4))


def test_shared_axes_must_be_axes_after_the_batch():
    with pytest.raises(ValueError, match=r"shared_axes must be None, an axis or a list of axes >= 1.*received \[0\]"):
        PReLU(shared_axes=[0])


def test_model_saves_and_loads_alpha(tmp_path):
    model = Sequential([Input((5, 3)), PReLU(alpha_initializer="ones", shared_axes=[1]), Dense(2)])
    model.layers[0].set_keras_weights([np.array([[0.1, 0.2, 0.3]])])
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert loaded.layers[0].alpha.tolist() == [[pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3)]]
