"""Layers that join tensors or run a function: Concatenate, Add, Multiply, Lambda (for the functional API).

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


def mask_list(inputs, mask) -> list | None:
    """Keras's checks of a merge layer's masks: None, or one mask (or None) per input."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: inputs of "
                         f"length {len(inputs)}, and mask of length {len(mask)}")
    return list(mask)


def or_masks(inputs, mask):
    """Keras's Merge.compute_mask: a step is real if it is real in any input; None if an input has no mask."""
    masks = mask_list(inputs, mask)
    if masks is None or any(m is None for m in masks):
        return None
    out = torch.as_tensor(masks[0]).bool()
    for m in masks[1:]:
        out = out | torch.as_tensor(m).bool()
    return out


def merge_inputs(inputs, who: str) -> list[torch.Tensor]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        raise ValueError(f"{who} joins a list of at least 2 tensors, received "
                         f"{type(inputs).__name__ if not isinstance(inputs, (list, tuple)) else len(inputs)}.")
    return list(inputs)


def same_shape(inputs, who: str) -> list[torch.Tensor]:
    """The list of tensors an elementwise merge joins: at least 2, all of one shape."""
    tensors = merge_inputs(inputs, who)
    if len({tuple(t.shape) for t in tensors}) > 1:
        raise ValueError(f"{who} needs tensors of one shape, received {[tuple(t.shape) for t in tensors]}. "
                         "Reshape or broadcast them to one shape first.")
    return tensors


@register_serializable(package=BUILTIN)
class Concatenate(Layer):
    """Join a list of tensors along `axis` (Keras's Concatenate; -1: the features axis).

    Masks are joined as Keras joins them: an input without one counts as all real, and a step of the
    output is real if any of its joined values is (along time: the masks follow one another).
    """

    supports_masking = True
    list_masks = True  # a functional model hands it the mask of each input, as Keras does

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name)
        self.axis = int(axis)

    def forward(self, inputs, training: bool | None = None):
        tensors = merge_inputs(inputs, f"Concatenate {self.name!r}")
        shapes = [tuple(t.shape) for t in tensors]
        axis = self.axis % tensors[0].dim()
        if len({t.dim() for t in tensors}) > 1 or any(
                s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:] for s in shapes):
            raise ValueError(f"Concatenate {self.name!r} along axis {self.axis}: every other axis must match, "
                             f"received shapes {shapes}.")
        return torch.cat(tensors, dim=axis)

    def compute_mask(self, inputs, mask=None):
        masks = mask_list(inputs, mask)
        if masks is None or all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):  # each mask broadcast to its input's shape, as in Keras
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            else:
                m = torch.as_tensor(m, device=x.device).bool()
                full.append(m.unsqueeze(-1).expand(x.shape) if m.dim() < x.dim() else m)
        return torch.cat(full, dim=self.axis % inputs[0].dim()).any(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register_serializable(package=BUILTIN)
class Add(Layer):
    """Sum a list of tensors of the same shape; the sum ignores masks, the output is masked where every
    input is (Keras's rule)."""

    supports_masking = True
    list_masks = True  # a functional model hands it the mask of each input, as Keras does

    def forward(self, inputs, training: bool | None = None):
        tensors = same_shape(inputs, f"Add {self.name!r}")
        return torch.stack(tensors).sum(dim=0)

    def compute_mask(self, inputs, mask=None):
        return or_masks(inputs, mask)


@register_serializable(package=BUILTIN)
class Multiply(Layer):
    """Multiply a list of tensors of the same shape, elementwise (Keras's `Multiply`).

    With a mask per input (True where a step is real), a masked step counts as 1 in the product, and a
    step masked in every input is 0 (Keras's rule); the output mask is then their union.

    >>> Multiply()([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)]).tolist()
    [[6.0, 6.0]]
    """

    supports_masking = True
    list_masks = True  # a functional model hands it the mask of each input, as Keras does

    def forward(self, inputs, mask=None, training: bool | None = None):
        tensors = same_shape(inputs, f"Multiply {self.name!r}")
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(tensors)
        every_masked = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, m in zip(tensors, masks):
            if m is not None:
                m = torch.as_tensor(m, device=x.device).bool().unsqueeze(-1).expand_as(x)
                x = torch.where(m, x, torch.ones_like(x))  # a masked step does not change the product
                if every_masked:
                    output_mask = m if output_mask is None else output_mask | m
            output = x if output is None else output * x
        if every_masked:
            output = torch.where(output_mask, output, torch.zeros_like(output))
        return output

    def compute_mask(self, inputs, mask=None):
        return or_masks(inputs, mask)


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


def multiply(inputs, name: str | None = None):
    """Functional form: multiply([a, b])."""
    return Multiply(name=name)(inputs)
