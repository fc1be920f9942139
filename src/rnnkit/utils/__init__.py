"""Keras's keras.utils: `to_categorical`, `normalize`, `set_random_seed`, the data helpers `pad_sequences`
and `timeseries_dataset_from_array` (also in `rnnkit.preprocessing`), `plot_model`; `get_file` (downloads
into Keras's cache, `file_utils`); `PyDataset` / `Sequence` (batches by index, which fit, evaluate and
predict read, `py_dataset`); `Progbar`; the custom-object registry (`register_keras_serializable`,
`get_custom_objects`, `custom_object_scope`, ... from `rnnkit.registry`) and `serialize_keras_object` /
`deserialize_keras_object` (`serialization`); `clear_session` (`session`); `pack_x_y_sample_weight`,
`unpack_x_y_sample_weight` and `split_dataset` (`dataset_utils`); `is_keras_tensor` and
`get_source_inputs` for functional models' symbolic tensors.

This package belongs to rnnkit's base part: it imports no layers, models or training code.
(`clone_model`, `model_from_json` and `save_model` are in `rnnkit.models`, as in Keras.)
"""

from __future__ import annotations

import random

import numpy as np
import torch

from ..preprocessing.sequence import pad_sequences
from ..preprocessing.timeseries import timeseries_dataset_from_array
from ..registry import (CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
                        get_registered_object, register_keras_serializable)
from ..symbolic import get_source_inputs, is_keras_tensor
from .dataset_utils import pack_x_y_sample_weight, split_dataset, unpack_x_y_sample_weight
from .file_utils import get_file
from .progbar import Progbar
from .py_dataset import PyDataset, Sequence
from .serialization import deserialize_keras_object, serialize_keras_object
from .session import clear_session

__all__ = ["CustomObjectScope", "Progbar", "PyDataset", "Sequence", "clear_session", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_file", "get_registered_name",
           "get_registered_object", "get_source_inputs", "is_keras_tensor", "normalize", "pack_x_y_sample_weight",
           "pad_sequences", "plot_model", "register_keras_serializable", "serialize_keras_object", "set_random_seed",
           "split_dataset", "timeseries_dataset_from_array", "to_categorical", "unpack_x_y_sample_weight"]


def to_categorical(x, num_classes: int | None = None):
    """Class ids -> one-hot rows, the class axis last (Keras's `to_categorical`).

    A trailing axis of 1 is dropped first, so (N, 1) labels give (N, num_classes). `num_classes` defaults
    to max(x) + 1. NumPy in, NumPy float64 out (as Keras); a torch tensor in gives a float32 tensor.

    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> to_categorical([[1], [0]]).shape
    (2, 2)
    """
    if isinstance(x, torch.Tensor):
        labels = x.squeeze(-1) if x.dim() > 1 and x.shape[-1] == 1 else x
        _check_labels(labels.detach().cpu().numpy(), num_classes)
        return torch.nn.functional.one_hot(labels.long(), -1 if not num_classes else num_classes).float()
    x = np.array(x)
    if x.size and not np.issubdtype(x.dtype, np.integer):
        if not np.issubdtype(x.dtype, np.number) or not np.all(x == np.round(x)):
            raise ValueError(f"to_categorical needs whole-number class ids, received values of dtype {x.dtype}"
                             f" such as {x.reshape(-1)[:3].tolist()}. Give each sample the number of its class.")
    x = x.astype("int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:  # (..., 1) -> (...)
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    _check_labels(x, num_classes)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (num_classes,))


def _check_labels(labels: np.ndarray, num_classes: int | None) -> None:
    """Refuse what NumPy would index wrongly (a negative id counts from the end) or fail on obscurely."""
    if not labels.size:
        if not num_classes:
            raise ValueError("to_categorical received no labels and no num_classes: pass num_classes for an "
                             "empty result, or some labels.")
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise ValueError(f"to_categorical needs class ids >= 0, received {low}. Class ids count from 0.")
    if num_classes and high >= num_classes:
        raise ValueError(f"to_categorical received class id {high} with num_classes={num_classes}: ids must be "
                         f"in [0, {num_classes}). Pass num_classes={high + 1} (or leave it None), or fix the labels.")


def normalize(x, axis: int | None = -1, order: int = 2):
    """Keras's `normalize`: `x` divided by its `order`-norm along `axis`, as a copy.

    NumPy in, NumPy out, as Keras's NumPy path: a zero norm divides by 1 (the row stays zero). A torch
    tensor in gives a tensor, as Keras's backend path (`ops.normalize`): `order` must be an int >= 1 and
    the norm is floored at 1e-7 (Keras's epsilon). (Keras's NumPy path takes axis=0 for None, `axis or -1`,
    and so divides by the wrong norms along axis 0; rnnkit normalizes along axis 0 as its tensor path does.)

    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, -1 if axis is None else axis)
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.float()
    if x.dim() == 0:
        x = x.unsqueeze(0)
    epsilon = 1e-7
    if order == 2:  # Keras's special case: x * rsqrt(sum of squares), the factor capped at 1 / epsilon
        inv_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
        return x * torch.clamp(inv_norm, max=1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (CPU and every GPU), as Keras's
    `set_random_seed` does for the torch backend: runs that follow are repeatable.

    >>> set_random_seed(7); a = (random.random(), np.random.rand(), torch.rand(1).item())
    >>> set_random_seed(7); a == (random.random(), np.random.rand(), torch.rand(1).item())
    True
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs) -> None:
    """Keras's `plot_model` call, without Graphviz: writes `model.summary()`'s table (each layer, its output
    shape and parameter count, in order) as a picture to `to_file`, so Keras scripts that call it run.
    Keras draws the layer graph with pydot/Graphviz instead; the other arguments are accepted and
    ignored (the table always shows the shapes).

    >>> import tempfile, os; from rnnkit import Sequential, Input, Dense
    >>> path = os.path.join(tempfile.mkdtemp(), "m.png")
    >>> plot_model(Sequential([Input((3,)), Dense(2)]), to_file=path, show_shapes=True); os.path.getsize(path) > 0
    True
    """
    from matplotlib.figure import Figure  # matplotlib only when a plot is asked for

    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    figure = Figure(figsize=(max(len(line) for line in text.splitlines()) * 0.09, 0.2 * len(text.splitlines())))
    figure.text(0.01, 0.99, text, family="monospace", va="top", fontsize=10)
    figure.savefig(to_file, dpi=dpi, bbox_inches="tight")
