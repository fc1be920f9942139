"""Keras's data helpers: `pack_x_y_sample_weight` / `unpack_x_y_sample_weight` (the batch formats fit
reads, keras/src/trainers/data_adapters/data_adapter_utils.py) and `split_dataset`
(keras/src/utils/dataset_utils.py).

>>> unpack_x_y_sample_weight((1, 2))
(1, 2, None)
>>> left, right = split_dataset(np.arange(10.0), left_size=0.8)
>>> len(left), len(right), float(right[0][0])
(8, 2, 8.0)
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset


def unpack_x_y_sample_weight(data) -> tuple:
    """(x, y, sample_weight) from `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` (a list counts as a
    tuple); None for what is missing. What a custom `train_step(data)` calls first."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found a {type(data).__name__} of length {len(data)}: {str(data)[:200]}. Give x alone, or "
                     "(x, y), or (x, y, sample_weight); a model with several inputs takes ([x1, x2], y).")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch format fit reads: `x` alone (`(x,)` when x is itself a list or tuple, so it is not taken
    for (x, y)), `(x, y)` or `(x, y, sample_weight)`."""
    if y is None:
        return x if not isinstance(x, (tuple, list)) else (x,)
    if sample_weight is None:
        return x, y
    return x, y, sample_weight


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed: int | None = None,
                  preferred_backend: str | None = None) -> tuple[Subset, Subset]:
    """Split `dataset` into a left and a right part (train / test), as Keras's `split_dataset`.

    `dataset`: a NumPy array, a list or tuple of arrays (or tensors) of the same length, or a
    `torch.utils.data.Dataset`. `left_size` / `right_size`: a fraction in (0, 1) or a number of samples;
    None: what the other leaves (one of them must be given). The left part is the first `left_size`
    samples, the right part the last `right_size` (samples between them, when the sizes add up to less
    than the whole, are in neither); with `shuffle=True` the samples are shuffled first (`seed` makes it
    repeatable).

    The parts are `torch.utils.data.Subset`s, as Keras returns with its torch backend: arrays become a
    `TensorDataset` whose samples are tuples of tensors (one per array), so `DataLoader(left,
    batch_size=32)` batches them for `fit`. Keras's torch backend shuffles the samples even with
    `shuffle=False` and refuses sizes that add up to less than the whole (it calls torch's random_split);
    rnnkit keeps the order and the sizes Keras documents (its TensorFlow path's behaviour).
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(f"split_dataset: rnnkit returns torch datasets (Keras's torch backend); "
                         f"preferred_backend={preferred_backend!r} is not available here. Leave it None or 'torch'.")
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: "
                         "left_size=None and right_size=None")
    dataset = _as_torch_dataset(dataset)
    total = len(dataset)
    left_size, right_size = _rescale_dataset_split_sizes(left_size, right_size, total)
    if shuffle:
        generator = torch.Generator()
        if seed is not None:
            generator.manual_seed(seed)
        else:
            generator.seed()
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return Subset(dataset, order[:left_size]), Subset(dataset, order[total - right_size:])


def _as_torch_dataset(dataset) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return TensorDataset(torch.as_tensor(dataset))
    if isinstance(dataset, (list, tuple)):
        kind = type(dataset).__name__
        if not dataset:
            raise ValueError(f"Received an empty {kind} dataset. Please provide a non-empty {kind} of arrays.")
        length = None
        for i, element in enumerate(dataset):
            if not isinstance(element, (np.ndarray, torch.Tensor)):
                raise ValueError(f"Expected a {kind} of `numpy.ndarray` objects, Received: {type(element)} at "
                                 f"index {i}.")
            if length is None:
                length = element.shape[0]
            elif element.shape[0] != length:
                raise ValueError(f"Received a {kind} of NumPy arrays with different lengths. Mismatch found at "
                                 f"index {i}, Expected length={length} Received shape={tuple(element.shape)}. "
                                 f"Please provide a {kind} of NumPy arrays of the same length.")
        return TensorDataset(*[torch.as_tensor(element) for element in dataset])
    raise TypeError("The `dataset` argument must be a `torch.utils.data.Dataset` object, or a list/tuple of "
                    f"arrays. Received: dataset={str(dataset)[:100]} of type {type(dataset)}")


def _rescale_dataset_split_sizes(left_size, right_size, total_length: int) -> tuple[int, int]:
    """Keras's checks and rounding: (left, right) as numbers of samples."""
    left_type, right_type = type(left_size), type(right_size)
    if (left_size is not None and left_type not in (int, float)) and (
            right_size is not None and right_type not in (int, float)):
        raise TypeError("Invalid `left_size` and `right_size` Types. Expected: integer or float or None, Received: "
                        f"type(left_size)={left_type} and type(right_size)={right_type}")
    if left_size is not None and left_type not in (int, float):
        raise TypeError(f"Invalid `left_size` Type. Expected: int or float or None, Received: "
                        f"type(left_size)={left_type}.  ")
    if right_size is not None and right_type not in (int, float):
        raise TypeError(f"Invalid `right_size` Type. Expected: int or float or None,Received: "
                        f"type(right_size)={right_type}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be "
                         "non-zero.")
    if (left_type is int and (left_size <= 0 or left_size >= total_length)
            or left_type is float and (left_size <= 0 or left_size >= 1)):
        raise ValueError(f"`left_size` should be either a positive integer smaller than {total_length}, or a float "
                         f"within the range `[0, 1]`. Received: left_size={left_size}")
    if (right_type is int and (right_size <= 0 or right_size >= total_length)
            or right_type is float and (right_size <= 0 or right_size >= 1)):
        raise ValueError(f"`right_size` should be either a positive integer and smaller than {total_length} or a "
                         f"float within the range `[0, 1]`. Received: right_size={right_size}")
    if right_type is left_type is float and right_size + left_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or "
                         "equal to 1.")
    left = round(left_size * total_length) if left_type is float else left_size
    right = round(right_size * total_length) if right_type is float else right_size
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total_length}. "
                         f"Received: left_size + right_size = {left + right}and total_length = {total_length}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total_length}, `left_size`={left} and `right_size`="
                             f"{right}.Resulting {side} side dataset split will be empty. Adjust any of the "
                             "aforementioned parameters")
    return int(left), int(right)
