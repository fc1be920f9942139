"""Keras 3's keras/src/layers/activations/softmax_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6)."""

import numpy as np
import pytest
import torch

from rnnkit import Model, Sequential
from rnnkit.layers import Input, Masking, Softmax

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_softmax
def test_softmax():
    run_layer_test(Softmax, init_kwargs={}, input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4),
                   supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_softmax_correctness
def test_softmax_correctness():
    expected = [[0.21194157, 0.5761169, 0.21194157], [0.21194157, 0.5761169, 0.21194157]]
    np.testing.assert_allclose(Softmax()(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])).numpy(), expected, **TOL)


# Keras: test_softmax_correctness_with_mask
def test_softmax_correctness_with_mask():
    layer = Softmax(axis=(1, 0))
    x = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(layer(x, mask=mask).numpy(), [[0.21194154, 0.0, 0.21194154], [0.0, 0.57611686, 0.0]],
                               **TOL)


# Keras: test_softmax_correctness_with_axis
def test_softmax_correctness_with_axis():
    expected = [[0.21194157, 0.5761169, 0.21194157], [0.21194157, 0.5761169, 0.21194157]]
    np.testing.assert_allclose(Softmax(axis=1)(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])).numpy(), expected,
                               **TOL)


# Keras: test_softmax_masked_values_are_zero_including_fully_masked
def test_softmax_masked_values_are_zero_including_fully_masked():
    x = np.array([[1.0, 2.0, 5.0, 1.0], [1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 2.0, 4.0]], dtype=np.float32)
    mask = np.array([[True, True, False, False], [False, False, False, False], [True, True, True, True]])
    expected = [[0.268941, 0.731059, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.236883, 0.032059, 0.087144, 0.643914]]
    np.testing.assert_allclose(Softmax()(x, mask=mask).numpy(), expected, atol=1e-6, rtol=1e-5)


# Keras: test_softmax_mask_broadcastable
def test_softmax_mask_broadcastable():
    result = Softmax()(np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]]), mask=np.array([[1.0, 0.0, 1.0]]))
    np.testing.assert_allclose(result[:, 1].numpy(), [0.0, 0.0], **TOL)


# Keras: test_softmax_mask_broadcastable_fewer_dims
def test_softmax_mask_broadcastable_fewer_dims():
    result = Softmax(axis=-1)(np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]]), mask=np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(result[:, 1].numpy(), [0.0, 0.0], **TOL)


# Keras: test_softmax_mask_shape_mismatch
def test_softmax_mask_shape_mismatch():
    with pytest.raises(ValueError, match="broadcastable"):
        Softmax()(np.array([[1.0, 2.0, 1.0]]), mask=np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))


# Keras: test_softmax_mask_too_many_dims
def test_softmax_mask_too_many_dims():
    with pytest.raises(ValueError, match="must not have more dimensions"):
        Softmax()(np.array([[1.0, 2.0, 1.0]]), mask=np.array([[[1.0, 0.0, 1.0]]]))


# -- beyond Keras's file ---------------------------------------------------------------------------------
@pytest.mark.parametrize("as_tensor", [True, False], ids=["tensor", "numpy"])
def test_float_mask_counts_above_one_half_as_keras(as_tensor):
    mask = np.array([[0.9, 0.4, 0.6]], "float32")
    out = Softmax()(torch.tensor([[1.0, 2.0, 3.0]]), mask=torch.from_numpy(mask) if as_tensor else mask)
    assert out[0, 1] == 0 and out[0, 0] > 0 and out[0, 2] > 0


def test_multi_axis_softmax_sums_to_one_over_the_axes():
    out = Softmax(axis=(1, 2))(torch.randn(3, 4, 5))
    np.testing.assert_allclose(out.sum(dim=(1, 2)).numpy(), np.ones(3), atol=1e-6)


def test_mask_from_masking_is_aligned_with_the_last_axes_as_in_keras():
    # Keras 3.15.1 passes Masking's (batch, steps) mask to Softmax.call, which aligns it with the input's
    # LAST axes: a (2, 3, 4) input fails, and a (3, 3, 3) one is masked at [:, t, f] where mask[t, f] is
    # False (checked against Keras in test_small_layers_against_keras.py). rnnkit does the same.
    inputs = Input((3, 3))
    model = Model(inputs, Softmax()(Masking(0.0)(inputs)))
    x = np.random.default_rng(0).normal(size=(3, 3, 3)).astype("float32")
    x[1, 2] = 0.0
    out = model.predict(x, verbose=0)
    assert (out[:, 1, 2] == 0).all() and (out[1, 2] > 0).all()
    np.testing.assert_allclose(out[1, 2], [1 / 3] * 3, atol=1e-6)
    wide = Input((3, 4))
    with pytest.raises(ValueError, match="must be broadcastable"):
        Model(wide, Softmax()(Masking(0.0)(wide))).predict(np.ones((2, 3, 4), "float32"), verbose=0)
    assert Softmax().compute_mask(torch.ones(1, 2), torch.tensor([[True, False]])).tolist() == [[True, False]]


def test_axis_must_be_int_or_tuple():
    with pytest.raises(TypeError, match=r"axis must be an int or a tuple of ints, received 'last'"):
        Softmax(axis="last")


def test_sequential_softmax_saves_and_loads(tmp_path):
    import rnnkit
    model = Sequential([Input((4,)), Softmax(axis=-1)])
    model.save(tmp_path / "m.rnnkit")
    x = np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(x, verbose=0), model.predict(x, verbose=0))
