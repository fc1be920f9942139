"""rnnkit.utils.split_dataset, pack_x_y_sample_weight / unpack_x_y_sample_weight, is_keras_tensor and
get_source_inputs.

Ported from Keras 3.15.1: keras/src/utils/dataset_utils_test.py (test_split_dataset for list, tuple and torch
datasets with the three feature shapes and preferred_backend None and "torch", as Keras runs them under its
torch backend; test_split_dataset_nested_structures for its three structures, on the torch Dataset the torch
backend uses), and the doctests of keras/src/trainers/data_adapters/data_adapter_utils.py and
keras/src/ops/operation_utils.py's get_source_inputs. Expected values are Keras's.

Not applicable: the "tensorflow" dataset type and preferred_backend="tensorflow" (tf.data), which need
TensorFlow; rnnkit returns torch datasets, as Keras's torch backend does.
"""

import collections
import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Subset

from rnnkit.layers import LSTM, Concatenate, Dense, Input
from rnnkit.models import Model, Sequential
from rnnkit.utils import (get_source_inputs, is_keras_tensor, pack_x_y_sample_weight, split_dataset,
                          unpack_x_y_sample_weight)


class MyTorchDataset(TorchDataset):
    """Keras's test dataset: samples of a nested structure of tensors (and labels)."""

    def __init__(self, x, y=None):
        def to_tensor(v):
            if isinstance(v, torch.Tensor):
                return v
            return torch.as_tensor(v, dtype=torch.float32) if hasattr(v, "shape") else v

        def map_structure(obj):
            if isinstance(obj, (dict, collections.OrderedDict)):
                return {k: map_structure(v) for k, v in obj.items()}
            if isinstance(obj, (tuple, list)):
                return type(obj)(map_structure(v) for v in obj)
            return to_tensor(obj)

        self.x = map_structure(x)
        self.y = None if y is None else map_structure(y)

        def first_tensor(obj):
            if isinstance(obj, (dict, collections.OrderedDict)):
                return first_tensor(next(iter(obj.values())))
            if isinstance(obj, (tuple, list)):
                return first_tensor(obj[0])
            return obj

        self.length = len(first_tensor(self.x))

    def __len__(self):
        return self.length

    def __getitem__(self, idx):
        def index_structure(obj):
            if isinstance(obj, (dict, collections.OrderedDict)):
                return obj.__class__((k, index_structure(v)) for k, v in obj.items())
            if isinstance(obj, (tuple, list)):
                return type(obj)(index_structure(v) for v in obj)
            return obj[idx]

        if self.y is None:
            return index_structure(self.x)
        return index_structure(self.x), index_structure(self.y)


# -- dataset_utils_test.py ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("preferred_backend", [None, "torch"])
@pytest.mark.parametrize("features_shape", [(2,), (100, 2), (10, 10, 2)])
@pytest.mark.parametrize("dataset_type", ["list", "tuple", "torch"])
def test_split_dataset(dataset_type, features_shape, preferred_backend):
    n_sample, left_size, right_size = 100, 0.2, 0.8
    features = np.random.sample((n_sample,) + features_shape)
    labels = np.random.sample((n_sample, 1))
    if dataset_type == "list":
        dataset = [features, labels]
    elif dataset_type == "tuple":
        dataset = (features, labels)
    else:
        dataset = MyTorchDataset(features, labels)
    dataset_left, dataset_right = split_dataset(dataset, left_size=left_size, right_size=right_size,
                                                preferred_backend=preferred_backend)
    assert int(len(dataset_left)) == int(n_sample * left_size)
    assert int(len(dataset_right)) == int(n_sample * right_size)
    for sample in itertools.chain(dataset_left, dataset_right):
        assert sample[0].shape == features_shape
        assert sample[1].shape == (1,)


@pytest.mark.parametrize("structure_type", ["tuple", "dict", "OrderedDict"])
def test_split_dataset_nested_structures(structure_type):
    n_sample, left_size, right_size = 100, 0.2, 0.8
    features1 = np.random.sample((n_sample, 2))
    features2 = np.random.sample((n_sample, 10, 2))
    labels = np.random.sample((n_sample, 1))
    if structure_type == "tuple":
        dataset = MyTorchDataset(((features1, features2), labels))
    elif structure_type == "dict":
        dataset = MyTorchDataset({"y": features2, "x": features1, "labels": labels})
    else:
        dataset = MyTorchDataset(collections.OrderedDict([("y", features2), ("x", features1), ("labels", labels)]))
    dataset_left, dataset_right = split_dataset(dataset, left_size=left_size, right_size=right_size)
    assert int(len(dataset_left)) == int(n_sample * left_size)
    assert int(len(dataset_right)) == int(n_sample * right_size)
    for sample in itertools.chain(dataset_left, dataset_right):
        if structure_type in ("dict", "OrderedDict"):
            x, y, labels = sample["x"], sample["y"], sample["labels"]
        else:
            (x, y), labels = sample
        assert x.shape == (2,) and y.shape == (10, 2) and labels.shape == (1,)


# -- rnnkit's own: Keras's documented sizes, order and errors ----------------------------------------------------
def _ids(subset) -> list[int]:
    return [int(sample[-1]) for sample in subset]


def test_split_keeps_the_order_without_shuffle_left_first_right_last():
    x, ids = np.random.rand(10, 3), np.arange(10)
    left, right = split_dataset((x, ids), left_size=0.3)
    assert isinstance(left, Subset) and _ids(left) == [0, 1, 2] and _ids(right) == list(range(3, 10))
    left, right = split_dataset((x, ids), left_size=3, right_size=2)  # the middle is in neither (Keras's docs)
    assert _ids(left) == [0, 1, 2] and _ids(right) == [8, 9]
    left, right = split_dataset((x, ids), right_size=4)
    assert _ids(left) == list(range(6)) and _ids(right) == [6, 7, 8, 9]


def test_split_of_one_array_gives_one_element_samples():
    left, right = split_dataset(np.arange(10.0), left_size=0.8)
    assert len(left) == 8 and len(right) == 2
    assert isinstance(left[0], tuple) and len(left[0]) == 1 and float(right[0][0]) == 8.0


def test_shuffle_with_a_seed_is_repeatable_and_a_partition():
    x, ids = np.zeros((20, 1)), np.arange(20)
    a = split_dataset((x, ids), left_size=0.5, shuffle=True, seed=3)
    b = split_dataset((x, ids), left_size=0.5, shuffle=True, seed=3)
    assert _ids(a[0]) == _ids(b[0]) and _ids(a[1]) == _ids(b[1])
    assert sorted(_ids(a[0]) + _ids(a[1])) == list(range(20)) and _ids(a[0]) != list(range(10))


def test_split_batches_with_a_dataloader_for_fit():
    x, y = np.random.rand(12, 4).astype("float32"), np.random.rand(12, 1).astype("float32")
    left, _ = split_dataset((x, y), left_size=0.5)
    model = Sequential([Input((4,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(torch.utils.data.DataLoader(left, batch_size=3), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, ValueError, "At least one of the `left_size` or `right_size` must be specified"),
    ({"left_size": "a"}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": 0, "right_size": 0}, ValueError, "Both `left_size` and `right_size` are zero"),
    ({"left_size": 1.5}, ValueError, "`left_size` should be either a positive integer"),
    ({"right_size": 10}, ValueError, "`right_size` should be either a positive integer"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "The sum of `left_size` and `right_size` is greater than 1"),
    ({"left_size": 6, "right_size": 6}, ValueError, "should be smaller than the 10"),
    ({"left_size": 0.01}, ValueError, "Resulting left side dataset split will be empty"),
    ({"left_size": 0.5, "preferred_backend": "tensorflow"}, ValueError, "rnnkit returns torch datasets"),
])
def test_split_errors_are_keras_messages(kwargs, error, message):
    with pytest.raises(error, match=message):
        split_dataset(np.zeros((10, 2)), **kwargs)


def test_split_refuses_arrays_of_different_lengths_and_other_types():
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset([np.zeros(10), np.zeros(9)], left_size=0.5)
    with pytest.raises(ValueError, match="Expected a list of `numpy.ndarray` objects"):
        split_dataset([np.zeros(10), [1, 2]], left_size=0.5)
    with pytest.raises(TypeError, match="must be a `torch.utils.data.Dataset` object"):
        split_dataset("abc", left_size=0.5)


# -- data_adapter_utils: pack / unpack -------------------------------------------------------------------------
def test_unpack_x_y_sample_weight():
    x, y, w = np.ones((10, 5)), np.zeros((10, 5)), np.ones(10)
    assert unpack_x_y_sample_weight((x, y))[2] is None  # Keras's doctest
    assert unpack_x_y_sample_weight(x) == (x, None, None)
    assert unpack_x_y_sample_weight((x,)) == (x, None, None)
    assert unpack_x_y_sample_weight([x, y, w]) == (x, y, w)
    with pytest.raises(ValueError, match="Data is expected to be in format `x`, `\\(x,\\)`, `\\(x, y\\)`"):
        unpack_x_y_sample_weight((x, y, w, w))


def test_pack_x_y_sample_weight():
    x, y = torch.ones((10, 1)), torch.ones((10, 1))
    assert isinstance(pack_x_y_sample_weight(x), torch.Tensor)  # Keras's doctest
    data = pack_x_y_sample_weight(x, y)
    assert isinstance(data, tuple) and data == (x, y)
    assert pack_x_y_sample_weight([x, x]) == ([x, x],)  # a list x is not mistaken for (x, y)
    assert pack_x_y_sample_weight(x, y, 3) == (x, y, 3)
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight([x, x], y)) == ([x, x], y, None)


# -- is_keras_tensor, get_source_inputs ----------------------------------------------------------------------------
def test_is_keras_tensor():
    inputs = Input((3, 2))
    assert is_keras_tensor(inputs) and is_keras_tensor(LSTM(2)(inputs))
    assert not is_keras_tensor(torch.zeros(2)) and not is_keras_tensor(np.zeros(2)) and not is_keras_tensor(None)


def test_get_source_inputs():
    a, b = Input((4,), name="a"), Input((4,), name="b")
    joined = Concatenate()([Dense(3)(a), Dense(3)(b)])
    out = Dense(1)(Concatenate()([joined, Dense(2)(a)]))
    sources = get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b  # in the order reached, each once
    assert get_source_inputs(a) == [a]
    x = torch.zeros(2)
    assert get_source_inputs(x) is x  # Keras: what is not symbolic comes back as it is
    model = Model([a, b], out)
    assert get_source_inputs(model.output) == model.inputs
