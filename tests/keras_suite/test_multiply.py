"""Keras 3's keras/src/layers/merging/merging_test.py, the Multiply cases, ported to rnnkit with
Keras's numbers and tolerances.

Keras attaches masks to tensors; rnnkit's Multiply takes them as `mask=[mask_1, mask_2]`, so
test_multiply_with_mask passes Masking().compute_mask(x) explicitly. Subtract's, Minimum's, Maximum's,
Average's and Dot's cases, and test_errors for Multiply, are in test_merging.py. Not applicable:
test_correctness_dynamic's mask check on symbolic inputs (backend.Variable masks); test_sparse.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model
from rnnkit.layers import Input, Masking, Multiply, multiply

from layer_helpers import run_layer_test


# Keras: test_basic (multiply)
def test_basic():
    layer = Multiply()
    x = [torch.randn(2, 4, 5, requires_grad=True), torch.randn(2, 4, 5, requires_grad=True)]
    y = layer(x)
    assert tuple(y.shape) == (2, 4, 5) and layer.supports_masking
    assert len(list(layer.parameters())) == 0
    y.sum().backward()
    assert all(t.grad is not None for t in x)


# Keras: test_correctness_static and test_correctness_dynamic (multiply)
@pytest.mark.parametrize("batch_size", [2, None], ids=["static", "dynamic"])
def test_correctness(batch_size):
    x1, x2 = np.random.rand(2, 4, 5), np.random.rand(2, 4, 5)
    input_1, input_2 = Input((4, 5), batch_size=batch_size), Input((4, 5), batch_size=batch_size)
    layer = Multiply()
    model = Model([input_1, input_2], layer([input_1, input_2]))
    res = model([x1, x2])
    assert tuple(res.shape) == (2, 4, 5)
    np.testing.assert_allclose(res.detach().numpy(), np.multiply(x1, x2), atol=1e-4, rtol=1e-6)
    assert layer.compute_mask([x1, x2], [None, None]) is None
    mask1, mask2 = np.ones((2, 4), dtype=np.bool_), np.ones((2, 4), dtype=np.bool_)
    assert bool(layer.compute_mask([x1, x2], [mask1, mask2]).all())


# Keras: test_multiply_with_mask
def test_multiply_with_mask():
    x1 = torch.tensor([[[0.0, 0], [1, 2], [0, 0], [3, 4]]])
    m1 = Masking().compute_mask(x1, None)
    x1 = Masking()(x1)
    x2 = torch.tensor([[[0.0, 0], [0, 0], [1, 2], [3, 4]]])

    output = Multiply()([x1, x2], mask=[m1, None])
    np.testing.assert_allclose(output.numpy(), [[[0, 0], [0, 0], [1, 2], [9, 16]]], atol=1e-6)
    assert Multiply().compute_mask([x1, x2], [m1, None]) is None

    m2 = Masking().compute_mask(x2, None)
    x2 = Masking()(x2)
    output = Multiply()([x1, x2], mask=[m1, m2])
    np.testing.assert_allclose(output.numpy(), [[[0, 0], [1, 2], [1, 2], [9, 16]]], atol=1e-6)
    np.testing.assert_allclose(Multiply().compute_mask([x1, x2], [m1, m2]).numpy(), [[0, 1, 1, 1]])


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_three_inputs_functional_form_and_save(tmp_path):
    a, b, c = Input((3,)), Input((3,)), Input((3,))
    model = Model([a, b, c], multiply([a, b, c]))
    xs = [np.random.default_rng(k).normal(size=(2, 3)).astype("float32") for k in range(3)]
    np.testing.assert_allclose(model.predict(xs, verbose=0), xs[0] * xs[1] * xs[2], atol=1e-6)
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(xs, verbose=0), xs[0] * xs[1] * xs[2],
                               atol=1e-6)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="needs tensors of one shape"):
        Multiply()([torch.ones(2, 3), torch.ones(2, 4)])
