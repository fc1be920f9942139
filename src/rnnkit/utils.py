"""Keras's keras.utils for sequence models: `to_categorical`, `set_random_seed`, and the data helpers
`pad_sequences` and `timeseries_dataset_from_array` (also in `rnnkit.preprocessing`), and `plot_model`.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from .preprocessing.sequence import pad_sequences
from .preprocessing.timeseries import timeseries_dataset_from_array

__all__ = ["pad_sequences", "plot_model", "set_random_seed", "timeseries_dataset_from_array", "to_categorical"]


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
