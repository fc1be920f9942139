"""Layers that join tensors or run a function: Concatenate, Add, Lambda (for the functional API).

>>> import torch
>>> Concatenate(axis=1)([torch.zeros(2, 1, 5), torch.zeros(2, 3, 5)]).shape
torch.Size([2, 4, 5])
>>> Lambda(lambda t: t * 2)(torch.ones(1, 2)).tolist()
[[2.0, 2.0]]
"""

from __future__ import annotations

from typing import Callable

import torch

from ..registry import BUILTIN, register_serializable
from .base import Layer


def _tensors(inputs, who: str) -> list[torch.Tensor]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        raise ValueError(f"{who} joins a list of at least 2 tensors, received "
                         f"{type(inputs).__name__ if not isinstance(inputs, (list, tuple)) else len(inputs)}.")
    return list(inputs)


@register_serializable(package=BUILTIN)
class Concatenate(Layer):
    """Join a list of tensors along `axis` (Keras's Concatenate; -1: the features axis)."""

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name)
        self.axis = int(axis)

    def forward(self, inputs, training: bool | None = None):
        tensors = _tensors(inputs, f"Concatenate {self.name!r}")
        shapes = [tuple(t.shape) for t in tensors]
        axis = self.axis % tensors[0].dim()
        if len({t.dim() for t in tensors}) > 1 or any(
                s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:] for s in shapes):
            raise ValueError(f"Concatenate {self.name!r} along axis {self.axis}: every other axis must match, "
                             f"received shapes {shapes}.")
        return torch.cat(tensors, dim=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register_serializable(package=BUILTIN)
class Add(Layer):
    """Sum a list of tensors of the same shape."""

    def forward(self, inputs, training: bool | None = None):
        tensors = _tensors(inputs, f"Add {self.name!r}")
        if len({tuple(t.shape) for t in tensors}) > 1:
            raise ValueError(f"Add {self.name!r} needs tensors of one shape, received "
                             f"{[tuple(t.shape) for t in tensors]}.")
        return torch.stack(tensors).sum(dim=0)


@register_serializable(package=BUILTIN)
class Lambda(Layer):
    """Wrap a function of tensors as a layer, e.g. Lambda(lambda x: K.concatenate(x, axis=1)).

    A named function can be saved (give it back at load time with custom_objects={name: fn});
    an anonymous lambda is saved as a placeholder that needs the same.
    """

    def __init__(self, function: Callable, name: str | None = None):
        if not callable(function):
            raise TypeError(f"Lambda wraps a function, received {type(function).__name__}.")
        super().__init__(name)
        self.function = function

    def forward(self, inputs, training: bool | None = None):
        if isinstance(inputs, (list, tuple)):
            return self.function(list(inputs))
        return self.function(inputs)

    def get_config(self):
        return {**super().get_config(), "function": getattr(self.function, "__name__", "<lambda>")}


def concatenate(inputs, axis: int = -1, name: str | None = None):
    """Functional form: concatenate([a, b], axis=1)."""
    return Concatenate(axis=axis, name=name)(inputs)


def add(inputs, name: str | None = None):
    return Add(name=name)(inputs)
