"""Keras 3's keras/src/layers/normalization/batch_normalization_test.py, ported to rnnkit with Keras's
numbers and tolerances (assertAllClose's atol=rtol=1e-6 unless the case says otherwise).

Keras attaches a mask to the tensor Masking returns; rnnkit passes masks between layers inside models
only, so where Keras's test calls the layer on `layers.Masking()(x)` the port passes
`mask=Masking().compute_mask(x)` as well.

Not applicable:
- test_bn_basics's image case passes beta/gamma regularizers: rnnkit has none (ported without them);
- test_input_fully_masked's synchronized=True: TensorFlow only in Keras too;
- test_bachnorm_ignore_masked_values's run_eagerly: rnnkit always runs eagerly (one case per mask_value);
- test_large_value_within_autocast_scope: Keras's float16 AutocastScope;
- test_renorm_basics, test_renorm_invalid_clipping_keys, test_renorm_stddev_initializer,
  test_renorm_inference, test_renorm_correctness, test_serialization (which sets renorm): rnnkit's
  BatchNormalization has no batch renormalization.
"""

import itertools

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model, Sequential
from rnnkit.layers import LSTM, BatchNormalization, Dense, Input, Masking

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


def _not_all_close(a, b):
    assert not np.allclose(a, b, atol=1e-6, rtol=1e-6)


# Keras: test_bn_basics
@pytest.mark.parametrize("init_kwargs,input_shape,trainable", [
    ({"center": True, "scale": True}, (2, 3), 2),
    ({"center": False, "scale": False}, (2, 3), 0),
    ({"center": True, "scale": True}, (2, 4, 4, 3), 2),  # Keras adds l2 regularizers here
], ids=["vector", "no_weights", "image"])
def test_bn_basics(init_kwargs, input_shape, trainable):
    run_layer_test(BatchNormalization, init_kwargs=init_kwargs, call_kwargs={"training": True},
                   input_shape=input_shape, expected_output_shape=input_shape,
                   expected_num_trainable_weights=trainable, expected_num_non_trainable_weights=2,
                   supports_masking=True)


# Keras: test_correctness
@pytest.mark.parametrize("axis,input_shape,moving_mean_initializer,moving_variance_initializer",
                         list(itertools.product((-1, 1), ((5, 2, 3), (5, 3, 3, 2)), ("zeros", "ones"),
                                                ("zeros", "ones"))))
def test_correctness(axis, input_shape, moving_mean_initializer, moving_variance_initializer):
    layer = BatchNormalization(axis=axis, momentum=0, moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer)
    x = np.random.normal(loc=5.0, scale=10.0, size=input_shape)
    out = x
    for _ in range(3):
        out = layer(out, training=True)

    broadcast_shape = [1] * len(input_shape)
    broadcast_shape[axis] = input_shape[axis]
    out = out.detach().numpy()
    out = out - np.reshape(layer.bias.detach().numpy(), broadcast_shape)
    out = out / np.reshape(layer.weight.detach().numpy(), broadcast_shape)

    reduction_axes = list(range(len(input_shape)))
    del reduction_axes[axis]
    reduction_axes = tuple(reduction_axes)
    np.testing.assert_allclose(np.mean(out, axis=reduction_axes), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=reduction_axes), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_mean.detach().numpy(), 0.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_variance.detach().numpy(), 1.0, atol=1e-3)

    # Inference done before training shouldn't match.
    inference_out = layer(x, training=False)
    training_out = layer(x, training=True)
    _not_all_close(inference_out.numpy(), training_out.numpy())

    # Since momentum is zero, inference after training should match.
    training_out = layer(x, training=True)
    inference_out = layer(x, training=False)
    np.testing.assert_allclose(inference_out.numpy(), training_out.numpy(), **TOL)

    # Masked result with no training should not differ
    x[:, 1, :] = 0.0
    unmasked_out = layer(x, training=False)
    masked = Masking()(x)
    masked_out = layer(masked, training=False, mask=Masking().compute_mask(torch.as_tensor(x), None))
    np.testing.assert_allclose(unmasked_out.detach().numpy(), masked_out.detach().numpy(), **TOL)

    # Masked result should differ from unmasked result
    unmasked_out = layer(x, training=False)
    x[:, 1, :] = 0.0
    masked = Masking()(x)
    masked_out = layer(masked, training=True, mask=Masking().compute_mask(torch.as_tensor(x), None))
    _not_all_close(unmasked_out.detach().numpy(), masked_out.detach().numpy())


# Keras: test_input_fully_masked
def test_input_fully_masked():
    norm = BatchNormalization(scale=False, center=False)
    x = np.zeros((4, 5))
    mask = np.zeros((4,), dtype=np.float32)
    y = norm(x, mask=mask, training=True)
    np.testing.assert_allclose(y.numpy(), np.zeros_like(x, dtype=np.float32), **TOL)


# Keras: test_bachnorm_ignore_masked_values
@pytest.mark.parametrize("mask_value", [0.0, 0.1, 1])
def test_bachnorm_ignore_masked_values(mask_value):
    padded_data = np.array([[[1, 5], [2, 5], [mask_value, mask_value], [mask_value, mask_value]]
                            for _ in range(10)], dtype="float32")
    inputs = Input((None, 2))
    masked = Masking(mask_value=mask_value)(inputs)
    normed = BatchNormalization(momentum=0.0)(masked)
    model = Model(inputs, normed)
    model.compile("rmsprop", loss="mse")
    model.fit(x=padded_data, y=padded_data, batch_size=10, epochs=5, verbose=0)
    bn = model.layers[-1]
    np.testing.assert_allclose(bn.moving_mean.detach().numpy(), [1.5, 5.0], **TOL)
    np.testing.assert_allclose(bn.moving_variance.detach().numpy(), [0.25, 0.0], **TOL)


# Keras: test_trainable_behavior
def test_trainable_behavior():
    layer = BatchNormalization(axis=-1, momentum=0.8, epsilon=1e-7)
    layer.build((1, 4, 4, 3))
    layer.trainable = False
    assert len(list(layer.parameters())) == 4
    assert len([p for p in layer.parameters() if p.requires_grad]) == 0
    assert len([p for p in layer.parameters() if not p.requires_grad]) == 4

    x = np.random.normal(loc=5.0, scale=10.0, size=(200, 4, 4, 3))
    out = layer(x, training=True)
    np.testing.assert_allclose(out.numpy(), x, **TOL)

    layer.trainable = True
    assert len(list(layer.parameters())) == 4
    assert len([p for p in layer.parameters() if p.requires_grad]) == 2
    assert len([p for p in layer.parameters() if not p.requires_grad]) == 2

    for _ in range(10):
        out = layer(x, training=True)
    out = out.detach().numpy()
    out = out - np.reshape(layer.bias.detach().numpy(), (1, 1, 1, 3))
    out = out / np.reshape(layer.weight.detach().numpy(), (1, 1, 1, 3))
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=(0, 1, 2)), 1.0, atol=1e-3)


# Keras: test_masked_broadcast_normalization
def test_masked_broadcast_normalization():
    x = torch.ones(1, 2, 3, 4)
    mask = torch.ones(1, 2, 1)
    layer = BatchNormalization(axis=-1, momentum=0.0, epsilon=1e-3)
    y = layer(x, training=True, mask=mask)
    np.testing.assert_allclose(y.mean(dim=(0, 1, 2)).detach().numpy(), np.zeros(4), atol=1e-6)
    np.testing.assert_allclose(y.detach().numpy(), np.zeros((1, 2, 3, 4)), atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.detach().numpy(), np.ones(4), atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.detach().numpy(), np.zeros(4), atol=1e-6)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_moving_statistics_follow_keras_momentum_and_biased_variance():
    """moving = moving * 0.99 + batch * 0.01, with the batch's biased variance (torch.nn.BatchNorm1d
    uses 1 - momentum and the unbiased variance: both would differ here)."""
    layer = BatchNormalization()
    x = torch.tensor([[1.0], [3.0]])
    y = layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.detach().numpy(), [0.99 * 0 + 0.01 * 2.0], atol=1e-7)
    np.testing.assert_allclose(layer.moving_variance.detach().numpy(), [0.99 * 1 + 0.01 * 1.0], atol=1e-7)
    np.testing.assert_allclose(y.detach().numpy(), [[-1 / np.sqrt(1.001)], [1 / np.sqrt(1.001)]], atol=1e-6)
    before = layer.moving_mean.clone()
    layer(x)  # inference (the default outside fit): moving statistics untouched
    assert torch.equal(before, layer.moving_mean)


def test_inference_uses_moving_statistics():
    layer = BatchNormalization(epsilon=0.5)
    layer.set_keras_weights([np.array([2.0]), np.array([1.0]), np.array([3.0]), np.array([1.5])])
    out = layer(np.array([[5.0]]))
    np.testing.assert_allclose(out.numpy(), [[2.0 * (5.0 - 3.0) / np.sqrt(2.0) + 1.0]], atol=1e-6)
    assert [w.tolist() for w in layer.keras_weights()] == [[2.0], [1.0], [3.0], [1.5]]


def test_fit_updates_moving_statistics_and_summary_counts_them(tmp_path):
    model = Sequential([Input((5, 2)), LSTM(3, return_sequences=True), BatchNormalization(), LSTM(2), Dense(1)])
    bn = model.layers[1]
    assert model.count_params() == 4 * 3 * (2 + 3 + 1) + 4 * 3 + 4 * 2 * (3 + 2 + 1) + 3
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 5, 2)).astype("float32")
    model.fit(x, x[:, -1, :1], epochs=1, batch_size=4, verbose=0)
    assert not torch.allclose(bn.moving_mean, torch.zeros(3))
    assert all(p.grad is None or not p.requires_grad for p in (bn.moving_mean, bn.moving_variance))
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, **TOL)
    np.testing.assert_allclose(loaded.layers[1].moving_mean.detach().numpy(), bn.moving_mean.detach().numpy())
