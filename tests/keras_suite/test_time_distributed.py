"""Keras 3's keras/src/layers/rnn/time_distributed_test.py, ported to rnnkit (Keras's default
tolerances of assertAllClose, atol=rtol=1e-6), plus Sequential's mask passing (issue 18).

Keras's TimeDistributed (time_distributed.py) checks the mask's shape, passes mask[:, t] to the
wrapped layer when that layer's call takes a `mask` argument (it zeroes nothing itself), and supports
masking (test_basics: supports_masking=True): its output carries the input's mask on.

Not applicable (Keras internals):
- test_basics: `run_layer_test` checks Keras machinery (symbolic build, Keras serialization); the
  shape and weight count it checks are checked below.
- test_build: builds on a symbolic Keras Input; ported as an eager call on a smaller frame batch.
- test_with_mask_zero: trains with Keras's compile/fit and sparse_categorical_crossentropy; ported as
  a forward pass of the same model (Embedding(mask_zero) -> TimeDistributed(Dense)).
"""

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit import Sequential
from rnnkit.initializers import Constant
from rnnkit.layers import LSTM, Conv1D, Conv2D, Dense, Embedding, Input, Layer, TimeDistributed

TOL = dict(atol=1e-6, rtol=1e-6)
MASK_SHAPE_ERROR = r"The `mask` passed to the `TimeDistributed` layer has a shape.*"


class MaskedDense(Layer):
    """Keras's test layer: Dense(units, kernel 0.01, no bias) whose output is multiplied by the mask."""

    supports_masking = True

    def __init__(self, units, name=None):
        super().__init__(name)
        self.layer = Dense(units, kernel_initializer=Constant(0.01), use_bias=False)

    def forward(self, x, training=None, mask=None):
        unmasked = self.layer(x)
        if mask is None:
            return unmasked
        return (unmasked.T * mask.to(x.dtype)).T


# Keras: test_basics
def test_basics():
    layer = TimeDistributed(Dense(1, use_bias=False))
    assert tuple(layer(torch.zeros(3, 2, 4)).shape) == (3, 2, 1)
    assert len(list(layer.parameters())) == 1
    mask = torch.tensor([[True, False]] * 3)
    assert layer.supports_masking and torch.equal(layer.compute_mask(torch.zeros(3, 2, 4), mask), mask)


# Keras: test_build
def test_build():
    out = TimeDistributed(Conv2D(64, (3, 3)))(torch.zeros(2, 10, 16, 16, 3))
    assert tuple(out.shape) == (2, 10, 14, 14, 64)


# Keras: test_correctness
def test_correctness():
    sequence = np.arange(24).reshape((3, 2, 4)).astype("float32")
    layer = TimeDistributed(layer=Dense(1, kernel_initializer=Constant(0.01), use_bias=False))
    np.testing.assert_allclose(layer(sequence).numpy(),
                               np.array([[[0.06], [0.22]], [[0.38], [0.53999996]], [[0.7], [0.86]]]), **TOL)


# Keras: test_masking
def test_masking():
    sequence = np.arange(24).reshape((3, 2, 4)).astype("float32")
    layer = TimeDistributed(layer=MaskedDense(1))
    mask = np.array([[False, True], [True, False], [True, True]])
    np.testing.assert_allclose(layer(sequence, mask=mask).numpy(),
                               np.array([[[0], [0.22]], [[0.38], [0]], [[0.7], [0.86]]]), **TOL)


# Keras: test_with_mask_zero (forward pass; see the module docstring)
def test_with_mask_zero():
    model = Sequential([Input((20,), dtype="int64"), Embedding(input_dim=10, output_dim=5, mask_zero=True),
                        TimeDistributed(Dense(units=5, activation="softmax"))])
    x = np.random.default_rng(0).integers(0, 10, size=(22, 20))
    out = model.predict(x)
    assert out.shape == (22, 20, 5)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


def _td_inputs():
    return TimeDistributed(Dense(units=5, activation="softmax")), np.zeros((4, 5, 3), dtype="float32")


# Keras: test_mask_validation_with_mismatched_timesteps
def test_mask_validation_with_mismatched_timesteps():
    td, inputs = _td_inputs()
    assert tuple(td(inputs, mask=np.ones((4, 5), dtype=bool)).shape) == (4, 5, 5)
    with pytest.raises(ValueError, match=MASK_SHAPE_ERROR):
        td(inputs, mask=np.ones((4, 6), dtype=bool))


# Keras: test_mask_validation_with_mismatched_batch_size
def test_mask_validation_with_mismatched_batch_size():
    td, inputs = _td_inputs()
    with pytest.raises(ValueError, match=MASK_SHAPE_ERROR):
        td(inputs, mask=np.ones((5, 5), dtype=bool))


# Keras: test_mask_validation_with_correct_shape
def test_mask_validation_with_correct_shape():
    td, inputs = _td_inputs()
    assert tuple(td(inputs, mask=np.ones((4, 5, 1), dtype=bool)).shape) == (4, 5, 5)


# Keras: test_mask_validation_with_3d_mask
def test_mask_validation_with_3d_mask():
    td, inputs = _td_inputs()
    assert tuple(td(inputs, mask=np.ones((4, 5, 2), dtype=bool)).shape) == (4, 5, 5)
    with pytest.raises(ValueError, match=MASK_SHAPE_ERROR):
        td(inputs, mask=np.ones((4, 6, 2), dtype=bool))


# Keras: test_mask_validation_with_none_mask
def test_mask_validation_with_none_mask():
    td, inputs = _td_inputs()
    assert tuple(td(inputs, mask=None).shape) == (4, 5, 5)


# Keras: test_mask_validation_with_both_batch_and_timesteps_mismatched
def test_mask_validation_with_both_batch_and_timesteps_mismatched():
    td, inputs = _td_inputs()
    with pytest.raises(ValueError, match=MASK_SHAPE_ERROR):
        td(inputs, mask=np.ones((5, 6), dtype=bool))


def test_mask_of_one_axis_is_refused():
    td, inputs = _td_inputs()
    with pytest.raises(ValueError, match="must be at least 2D"):
        td(inputs, mask=np.ones((4,), dtype=bool))


# -- issue 18: Sequential passes the mask to any layer whose forward takes one ----------------------
class MaskedSum(Layer):
    """Sums the real steps; keeps no mask (a custom layer taking `mask`, as in Keras's masking guide)."""

    def forward(self, x, training=None, mask=None):
        self.seen = mask
        return x.sum(1) if mask is None else (x * mask[..., None].to(x.dtype)).sum(1)


class TorchMasked(nn.Module):
    """A plain torch module that declares supports_masking and takes a mask."""

    supports_masking = True

    def forward(self, x, mask=None):
        self.seen = mask
        return x if mask is None else x * mask[..., None].to(x.dtype)


def test_sequential_passes_mask_to_custom_layers():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    torch_layer, summed = TorchMasked(), MaskedSum()
    model = Sequential([Input((4,), dtype="int64"), Embedding(5, 3, mask_zero=True), torch_layer, summed])
    out = model.predict(ids)
    expected = ids != 0
    np.testing.assert_array_equal(torch_layer.seen.numpy(), expected)  # propagated: supports_masking
    np.testing.assert_array_equal(summed.seen.numpy(), expected)
    emb = model.layers[0](ids).numpy()
    np.testing.assert_allclose(out, (emb * expected[..., None]).sum(1), atol=1e-6)


def test_sequential_drops_mask_after_layers_without_masking():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    summed = MaskedSum()
    model = Sequential([Input((4,), dtype="int64"), Embedding(5, 3, mask_zero=True), Conv1D(3, 1), summed])
    model.predict(ids)
    assert summed.seen is None  # Keras's Conv1D does not support masking (conv_test: supports_masking=False)


def test_sequential_keeps_mask_through_time_distributed():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    summed = MaskedSum()
    model = Sequential([Input((4,), dtype="int64"), Embedding(5, 3, mask_zero=True),
                        TimeDistributed(Dense(3)), summed])
    model.predict(ids)
    np.testing.assert_array_equal(summed.seen.numpy(), ids != 0)  # Keras 3.15's TimeDistributed passes it on


def test_sequential_mask_reaches_wrapped_layer():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    inner = MaskedDense(1)
    model = Sequential([Input((4,), dtype="int64"), Embedding(5, 3, mask_zero=True), TimeDistributed(inner),
                        LSTM(2)])
    model.predict(ids)
    with torch.no_grad():
        out = model.layers[1](model.layers[0](torch.as_tensor(ids)), mask=torch.as_tensor(ids != 0))
    assert float(out[0, 2:].abs().sum()) == 0.0 and float(out[0, :2].abs().sum()) > 0
