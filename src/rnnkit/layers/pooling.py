"""Pooling along time: MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D.

Inputs are (batch, time_steps, channels) ("channels_last", Keras's default) or (batch, channels,
time_steps) ("channels_first").

>>> x = torch.arange(6.0).reshape(1, 3, 2)
>>> MaxPooling1D(2, strides=1)(x).tolist()
[[[2.0, 3.0], [4.0, 5.0]]]
>>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..convert import to_mask
from ..registry import BUILTIN, register_serializable
from .base import Layer
from .conv import _same_padding
from .conv1d import data_format_of, one_int, padding_of


def _channels_first(layer, x) -> torch.Tensor:
    if x.dim() != 3:
        order = "time_steps, channels" if layer.data_format == "channels_last" else "channels, time_steps"
        raise ValueError(f"{type(layer).__name__} {layer.name!r} expected (batch, {order}), received shape "
                         f"{tuple(x.shape)}.")
    return x.transpose(1, 2) if layer.data_format == "channels_last" else x  # -> (B, C, T)


class _Pooling1D(Layer):
    """Shared by MaxPooling1D and AveragePooling1D: Keras's arguments, the layout, the "same" padding."""

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format: str | None = None,
                 name: str | None = None, input_shape=None, batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        self.pool_size = one_int("pool_size", pool_size)
        self.strides = one_int("strides", pool_size if strides is None else strides)
        self.padding = padding_of(padding, allow_causal=False)
        self.data_format = data_format_of(data_format)

    def forward(self, x, training: bool | None = None):
        # B: batch, C: channels, T: time steps
        x = _channels_first(self, x)  # -> (B, C, T)
        steps = x.shape[2]
        pad = _same_padding(steps, self.pool_size, self.strides) if self.padding == "same" else (0, 0)
        if steps + sum(pad) < self.pool_size:
            raise ValueError(f"{type(self).__name__} {self.name!r}: pool_size={self.pool_size} is longer than the "
                             f"{steps} time steps received. Use padding='same' or a smaller pool_size.")
        y = self._pool(x, pad)  # -> (B, C, T')
        return y.transpose(1, 2) if self.data_format == "channels_last" else y

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


@register_serializable(package=BUILTIN)
class MaxPooling1D(_Pooling1D):
    """The maximum over windows of `pool_size` steps, every `strides` steps (strides defaults to pool_size).

    "same" pads with -inf as TensorFlow does (an odd extra step goes after), so padding never wins.

    >>> MaxPooling1D(2)(torch.zeros(4, 10, 3)).shape
    torch.Size([4, 5, 3])
    """

    def _pool(self, x, pad):
        if any(pad):
            x = F.pad(x, pad, value=float("-inf"))
        return F.max_pool1d(x, self.pool_size, self.strides)


@register_serializable(package=BUILTIN)
class AveragePooling1D(_Pooling1D):
    """The mean over windows of `pool_size` steps, every `strides` steps (strides defaults to pool_size).

    With "same", a window that overhangs the sequence averages only its real steps (Keras, TensorFlow).

    >>> AveragePooling1D(2, padding="same")(torch.tensor([[[1.0], [3.0], [5.0]]])).tolist()
    [[[2.0], [5.0]]]
    """

    def _pool(self, x, pad):
        if not any(pad):
            return F.avg_pool1d(x, self.pool_size, self.strides)
        total = F.avg_pool1d(F.pad(x, pad), self.pool_size, self.strides)
        real = F.avg_pool1d(F.pad(torch.ones_like(x[:1, :1]), pad), self.pool_size, self.strides)
        return total / real  # the share of real steps in each window rescales the zero-padded mean


class _GlobalPooling1D(Layer):
    def __init__(self, data_format: str | None = None, keepdims: bool = False, name: str | None = None,
                 input_shape=None, batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        self.data_format = data_format_of(data_format)
        self.keepdims = bool(keepdims)

    def _steps_axis(self, x) -> int:
        _channels_first(self, x)  # checks the rank
        return 1 if self.data_format == "channels_last" else 2

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@register_serializable(package=BUILTIN)
class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over time: (batch, time_steps, channels) -> (batch, channels).

    With a mask (from Masking or Embedding(mask_zero=True)) only the real steps are averaged, as in
    Keras. keepdims=True keeps the time axis with length 1.

    >>> GlobalAveragePooling1D()(torch.ones(2, 5, 3)).shape
    torch.Size([2, 3])
    """

    supports_masking = True

    def forward(self, x, mask=None, training: bool | None = None):
        axis = self._steps_axis(x)
        if mask is None:
            return x.mean(dim=axis, keepdim=self.keepdims)
        mask = to_mask(mask, x.device).unsqueeze(2 if axis == 1 else 1).to(x.dtype)  # -> (B, T, 1) or (B, 1, T)
        summed = torch.where(mask.bool(), x, torch.zeros_like(x)).sum(dim=axis, keepdim=self.keepdims)
        return summed / mask.sum(dim=axis, keepdim=self.keepdims)

    def compute_mask(self, x, mask=None):
        return None  # time is gone: nothing left to mask


@register_serializable(package=BUILTIN)
class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over time: (batch, time_steps, channels) -> (batch, channels).

    Like Keras's, it ignores a mask: padded steps take part in the maximum.

    >>> GlobalMaxPooling1D(keepdims=True)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 1, 3])
    """

    def forward(self, x, training: bool | None = None):
        return x.amax(dim=self._steps_axis(x), keepdim=self.keepdims)


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
