"""rnnkit.utils, ported from Keras 3's keras/src/utils/numerical_utils_test.py (to_categorical's cases,
github.com/keras-team/keras), with set_random_seed (keras/src/utils/rng_utils.py) and the data aliases
keras.utils keeps, and test_normalize (orders 1, 2, 3; NumPy and tensors). Not ported: build_pos_neg_masks
(a helper of Keras's losses, not in keras.utils).
"""

import random

import numpy as np
import pytest
import torch

import rnnkit.preprocessing
import rnnkit.utils
from rnnkit.preprocessing import sequence

NUM_CLASSES = 5


@pytest.mark.parametrize("shape, expected_shape", [
    ((1,), (1, NUM_CLASSES)), ((3,), (3, NUM_CLASSES)), ((4, 3), (4, 3, NUM_CLASSES)),
    ((5, 4, 3), (5, 4, 3, NUM_CLASSES)), ((3, 1), (3, NUM_CLASSES)), ((3, 2, 1), (3, 2, NUM_CLASSES)),
])
def test_to_categorical(shape, expected_shape):
    label = np.random.randint(0, NUM_CLASSES, shape)
    one_hot = rnnkit.utils.to_categorical(label, NUM_CLASSES)
    assert one_hot.shape == expected_shape
    assert np.all(one_hot.sum(axis=-1) == 1)  # only one 1 in a row
    assert np.all(np.argmax(one_hot, -1).reshape(label.shape) == label)  # the labels come back


def test_to_categorical_without_num_classes():
    assert rnnkit.utils.to_categorical([0, 2, 5]).shape == (3, 5 + 1)


def test_to_categorical_with_backend_tensor():
    one_hot = rnnkit.utils.to_categorical(torch.tensor([0, 2, 1, 3, 4]), NUM_CLASSES)
    assert isinstance(one_hot, torch.Tensor) and one_hot.dtype == torch.float32
    np.testing.assert_allclose(one_hot.numpy(), np.eye(5)[[0, 2, 1, 3, 4]])
    assert rnnkit.utils.to_categorical(torch.tensor([[1], [0]])).shape == (2, 2)  # (N, 1) -> (N, classes)


def test_to_categorical_output_is_float64_numpy_as_in_keras():
    one_hot = rnnkit.utils.to_categorical([1, 0], num_classes=2)
    assert isinstance(one_hot, np.ndarray) and one_hot.dtype == np.float64
    assert one_hot.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert rnnkit.utils.to_categorical(np.array([1.0, 2.0])).tolist() == [[0, 1, 0], [0, 0, 1]]  # whole floats


@pytest.mark.parametrize("labels, num_classes, message", [
    ([0, 5], 5, r"class id 5 with num_classes=5: ids must be in \[0, 5\). Pass num_classes=6"),
    ([0, -1], None, "class ids >= 0, received -1"),
    ([0.5, 1.0], None, "whole-number class ids"),
    ([], None, "no labels and no num_classes"),
])
def test_to_categorical_refuses_labels_it_would_encode_wrongly(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        rnnkit.utils.to_categorical(labels, num_classes)


def test_set_random_seed_repeats_python_numpy_and_torch():
    rnnkit.utils.set_random_seed(1337)
    first = (random.random(), np.random.rand(), torch.rand(2).tolist())
    rnnkit.utils.set_random_seed(1337)
    assert (random.random(), np.random.rand(), torch.rand(2).tolist()) == first
    with pytest.raises(ValueError, match=r"Expected `seed` argument to be an integer. Received: seed=1.5"):
        rnnkit.utils.set_random_seed(1.5)


def test_keras_utils_aliases():
    assert rnnkit.utils.pad_sequences is sequence.pad_sequences
    assert rnnkit.utils.timeseries_dataset_from_array is rnnkit.preprocessing.timeseries_dataset_from_array


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normalize(order):
    xb = torch.rand((3, 3), generator=torch.Generator().manual_seed(1337))
    xnp = xb.numpy()
    l2 = np.atleast_1d(np.linalg.norm(xnp, order, axis=-1))  # Keras's expected result
    l2[l2 == 0] = 1
    expected = xnp / np.expand_dims(l2, axis=-1)
    out = rnnkit.utils.normalize(xnp, axis=-1, order=order)  # NumPy in, NumPy out
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    out = rnnkit.utils.normalize(xb, axis=-1, order=order)  # a tensor in, a tensor out
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_normalize_zero_rows_other_axes_and_bad_order():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert rnnkit.utils.normalize(x).tolist() == [[0.6, 0.8], [0.0, 0.0]]  # a zero norm divides by 1
    # along axis 0 (Keras's NumPy path gives [[1, 1.333], [0, 0]] here: its `axis or -1` takes 0 for None; its
    # tensor path, like rnnkit's two, gives [[1, 1], [0, 0]])
    np.testing.assert_allclose(rnnkit.utils.normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(rnnkit.utils.normalize(torch.tensor(x), axis=0).numpy(), [[1.0, 1.0], [0.0, 0.0]])
    assert torch.equal(rnnkit.utils.normalize(torch.zeros(2, 2)), torch.zeros(2, 2))  # Keras's epsilon: no NaN
    np.testing.assert_allclose(rnnkit.utils.normalize(torch.tensor([[3.0, 4.0]]), order=1).numpy(), [[3 / 7, 4 / 7]])
    with pytest.raises(ValueError, match="Argument `order` must be an int >= 1. Received: order=0"):
        rnnkit.utils.normalize(torch.ones(2), order=0)
