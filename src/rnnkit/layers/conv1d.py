"""Conv1D: a convolution along time over (batch, time_steps, channels), with Keras's padding rules."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, checks, initializers
from ..registry import BUILTIN, register_serializable
from ..cells.penalties import KerasWeight, WeightPenalties, get_constraint, get_regularizer, same_layout
from .base import Layer
from .conv import _same_padding
from .core import _DENSE_PENALTIES, penalties_config

DATA_FORMATS = ("channels_last", "channels_first")


def one_int(name: str, value, allow_zero: bool = False) -> int:
    """Keras's `standardize_tuple(value, 1, name)`: an int or a 1-tuple of ints, > 0 (>= 0 if allowed)."""
    message = f"The `{name}` argument must be a tuple of 1 integers. Received {name}={value}"
    if checks.is_int(value):
        v = int(value)
    elif isinstance(value, (list, tuple)) and len(value) == 1 and checks.is_int(value[0]):
        v = int(value[0])
    else:
        raise ValueError(message)
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{message}, including values {{{v}}} that do not satisfy "
                         f"`value {'>= 0' if allow_zero else '> 0'}`")
    return v


def data_format_of(value: str | None) -> str:
    """Keras's `standardize_data_format`: None means channels_last (Keras's default image_data_format)."""
    value = "channels_last" if value is None else str(value).lower()
    if value not in DATA_FORMATS:
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                         f"Received: data_format={value}")
    return value


def padding_of(value: str, allow_causal: bool) -> str:
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {set(allowed)}. Received: {padding}")
    return padding


@register_serializable(package=BUILTIN)
class Conv1D(Layer, WeightPenalties):
    """1-D convolution along time (Keras's `Conv1D`), weights made on the first call.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: "valid" (no padding), "same" (output length ceil(steps / strides)) or "causal"
            (left padding only: output step t sees input steps <= t, for sequence models).
        data_format: "channels_last" (batch, steps, channels), the default, or "channels_first".
        groups: split the channels into this many independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer: as in Keras.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            Keras, on the kernel in Keras's layout.

    The kernel is kept in PyTorch's layout (filters, channels // groups, kernel_size);
    `keras_weights`/`set_keras_weights` speak Keras's (kernel_size, channels // groups, filters).

    >>> Conv1D(8, 3, padding="causal")(torch.zeros(2, 10, 4)).shape
    torch.Size([2, 10, 8])
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate=1, groups: int = 1, activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", in_channels: int | None = None,
                 input_shape=None, batch_input_shape=None, name: str | None = None, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None):
        super().__init__(name, input_shape, batch_input_shape)
        self.kernel_regularizer = get_regularizer(kernel_regularizer, "Conv1D", "kernel_regularizer")
        self.bias_regularizer = get_regularizer(bias_regularizer, "Conv1D", "bias_regularizer")
        self.kernel_constraint = get_constraint(kernel_constraint, "Conv1D", "kernel_constraint")
        self.bias_constraint = get_constraint(bias_constraint, "Conv1D", "bias_constraint")
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
        self.kernel_size = one_int("kernel_size", kernel_size)
        self.strides = one_int("strides", strides)
        self.dilation_rate = one_int("dilation_rate", dilation_rate)
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides=({self.strides},) and dilation_rate=({self.dilation_rate},)")
        self.padding = padding_of(padding, allow_causal=True)
        self.data_format = data_format_of(data_format)
        self.activation_name = activations.name_of(activation)
        self.activation = activations.get(activation)
        self.use_bias = checks.boolean("use_bias", use_bias, "Conv1D")
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
            torch.empty(self.filters, self.in_channels // self.groups, self.kernel_size)))
        self.bias = nn.Parameter(self.bias_initializer(torch.empty(self.filters))) if self.use_bias else None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.in_channels is None and prefix + "weight" in state_dict:
            self.build(state_dict[prefix + "weight"].shape[1] * self.groups)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def output_length(self, steps: int) -> int:
        """Keras's compute_conv_output_shape along time; ValueError when "valid" leaves no step."""
        if self.padding != "valid":
            return (steps - 1) // self.strides + 1
        out = (steps - self.dilation_rate * (self.kernel_size - 1) - 1) // self.strides + 1
        if out <= 0:
            raise ValueError(f"Conv1D {self.name!r}: computed output size would be zero or negative. Received "
                             f"{steps} steps, kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}, "
                             f"strides={self.strides}, padding='valid'. Use padding='same' or 'causal', or a "
                             "smaller kernel.")
        return out

    def forward(self, x, training: bool | None = None):
        # B: batch, T: time steps, C: channels, F: filters
        if x.dim() != 3:
            raise ValueError(f"Conv1D {self.name!r} expected (batch, time_steps, channels), received shape "
                             f"{tuple(x.shape)}.")
        if self.data_format == "channels_last":
            x = x.transpose(1, 2)  # -> (B, C, T), PyTorch's layout
        if self.in_channels is None:
            self.build(x.shape[1])
            self.to(x.device)
        elif x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1D {self.name!r} was built for {self.in_channels} channels, received "
                             f"{x.shape[1]} (input shape {tuple(x.shape)}).")
        self.output_length(x.shape[2])
        effective = self.dilation_rate * (self.kernel_size - 1) + 1
        if self.padding == "causal":  # all the padding before: step t never sees a later step
            x = F.pad(x, (effective - 1, 0))
        elif self.padding == "same":
            x = F.pad(x, _same_padding(x.shape[2], effective, self.strides))
        y = F.conv1d(x, self.weight, self.bias, self.strides, dilation=self.dilation_rate, groups=self.groups)
        y = self.activation(y)  # (B, F, T')
        return y.transpose(1, 2) if self.data_format == "channels_last" else y  # -> (B, T', F)

    def keras_weights(self) -> list[np.ndarray]:
        w = [self.weight.detach().cpu().numpy().transpose(2, 1, 0)]
        return w + ([self.bias.detach().cpu().numpy()] if self.use_bias else [])

    def set_keras_weights(self, weights) -> None:
        kernel = np.asarray(weights[0], dtype=np.float32)  # Keras: (kernel_size, in // groups, filters)
        if self.in_channels is None:
            self.build(kernel.shape[1] * self.groups)
        expected = (self.kernel_size, self.in_channels // self.groups, self.filters)
        if kernel.shape != expected:
            raise ValueError(f"Conv1D {self.name!r}: Keras kernel must be {expected}, received {kernel.shape}.")
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(kernel.transpose(2, 1, 0).copy()))
            if self.use_bias:
                self.bias.copy_(torch.from_numpy(np.asarray(weights[1], dtype=np.float32)))

    def keras_weight_rules(self) -> list[KerasWeight]:
        if self.in_channels is None:
            return []
        # Keras's kernel is (kernel_size, channels // groups, filters); PyTorch's the axes reversed
        rules = [KerasWeight((self.weight,), lambda w: w.permute(2, 1, 0), lambda k: (k.permute(2, 1, 0),),
                             self.kernel_regularizer, self.kernel_constraint)]
        if self.bias is not None:
            rules.append(same_layout(self.bias, self.bias_regularizer, self.bias_constraint))
        return rules

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups, "activation": self.activation_name,
                "use_bias": self.use_bias, "in_channels": self.in_channels,
                **penalties_config(self, _DENSE_PENALTIES),
                **initializers.configs(kernel_initializer=self.kernel_initializer,
                                       bias_initializer=self.bias_initializer)}


Convolution1D = Conv1D
