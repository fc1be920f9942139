"""More elementwise merges of tensors of one shape: Average, Subtract, Maximum, Minimum (Keras's
`layers/merging/`), and their functional forms. Add and Multiply are in merge.py.

The output mask is the union of the inputs' masks, None when an input has none (Keras's Merge rule).
Average and Subtract compute on every value; Maximum and Minimum, which have no neutral value, take a
masked value of one input from the others (Keras's `_apply_merge_op_and_or_mask`).

>>> import torch
>>> a, b = torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])
>>> Average()([a, b]).tolist(), Subtract()([a, b]).tolist(), Maximum()([a, b]).tolist(), Minimum()([a, b]).tolist()
([[2.0, 3.5]], [[-2.0, 3.0]], [[3.0, 5.0]], [[1.0, 2.0]])
"""

from __future__ import annotations

import torch

from ..registry import BUILTIN, register_serializable
from .base import Layer
from .merge import or_masks, same_shape


class _Merge(Layer):
    supports_masking = True
    list_masks = True  # a functional model hands it the mask of each input, as Keras does

    def compute_mask(self, inputs, mask=None):
        return or_masks(inputs, mask)


@register_serializable(package=BUILTIN)
class Average(_Merge):
    """The mean of a list of tensors of one shape, elementwise (Keras's `Average`)."""

    def forward(self, inputs, training: bool | None = None):
        tensors = same_shape(inputs, f"Average {self.name!r}")
        return torch.stack(tensors).sum(dim=0) / len(tensors)


@register_serializable(package=BUILTIN)
class Subtract(_Merge):
    """inputs[0] - inputs[1], for exactly two tensors of one shape (Keras's `Subtract`)."""

    def forward(self, inputs, training: bool | None = None):
        if isinstance(inputs, (list, tuple)) and len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {len(inputs)} "
                             "inputs. Pass [a, b] for a - b.")
        first, second = same_shape(inputs, f"Subtract {self.name!r}")
        return first - second


def _masked_merge(op, tensors: list[torch.Tensor], masks) -> torch.Tensor:
    """Keras's `_apply_merge_op_and_or_mask`: fold `op` over the tensors; where one input is masked, the
    value of the others stands in for it (op has no neutral value)."""
    masks = list(masks) if isinstance(masks, (list, tuple)) else [None] * len(tensors)
    output, output_mask = None, None
    for x, m in zip(tensors, masks):
        if m is not None:
            m = torch.as_tensor(m, device=x.device).bool().unsqueeze(-1).expand_as(x)  # (B, T) -> x's shape
        if output is None:
            output, output_mask = x, m
            continue
        if m is not None:
            x = torch.where(m, x, output)
        if output_mask is not None:
            output = torch.where(output_mask, output, x)
        output_mask = output_mask | m if m is not None and output_mask is not None else None
        output = op(output, x)
    return output


@register_serializable(package=BUILTIN)
class Maximum(_Merge):
    """The elementwise maximum of a list of tensors of one shape (Keras's `Maximum`)."""

    def forward(self, inputs, mask=None, training: bool | None = None):
        return _masked_merge(torch.maximum, same_shape(inputs, f"Maximum {self.name!r}"), mask)


@register_serializable(package=BUILTIN)
class Minimum(_Merge):
    """The elementwise minimum of a list of tensors of one shape (Keras's `Minimum`)."""

    def forward(self, inputs, mask=None, training: bool | None = None):
        return _masked_merge(torch.minimum, same_shape(inputs, f"Minimum {self.name!r}"), mask)


def average(inputs, name: str | None = None):
    """Functional form: average([a, b])."""
    return Average(name=name)(inputs)


def subtract(inputs, name: str | None = None):
    """Functional form: subtract([a, b]) is a - b."""
    return Subtract(name=name)(inputs)


def maximum(inputs, name: str | None = None):
    """Functional form: maximum([a, b])."""
    return Maximum(name=name)(inputs)


def minimum(inputs, name: str | None = None):
    """Functional form: minimum([a, b])."""
    return Minimum(name=name)(inputs)
