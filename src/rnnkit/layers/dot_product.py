"""Dot: the dot product of two batches of tensors along one axis of each (Keras's `Dot`, `batch_dot`).

>>> import torch
>>> Dot(axes=(1, 2))([torch.ones(2, 3, 5), torch.ones(2, 10, 3)]).shape
torch.Size([2, 5, 10])
"""

from __future__ import annotations

import torch

from .. import checks
from ..registry import BUILTIN, register_serializable
from .base import Layer
from .merge import merge_inputs
from .unit_normalization import l2_normalize

_EPSILON = 1e-7  # Keras's backend.epsilon(), the floor of the norm when normalize=True


def _axes(value):
    if checks.is_int(value):
        return int(value)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: "
                        f"axes={checks.short(value)}. Pass e.g. axes=-1 or axes=(1, 2).")
    if len(value) != 2:
        raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. Received: "
                         f"axes={checks.short(value)}. Pass one axis per input, e.g. axes=(1, 2).")
    if not all(checks.is_int(a) for a in value):
        raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. Received: "
                         f"axes={checks.short(value)}. Pass e.g. axes=(1, 2).")
    return tuple(int(a) for a in value)


def batch_dot(x: torch.Tensor, y: torch.Tensor, axes: tuple[int, int]) -> torch.Tensor:
    """Per sample, sum x * y over x's axis axes[0] and y's axes[1] (both >= 1): x's other axes, then y's,
    follow the batch; a result of rank 1 becomes (batch, 1) (Keras's `batch_dot`)."""
    # B: batch, X: x's other axes, Y: y's other axes, D: the summed axis
    a, b = axes
    x_rest, y_rest = [n for i, n in enumerate(x.shape) if i not in (0, a)], \
        [n for i, n in enumerate(y.shape) if i not in (0, b)]
    xs = x.movedim(a, -1).reshape(x.shape[0], -1, x.shape[a])  # -> (B, prod X, D)
    ys = y.movedim(b, 1).reshape(y.shape[0], y.shape[b], -1)  # -> (B, D, prod Y)
    out = torch.bmm(xs, ys).reshape(x.shape[0], *x_rest, *y_rest)  # -> (B, *X, *Y)
    return out.unsqueeze(-1) if out.dim() == 1 else out


@register_serializable(package=BUILTIN)
class Dot(Layer):
    """The dot product of two inputs along `axes`: an int (the same axis of both) or (axis of the first,
    axis of the second), never the batch axis 0. With `normalize=True` each input is first scaled to unit
    L2 norm along its axis, so the result is the cosine similarity. The output has no mask (Keras's).
    """

    supports_masking = True

    def __init__(self, axes, normalize: bool = False, name: str | None = None):
        super().__init__(name)
        self.axes = _axes(axes)
        self.normalize = checks.boolean("normalize", normalize, "Dot")

    def forward(self, inputs, training: bool | None = None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else "not a list"
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: {count}. Pass [a, b].")
        x, y = merge_inputs(inputs, f"Dot {self.name!r}")
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        axes = tuple(a % t.dim() if -t.dim() <= a < t.dim() else a for a, t in zip(pair, (x, y)))
        if x.dim() < 2 or y.dim() < 2 or 0 in axes or not (axes[0] < x.dim() and axes[1] < y.dim()):
            raise ValueError(f"Dot {self.name!r}: axes={self.axes} must name a non-batch axis of each input, received "
                             f"shapes {tuple(x.shape)} and {tuple(y.shape)}. Pass axes between 1 and rank - 1 "
                             "(or negative).")
        if x.shape[0] != y.shape[0] or x.shape[axes[0]] != y.shape[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {x.shape[axes[0]]} (at axis {axes[0]}) != "
                             f"{y.shape[axes[1]]} (at axis {axes[1]}), or batch sizes differ. Full input shapes: "
                             f"{tuple(x.shape)}, {tuple(y.shape)}. Choose axes of one size in both.")
        if self.normalize:
            x, y = l2_normalize(x, axes[0], _EPSILON), l2_normalize(y, axes[1], _EPSILON)
        return batch_dot(x, y, axes)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes) if isinstance(self.axes, tuple) else self.axes,
                "normalize": self.normalize}


def dot(inputs, axes=-1, normalize: bool = False, name: str | None = None):
    """Functional form: dot([a, b], axes=-1)."""
    return Dot(axes=axes, normalize=normalize, name=name)(inputs)
