"""UnitNormalization: scale each sample to unit L2 norm along `axis` (Keras's `UnitNormalization`).

>>> import torch
>>> UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
[[0.6000000238418579, 0.800000011920929]]
"""

from __future__ import annotations

import torch

from .. import checks
from ..registry import BUILTIN, register_serializable
from .base import Layer


def l2_normalize(x: torch.Tensor, axis, epsilon: float) -> torch.Tensor:
    """Keras's `ops.normalize(x, axis, order=2, epsilon)`: x * min(1 / sqrt(sum(x**2)), 1 / epsilon), so
    an all-zero slice stays zero."""
    inv_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
    return x * inv_norm.clamp(max=1.0 / epsilon)


@register_serializable(package=BUILTIN)
class UnitNormalization(Layer):
    """x / ||x|| along `axis` (an int or a list of axes, normalized together); no weights."""

    supports_masking = True

    def __init__(self, axis=-1, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        if checks.is_int(axis):
            self.axis = int(axis)
        elif isinstance(axis, (list, tuple)) and all(checks.is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]
        else:
            raise TypeError("Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: "
                            f"axis={checks.short(axis)}. Pass e.g. axis=-1 or axis=[1, 2].")

    def forward(self, x, training: bool | None = None):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -x.dim() <= a < x.dim() for a in axes):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(x.shape)}. Pass axes in "
                             f"[{-x.dim()}, {x.dim() - 1}].")
        return l2_normalize(x, axes, epsilon=1e-12)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
