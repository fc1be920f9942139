"""Image layers with Keras's channels-last convention: Conv2D, MaxPooling2D on (batch, rows, cols, channels)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..registry import BUILTIN, register_serializable
from .. import activations, initializers
from .base import Layer


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    # TensorFlow/Keras "same": output = ceil(size / stride); an odd extra pixel goes after.
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _check_padding(padding: str) -> str:
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', received {padding!r}.")
    return padding


@register_serializable(package=BUILTIN)
class Conv2D(Layer):
    """2-D convolution over (batch, rows, cols, channels) images.

    >>> Conv2D(8, (3, 3))(torch.zeros(2, 10, 10, 3)).shape
    torch.Size([2, 8, 8, 8])
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", in_channels: int | None = None, input_shape=None,
                 batch_input_shape=None, name: str | None = None):
        super().__init__(name, input_shape, batch_input_shape)
        self.filters, self.kernel_size, self.strides = int(filters), _pair(kernel_size), _pair(strides)
        self.padding = _check_padding(padding)
        self.activation_name = activations.name_of(activation)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.for_weight(kernel_initializer)
        self.in_channels: int | None = None
        channels = in_channels or (self.batch_input_shape[-1] if self.batch_input_shape else None)
        if channels is not None:
            self.build(channels)

    def awaiting_build(self) -> bool:
        return self.in_channels is None

    def build(self, in_channels: int) -> None:
        self.in_channels = int(in_channels)
        self.weight = nn.Parameter(self.kernel_initializer(
            torch.empty(self.filters, self.in_channels, *self.kernel_size)))
        self.bias = nn.Parameter(torch.zeros(self.filters)) if self.use_bias else None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.in_channels is None and prefix + "weight" in state_dict:
            self.build(state_dict[prefix + "weight"].shape[1])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x, training: bool | None = None):
        if x.dim() != 4:
            raise ValueError(f"Conv2D {self.name!r} expected (batch, rows, cols, channels), received "
                             f"shape {tuple(x.shape)}. Wrap it in TimeDistributed for (batch, time_steps, rows, cols, channels).")
        if self.in_channels is None:
            self.build(x.shape[-1])
            self.to(x.device)
        elif x.shape[-1] != self.in_channels:
            raise ValueError(f"Conv2D {self.name!r} was built for {self.in_channels} channels (last axis), "
                             f"received {x.shape[-1]}.")
        x = x.permute(0, 3, 1, 2)  # -> (B, C, rows, cols), PyTorch's layout
        if self.padding == "same":
            pr = _same_padding(x.shape[2], self.kernel_size[0], self.strides[0])
            pc = _same_padding(x.shape[3], self.kernel_size[1], self.strides[1])
            x = F.pad(x, (pc[0], pc[1], pr[0], pr[1]))
        y = F.conv2d(x, self.weight, self.bias, self.strides)
        return self.activation(y.permute(0, 2, 3, 1))  # -> (B, rows', cols', filters)

    def keras_weights(self):
        w = [self.weight.detach().cpu().numpy().transpose(2, 3, 1, 0)]
        return w + ([self.bias.detach().cpu().numpy()] if self.use_bias else [])

    def set_keras_weights(self, weights):
        kernel = np.asarray(weights[0], dtype=np.float32)  # Keras: (kh, kw, in, out)
        if self.in_channels is None:
            self.build(kernel.shape[2])
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            if self.use_bias:
                self.bias.copy_(torch.from_numpy(np.asarray(weights[1], dtype=np.float32)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding,
                "activation": self.activation_name, "use_bias": self.use_bias, "in_channels": self.in_channels,
                **initializers.configs(kernel_initializer=self.kernel_initializer)}


Convolution2D = Conv2D


@register_serializable(package=BUILTIN)
class MaxPooling2D(Layer):
    """Max pooling over (batch, rows, cols, channels).

    >>> MaxPooling2D((2, 2))(torch.zeros(1, 8, 8, 3)).shape
    torch.Size([1, 4, 4, 3])
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", name: str | None = None,
                 input_shape=None):
        super().__init__(name, input_shape)
        self.pool_size = _pair(pool_size)
        self.strides = _pair(strides) if strides is not None else self.pool_size
        self.padding = _check_padding(padding)

    def forward(self, x, training: bool | None = None):
        if x.dim() != 4:
            raise ValueError(f"MaxPooling2D {self.name!r} expected (batch, rows, cols, channels), "
                             f"received shape {tuple(x.shape)}.")
        x = x.permute(0, 3, 1, 2)
        if self.padding == "same":
            pr = _same_padding(x.shape[2], self.pool_size[0], self.strides[0])
            pc = _same_padding(x.shape[3], self.pool_size[1], self.strides[1])
            x = F.pad(x, (pc[0], pc[1], pr[0], pr[1]), value=float("-inf"))
        return F.max_pool2d(x, self.pool_size, self.strides).permute(0, 2, 3, 1)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}
