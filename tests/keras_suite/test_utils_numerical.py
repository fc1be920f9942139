"""rnnkit.utils, ported from Keras 3's keras/src/utils/numerical_utils_test.py (to_categorical's cases,
github.com/keras-team/keras), with set_random_seed (keras/src/utils/rng_utils.py) and the data aliases
keras.utils keeps. Not ported: normalize and build_pos_neg_masks (rnnkit.utils has neither).
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
