"""Activations as layers, without weights: LeakyReLU, ELU and Softmax (Keras's `layers/activations/`).

>>> import torch
>>> LeakyReLU(0.5)(torch.tensor([-2.0, 3.0])).tolist()
[-1.0, 3.0]
>>> Softmax()(torch.zeros(1, 4)).tolist()
[[0.25, 0.25, 0.25, 0.25]]
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .. import activations, checks
from ..registry import BUILTIN, register_serializable
from .base import Layer


def _number(name: str, value, where: str, at_least_zero: bool, example: str) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value:  # not NaN
        if not at_least_zero or value >= 0:
            return float(value)
    raise ValueError(f"The {name} value of a {where} layer cannot be None or negative value. Expected a float"
                     f"{' >= 0' if at_least_zero else ''}. Received: {name}={value!r}. Pass e.g. {name}={example}.")


@register_serializable(package=BUILTIN)
class LeakyReLU(Layer):
    """x for x >= 0, negative_slope * x below (Keras's `LeakyReLU`; Keras 2's `alpha` is `negative_slope`).

    >>> LeakyReLU()(torch.tensor([-1.0])).tolist()  # Keras's default slope, 0.3
    [-0.30000001192092896]
    """

    acts_on_last_axis = True  # elementwise: leading axes are batch axes (TimeDistributed relies on it)
    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, name: str | None = None, input_shape=None, alpha=None):
        super().__init__(name, input_shape)
        if alpha is not None:  # Keras warns that `alpha` is deprecated and takes it
            negative_slope = alpha
        self.negative_slope = _number("negative_slope", negative_slope, "Leaky ReLU", True, "0.3")

    def forward(self, x, training: bool | None = None):
        return activations.leaky_relu(x, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@register_serializable(package=BUILTIN)
class ELU(Layer):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) below (Keras's `ELU`).

    >>> ELU(alpha=2.0)(torch.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    acts_on_last_axis = True
    supports_masking = True

    def __init__(self, alpha: float = 1.0, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.alpha = _number("alpha", alpha, "ELU", False, "1.0")

    def forward(self, x, training: bool | None = None):
        return activations.elu(x, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def _axis(value):
    """Keras's Softmax `axis`: an int or a list/tuple of ints."""
    if checks.is_int(value):
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(checks.is_int(a) for a in value):
        return tuple(int(a) for a in value)
    raise TypeError(f"Softmax: axis must be an int or a tuple of ints, received {checks.short(value)} "
                    f"({checks.kind(value)}). Pass e.g. axis=-1 or axis=(1, 2).")


def _check_mask(x: torch.Tensor, mask: torch.Tensor) -> None:
    # Keras's rule: the mask broadcasts to the input, aligned on the last axis, and is no longer
    if mask.dim() > x.dim():
        raise ValueError("The `mask` must be broadcastable to `inputs` and must not have more dimensions. Received: "
                         f"inputs.shape={tuple(x.shape)}, mask.shape={tuple(mask.shape)}. Pass a mask of the "
                         "input's shape, or with 1 on the axes it shares.")
    for m, i in zip(reversed(mask.shape), reversed(x.shape)):
        if m != 1 and m != i:
            raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or match "
                             f"the corresponding input dimension. Received: inputs.shape={tuple(x.shape)}, "
                             f"mask.shape={tuple(mask.shape)}. Pass a mask of the input's shape.")


@register_serializable(package=BUILTIN)
class Softmax(Layer):
    """Softmax along `axis` (an int, or a tuple of axes normalized together), as Keras's `Softmax` layer.

    `mask` (True or > 0.5 where a value takes part) broadcasts to the input aligned on the last axis:
    masked values get probability 0, and a fully masked slice is all zeros.

    >>> Softmax()(torch.tensor([[1.0, 2.0, 1.0]]), mask=torch.tensor([[True, True, False]])).tolist()
    [[0.2689414322376251, 0.7310585975646973, 0.0]]
    """

    supports_masking = True

    def __init__(self, axis=-1, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.axis = _axis(axis)

    def __call__(self, *args, **kwargs):
        mask = kwargs.get("mask")
        if isinstance(mask, np.ndarray) and mask.dtype != np.bool_:
            kwargs["mask"] = mask > 0.5  # Keras's rule for a mask of numbers, before the call makes it boolean
        return super().__call__(*args, **kwargs)

    def forward(self, x, mask=None, training: bool | None = None):
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device)
            _check_mask(x, mask)
            mask = mask if mask.dtype == torch.bool else mask > 0.5
            # Keras's large negative number, so a fully masked slice gives a finite (then zeroed) result
            x = torch.where(mask, x, torch.full_like(x, -3e4 if x.dtype == torch.float16 else -1e9))
        axis = self.axis[0] if isinstance(self.axis, tuple) and len(self.axis) == 1 else self.axis
        out = activations.softmax(x, axis=axis)
        return out if mask is None else torch.where(mask, out, torch.zeros_like(out))

    def get_config(self):
        return {**super().get_config(), "axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis}
