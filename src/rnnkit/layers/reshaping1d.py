"""Layers that change the length of a sequence: UpSampling1D, ZeroPadding1D, Cropping1D (Keras's
`layers/reshaping/`). As in Keras, none supports masking: a mask stops at them.

>>> import torch
>>> UpSampling1D(2)(torch.zeros(4, 5, 3)).shape, ZeroPadding1D((1, 2))(torch.zeros(4, 5, 3)).shape
(torch.Size([4, 10, 3]), torch.Size([4, 8, 3]))
>>> Cropping1D((1, 2))(torch.zeros(4, 5, 3)).shape
torch.Size([4, 2, 3])
"""

from __future__ import annotations

import torch.nn.functional as F

from .. import checks
from ..registry import BUILTIN, register_serializable
from .base import Layer
from .conv1d import data_format_of


def int_pair(name: str, value, where: str) -> tuple[int, int]:
    """Keras's `standardize_tuple(value, 2, name, allow_zero=True)`: an int (both sides) or 2 ints >= 0."""
    pair = (value, value) if checks.is_int(value) else tuple(value) if isinstance(value, (list, tuple)) else None
    if pair is None or len(pair) != 2 or not all(checks.is_int(v) and v >= 0 for v in pair):
        raise ValueError(f"{where}: The `{name}` argument must be a tuple of 2 integers. Received {name}="
                         f"{checks.short(value)}. Pass an int >= 0 for both ends or (start, end), e.g. {name}=(1, 2).")
    return int(pair[0]), int(pair[1])


def _sequences(x, where: str):
    if x.dim() != 3:
        raise ValueError(f"{where} expects inputs of rank 3, (batch, time_steps, features); received shape "
                         f"{tuple(x.shape)}.")
    return x


@register_serializable(package=BUILTIN)
class UpSampling1D(Layer):
    """Repeat each time step `size` times: (batch, steps, features) -> (batch, steps * size, features)."""

    def __init__(self, size: int = 2, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        if not checks.is_int(size):
            raise TypeError(f"UpSampling1D: Expected an integer value for `size`, got {type(size)}. Pass e.g. size=2.")
        if size <= 0:
            raise ValueError(f"UpSampling1D: Argument `size` should be a positive integer. Received: size={size}. "
                             "Pass e.g. size=2.")
        self.size = int(size)

    def forward(self, x, training: bool | None = None):
        return _sequences(x, f"UpSampling1D {self.name!r}").repeat_interleave(self.size, dim=1)  # -> (B, T*size, F)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@register_serializable(package=BUILTIN)
class ZeroPadding1D(Layer):
    """Add `padding` zero steps at the start and the end of the time axis: an int (both ends) or
    (start, end). channels_first inputs, (batch, features, steps), are padded on their last axis."""

    def __init__(self, padding=1, data_format: str | None = None, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.padding = int_pair("padding", padding, "ZeroPadding1D")
        self.data_format = data_format_of(data_format)

    def forward(self, x, training: bool | None = None):
        _sequences(x, f"ZeroPadding1D {self.name!r}")
        if self.data_format == "channels_first":
            return F.pad(x, self.padding)  # -> (B, F, start + T + end)
        return F.pad(x, (0, 0, *self.padding))  # -> (B, start + T + end, F)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


@register_serializable(package=BUILTIN)
class Cropping1D(Layer):
    """Drop `cropping` steps from the start and the end of the time axis: an int (both ends) or (start, end)."""

    def __init__(self, cropping=(1, 1), name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.cropping = int_pair("cropping", cropping, "Cropping1D")

    def forward(self, x, training: bool | None = None):
        _sequences(x, f"Cropping1D {self.name!r}")
        start, end = self.cropping
        if start + end >= x.shape[1]:
            raise ValueError(f"`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                             f"Received: inputs.shape={tuple(x.shape)}, cropping={self.cropping}. Crop fewer steps "
                             "or pass longer sequences.")
        return x[:, start:x.shape[1] - end, :]  # -> (B, T - start - end, F)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}
