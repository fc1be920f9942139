"""Conv3D: a convolution over three axes of (batch, dim1, dim2, dim3, channels), with Keras's rules.

For video, (batch, frames, rows, cols, channels): a kernel spanning several frames mixes time and space,
as keras-io's next-frame ConvLSTM example does after its ConvLSTM2D stack.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, checks, initializers
from ..cells.conv_geometry import (output_size, same_padding, standardize_data_format, standardize_padding,
                                   standardize_tuple)
from ..cells.penalties import KerasWeight, WeightPenalties, get_constraint, get_regularizer, same_layout
from ..registry import BUILTIN, register_serializable
from .base import Layer
from .core import _DENSE_PENALTIES, penalties_config

# PyTorch keeps the kernel (filters, channels // groups, k1, k2, k3); Keras (k1, k2, k3, channels // groups, filters)
_TO_KERAS = (2, 3, 4, 1, 0)
_TO_TORCH = (4, 3, 0, 1, 2)


@register_serializable(package=BUILTIN)
class Conv3D(Layer, WeightPenalties):
    """3-D convolution (Keras's `Conv3D`), weights made on the first call.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: an int (the same on the three axes)
            or 3 ints; strides > 1 and dilation_rate > 1 do not go together (as Keras).
        padding: "valid" (no padding) or "same" (each output axis ceil(size / strides); an odd extra
            zero goes after, TensorFlow's and Keras's convention).
        data_format: "channels_last" (batch, d1, d2, d3, channels), the default, or "channels_first".
        groups: split the channels into this many independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer: as in Keras.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            Keras, on the kernel in Keras's layout.

    `keras_weights`/`set_keras_weights` speak Keras's kernel layout (k1, k2, k3, channels // groups, filters).

    >>> Conv3D(4, 3, padding="same")(torch.zeros(2, 5, 8, 8, 1)).shape
    torch.Size([2, 5, 8, 8, 4])
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1, 1), groups: int = 1,
                 activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 in_channels: int | None = None, input_shape=None, batch_input_shape=None,
                 name: str | None = None):
        super().__init__(name, input_shape, batch_input_shape)
        self.kernel_regularizer = get_regularizer(kernel_regularizer, "Conv3D", "kernel_regularizer")
        self.bias_regularizer = get_regularizer(bias_regularizer, "Conv3D", "bias_regularizer")
        self.kernel_constraint = get_constraint(kernel_constraint, "Conv3D", "kernel_constraint")
        self.bias_constraint = get_constraint(bias_constraint, "Conv3D", "bias_constraint")
        self.activity_regularizer = activity_regularizer
        if not checks.is_int(filters) or filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        if not checks.is_int(groups) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups}.")
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}.")
        self.filters, self.groups = int(filters), int(groups)
        self.kernel_size = standardize_tuple(kernel_size, 3, "kernel_size")
        self.strides = standardize_tuple(strides, 3, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, 3, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.activation_name = activations.name_of(activation)
        self.activation = activations.get(activation)
        self.use_bias = checks.boolean("use_bias", use_bias, "Conv3D")
        self.kernel_initializer = initializers.for_weight(kernel_initializer)
        self.bias_initializer = initializers.for_weight(bias_initializer)
        self.in_channels: int | None = None
        channel_axis = -1 if self.data_format == "channels_last" else 1
        channels = in_channels or (self.batch_input_shape[channel_axis] if self.batch_input_shape else None)
        if channels is not None:
            self.build(channels)

    def awaiting_build(self) -> bool:
        return self.in_channels is None

    def build(self, in_channels: int) -> None:
        if in_channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {in_channels} channels.")
        self.in_channels = int(in_channels)
        self.weight = nn.Parameter(self.kernel_initializer(
            torch.empty(self.filters, self.in_channels // self.groups, *self.kernel_size)))
        self.bias = nn.Parameter(self.bias_initializer(torch.empty(self.filters))) if self.use_bias else None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.in_channels is None and prefix + "weight" in state_dict:
            self.build(state_dict[prefix + "weight"].shape[1] * self.groups)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def output_sizes(self, sizes) -> tuple[int, int, int]:
        """Keras's compute_conv_output_shape on the three axes; ValueError when "valid" leaves nothing."""
        out = tuple(output_size(n, k, s, self.padding, d) for n, k, s, d in
                    zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        if min(out) <= 0:
            raise ValueError(f"Conv3D {self.name!r}: computed output size would be zero or negative. Received "
                             f"input sizes {tuple(sizes)}, kernel_size={self.kernel_size}, dilation_rate="
                             f"{self.dilation_rate}, strides={self.strides}, padding='valid'. Use padding='same' "
                             "or a smaller kernel.")
        return out

    def forward(self, x, training: bool | None = None):
        # B: batch, C: channels, F: filters, D1-D3: the three convolved axes
        if x.dim() != 5:
            raise ValueError(f"Conv3D {self.name!r} expected (batch, dim1, dim2, dim3, channels), received shape "
                             f"{tuple(x.shape)}.")
        if self.data_format == "channels_last":
            x = x.permute(0, 4, 1, 2, 3)  # -> (B, C, D1, D2, D3), PyTorch's layout
        if self.in_channels is None:
            self.build(x.shape[1])
            self.to(x.device)
        elif x.shape[1] != self.in_channels:
            raise ValueError(f"Conv3D {self.name!r} was built for {self.in_channels} channels, received "
                             f"{x.shape[1]} (input shape {tuple(x.shape)}).")
        self.output_sizes(x.shape[2:])
        if self.padding == "same":
            pads = [same_padding(n, d * (k - 1) + 1, s) for n, k, s, d in
                    zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)]
            x = F.pad(x, (*pads[2], *pads[1], *pads[0]))  # F.pad lists the last axis first
        y = F.conv3d(x, self.weight, self.bias, self.strides, dilation=self.dilation_rate, groups=self.groups)
        y = self.activation(y)  # (B, F, D1', D2', D3')
        return y.permute(0, 2, 3, 4, 1) if self.data_format == "channels_last" else y

    def keras_weights(self) -> list[np.ndarray]:
        w = [self.weight.detach().cpu().numpy().transpose(_TO_KERAS)]
        return w + ([self.bias.detach().cpu().numpy()] if self.use_bias else [])

    def set_keras_weights(self, weights) -> None:
        kernel = np.asarray(weights[0], dtype=np.float32)  # Keras: (k1, k2, k3, in // groups, filters)
        if self.in_channels is None:
            self.build(kernel.shape[3] * self.groups)
        expected = (*self.kernel_size, self.in_channels // self.groups, self.filters)
        if kernel.shape != expected:
            raise ValueError(f"Conv3D {self.name!r}: Keras kernel must be {expected}, received {kernel.shape}.")
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(kernel.transpose(_TO_TORCH).copy()))
            if self.use_bias:
                self.bias.copy_(torch.from_numpy(np.asarray(weights[1], dtype=np.float32)))

    def keras_weight_rules(self) -> list[KerasWeight]:
        if self.in_channels is None:
            return []
        rules = [KerasWeight((self.weight,), lambda w: w.permute(*_TO_KERAS), lambda k: (k.permute(*_TO_TORCH),),
                             self.kernel_regularizer, self.kernel_constraint)]
        if self.bias is not None:
            rules.append(same_layout(self.bias, self.bias_regularizer, self.bias_constraint))
        return rules

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": self.activation_name, "use_bias": self.use_bias, "in_channels": self.in_channels,
                **penalties_config(self, _DENSE_PENALTIES),
                **initializers.configs(kernel_initializer=self.kernel_initializer,
                                       bias_initializer=self.bias_initializer)}


Convolution3D = Conv3D
