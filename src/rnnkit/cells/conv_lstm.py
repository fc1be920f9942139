"""The convolutional LSTM cell: Keras's `ConvLSTMCell` math, with kernels in PyTorch's conv layout.

An LSTM whose input and recurrent transforms are convolutions (Shi et al., 2015): the states h and c
are feature maps with `filters` channels. Gates are (i, f, g, o), Keras's (i, f, c, o). The kernels are
kept as PyTorch's convolutions take them, `weight_ih` (4 * filters, channels, *kernel_size) and
`weight_hh` (4 * filters, filters, *kernel_size); `keras_weights`/`set_keras_weights` speak Keras's
(*kernel_size, channels, 4 * filters). The input convolution uses `strides`, `padding` and
`dilation_rate`; the recurrent one is always stride 1, "same", undilated, as in Keras.

Inputs and states are in the cell's `data_format`; the math runs channels first (PyTorch's layout).
Dropout follows Keras: four masks per sequence for the input and four for h, one per gate, which is
one grouped convolution (groups=4) of the four masked copies.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, checks, initializers
from ..registry import BUILTIN, register_serializable
from .base import Cell, as_states, build_cell
from .conv_geometry import (output_size, same_padding, standardize_data_format, standardize_padding,
                            standardize_tuple)
from .dropout import DropoutRNNCell
from .gated import initializer_config, penalty_config
from .penalties import KerasWeight, WeightPenalties, assign_penalties, same_layout

Tensor = torch.Tensor
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@register_serializable(package=BUILTIN)
class ConvLSTMCell(Cell, DropoutRNNCell, WeightPenalties):
    """One step of a convolutional LSTM over (batch, *spatial, channels) inputs (channels_last).

    Args: as Keras's `ConvLSTMCell` (`rank` 1, 2 or 3, `filters`, `kernel_size`, `strides`, `padding`,
    `data_format`, `dilation_rate`, activations, initializers, `unit_forget_bias`, regularizers,
    constraints, `dropout`, `recurrent_dropout`, `seed`), plus `input_size`: the input channels, to
    make the weights now.

    >>> cell = ConvLSTMCell(2, filters=4, kernel_size=3, padding="same")
    >>> h, (h, c) = cell(torch.zeros(2, 5, 5, 3))
    >>> tuple(h.shape), tuple(c.shape), tuple(cell.weight_ih.shape)
    ((2, 5, 5, 4), (2, 5, 5, 4), (16, 3, 3, 3))
    """

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, input_size: int | None = None):
        super().__init__()
        where = type(self).__name__
        if not checks.is_int(rank) or rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. Received: rank={rank} "
                             "(ConvLSTM1D, ConvLSTM2D and ConvLSTM3D have ranks 1, 2 and 3).")
        self.rank = int(rank)
        self.filters = checks.positive_int("filters", filters, where, "output channels", "E.g. filters=8.")
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = standardize_tuple(strides, self.rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                             f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation_name = activations.name_of(activation)
        self.recurrent_activation_name = activations.name_of(recurrent_activation)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = checks.boolean("use_bias", use_bias, where)
        self.unit_forget_bias = checks.boolean("unit_forget_bias", unit_forget_bias, where)
        self.kernel_initializer = initializers.for_weight(kernel_initializer)
        self.recurrent_initializer = initializers.for_weight(recurrent_initializer)
        self.bias_initializer = initializers.for_weight(bias_initializer)
        assign_penalties(self, where, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         recurrent_regularizer=recurrent_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = checks.rate("dropout", dropout, where, "the fraction of inputs to drop")
        self.recurrent_dropout = checks.rate("recurrent_dropout", recurrent_dropout, where,
                                             "the fraction of the recurrent state to drop")
        self.seed = None if seed is None else checks.non_negative_int("seed", seed, where)
        if self.seed is not None:  # reproducible dropout masks (DropoutRNNCell draws from it)
            self.seed_generator = torch.Generator().manual_seed(self.seed)
        self.state_size = [self.filters, self.filters]  # channels of h and c; their maps follow the input
        self.spatial_dims: tuple[int, ...] | None = None  # of the input steps, once seen (Keras's build)
        input_size = checks.optional_positive_int("input_size", input_size, where, "input channels")
        if input_size is not None:
            self.build(input_size)

    # -- weights ----------------------------------------------------------------------------------
    def build(self, input_size: int) -> None:
        """Make the kernels for `input_size` input channels."""
        super().build(input_size)
        G, k = 4 * self.filters, self.kernel_size
        self.weight_ih = nn.Parameter(torch.empty(G, self.input_size, *k))
        self.weight_hh = nn.Parameter(torch.empty(G, self.filters, *k))
        self.bias_ih = nn.Parameter(torch.zeros(G)) if self.use_bias else None
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if not self.built and prefix + "weight_ih" in state_dict:  # sized by the weights it is given
            self.build(state_dict[prefix + "weight_ih"].shape[1])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _to_keras(self, w: Tensor) -> Tensor:  # (O, I, *k) -> (*k, I, O)
        return w.permute(*range(2, self.rank + 2), 1, 0)

    def _to_torch(self, k: Tensor) -> Tensor:  # (*k, I, O) -> (O, I, *k)
        return k.permute(self.rank + 1, self.rank, *range(self.rank))

    def _fill(self, weight: nn.Parameter, init) -> None:
        if init is initializers.orthogonal_:
            # Keras orthogonalises its kernel flattened to (prod(kernel_size) * in, out).
            flat = torch.empty(math.prod(self.kernel_size) * weight.shape[1], weight.shape[0])
            torch.nn.init.orthogonal_(flat)
            with torch.no_grad():
                weight.copy_(self._to_torch(flat.reshape(*self.kernel_size, weight.shape[1], weight.shape[0])))
        else:
            init(weight)

    def reset_parameters(self) -> None:
        self._fill(self.weight_ih, self.kernel_initializer)
        self._fill(self.weight_hh, self.recurrent_initializer)
        if self.bias_ih is not None:
            self.bias_initializer(self.bias_ih)
            if self.unit_forget_bias:
                # A forget gate that starts open (bias 1) lets gradients flow through c from the start
                # (Jozefowicz et al., 2015); Keras sets it to ones, whatever bias_initializer says.
                with torch.no_grad():
                    self.bias_ih[self.filters:2 * self.filters] = 1.0

    def keras_weight_rules(self) -> list[KerasWeight]:
        if not self.built:
            return []
        rules = [KerasWeight((w,), self._to_keras, lambda k: (self._to_torch(k),), reg, con) for w, reg, con in
                 ((self.weight_ih, self.kernel_regularizer, self.kernel_constraint),
                  (self.weight_hh, self.recurrent_regularizer, self.recurrent_constraint))]
        if self.bias_ih is not None:
            rules.append(same_layout(self.bias_ih, self.bias_regularizer, self.bias_constraint))
        return rules

    def keras_weights(self) -> list[np.ndarray]:
        """[kernel (*kernel_size, channels, 4F), recurrent_kernel (*kernel_size, F, 4F), bias (4F,)]."""
        return [w.read(*w.params).detach().cpu().numpy().copy() for w in self.keras_weight_rules()]

    def set_keras_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Load Keras's [kernel, recurrent_kernel(, bias)] (the bias when use_bias)."""
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        names = "[kernel, recurrent_kernel" + (", bias]" if self.use_bias else "]")
        if len(weights) != 2 + self.use_bias:
            raise ValueError(f"ConvLSTMCell: expected {2 + self.use_bias} Keras weight arrays {names}, received "
                             f"{len(weights)}.")
        kernel = weights[0]
        if not self.built:
            if kernel.ndim != self.rank + 2:
                raise ValueError(f"ConvLSTMCell: Keras kernel must have {self.rank + 2} axes (*kernel_size, "
                                 f"channels, {4 * self.filters}), received shape {kernel.shape}.")
            self.build(kernel.shape[-2])
        for rule, value in zip(self.keras_weight_rules(), weights):
            expected = tuple(rule.read(*rule.params).shape)
            if value.shape != expected:
                raise ValueError(f"ConvLSTMCell: Keras weights {names} must have shapes "
                                 f"{[tuple(r.read(*r.params).shape) for r in self.keras_weight_rules()]}, "
                                 f"received {[w.shape for w in weights]}.")
        with torch.no_grad():
            for rule, value in zip(self.keras_weight_rules(), weights):
                (param,) = rule.params
                param.copy_(rule.write(torch.from_numpy(value).to(param.device))[0])

    def get_config(self) -> dict:
        config = {"rank": self.rank, "filters": self.filters, "kernel_size": self.kernel_size,
                  "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                  "dilation_rate": self.dilation_rate, "activation": self.activation_name,
                  "recurrent_activation": self.recurrent_activation_name, "use_bias": self.use_bias,
                  "unit_forget_bias": self.unit_forget_bias, "dropout": self.dropout,
                  "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
                  **initializer_config(self), **penalty_config(self)}
        if self.built:
            config["input_size"] = self.input_size
        return config

    # -- layout -----------------------------------------------------------------------------------
    def channels_first(self, t: Tensor) -> Tensor:
        """A tensor in the cell's data_format with the channel axis moved before the spatial axes."""
        if self.data_format == "channels_first":
            return t
        n = t.dim()
        return t.movedim(n - 1, n - self.rank - 1)

    def from_channels_first(self, t: Tensor) -> Tensor:
        if self.data_format == "channels_first":
            return t
        n = t.dim()
        return t.movedim(n - self.rank - 1, n - 1)

    def state_shape(self, spatial_dims: Sequence[int]) -> tuple[int, ...]:
        """The shape of h and c (no batch axis) for input steps of `spatial_dims`."""
        out = tuple(output_size(s, k, st, self.padding, d) for s, k, st, d in
                    zip(spatial_dims, self.kernel_size, self.strides, self.dilation_rate))
        if min(out) <= 0:
            raise ValueError(f"ConvLSTM: computed output size would be zero or negative for spatial input "
                             f"{tuple(spatial_dims)} with kernel_size={self.kernel_size}, strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}, padding='valid'. Use padding='same', a smaller "
                             "kernel, or larger inputs.")
        return (self.filters, *out) if self.data_format == "channels_first" else (*out, self.filters)

    def get_initial_state(self, batch_size: int, dtype: torch.dtype | None = None, device=None) -> list[Tensor]:
        """Zero h and c for `batch_size` rows, sized by the input steps seen (Keras's build)."""
        if self.spatial_dims is None:
            raise ValueError("ConvLSTMCell: the initial states are feature maps sized by the input, which this "
                             "cell has not seen yet. Call the layer on data (or declare its input shape) first.")
        shape = (batch_size, *self.state_shape(self.spatial_dims))
        return [torch.zeros(shape, dtype=dtype or torch.get_default_dtype(), device=device) for _ in range(2)]

    # -- math -------------------------------------------------------------------------------------
    def _conv(self, x: Tensor, weight: Tensor, bias, strides, padding: str, dilation, groups: int) -> Tensor:
        """Keras's ops.conv on channels-first (N, C, *S) with TensorFlow's "same" padding."""
        if padding == "same":
            pads = [same_padding(s, d * (k - 1) + 1, st) for s, k, st, d in
                    zip(x.shape[2:], weight.shape[2:], strides, dilation)]
            x = F.pad(x, [p for pair in reversed(pads) for p in pair])
        return _CONV[self.rank](x, weight, bias, strides, 0, dilation, groups)

    def project(self, x: Tensor, input_mask: Tensor | None = None) -> Tensor:
        """The input convolution of one step (B, *step) or of every step (B, T, *step) at once, in
        data_format, -> channels first (B[, T], 4F, *S'). `input_mask` (4, B, *step): one mask per gate."""
        # B: batch, T: time steps, C: channels, F: filters, S: spatial axes
        xc = self.channels_first(x)  # -> (B[, T], C, *S)
        lead, step = xc.shape[:xc.dim() - self.rank - 1], xc.shape[xc.dim() - self.rank - 1:]
        groups = 1
        if input_mask is not None:
            m = self.channels_first(input_mask)  # -> (4, B, C, *S)
            m = m.unsqueeze(2) if len(lead) == 2 else m
            xc = (xc.unsqueeze(0) * m).movedim(0, len(lead))  # -> (B[, T], 4, C, *S)
            step, groups = (4 * step[0], *step[1:]), 4
        z = self._conv(xc.reshape(-1, *step), self.weight_ih, self.bias_ih, self.strides, self.padding,
                       self.dilation_rate, groups)  # -> (N, 4F, *S')
        return z.reshape(*lead, *z.shape[1:])

    def step(self, xp_t: Tensor, states: list[Tensor], rec_mask: Tensor | None) -> list[Tensor]:
        """New [h, c] (data_format) from the projected input (B, 4F, *S') and [h, c]; `rec_mask` (4, B,
        *h.shape[1:]) or None multiplies h, one mask per gate."""
        h, c = self.channels_first(states[0]), self.channels_first(states[1])  # -> (B, F, *S')
        groups = 1
        if rec_mask is not None:
            h = (h.unsqueeze(0) * self.channels_first(rec_mask)).movedim(0, 1).flatten(1, 2)  # -> (B, 4F, *S')
            groups = 4
        ones = (1,) * self.rank
        z = xp_t + self._conv(h, self.weight_hh, None, ones, "same", ones, groups)  # -> (B, 4F, *S')
        i, f, g, o = z.chunk(4, dim=1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c + i * self.activation(g)
        h = o * self.activation(c)
        return [self.from_channels_first(h), self.from_channels_first(c)]

    def _masks(self, like: Tensor, rate: float) -> Tensor:
        return self._draw_mask(like.new_empty((4, *like.shape)), rate)  # -> (4, *like.shape)

    def get_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """Four input masks (4, *step_input.shape), one per gate, kept for the sequence."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._masks(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """Four masks of h (4, *h.shape), one per gate, kept for the sequence."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._masks(step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def call(self, inputs: Tensor, states: list[Tensor], training: bool = False) -> tuple[Tensor, list[Tensor]]:
        """One step: inputs (B, *step) and [h, c] in data_format -> (h, [h, c])."""
        if self.spatial_dims is None:
            self.spatial_dims = tuple(self.channels_first(inputs).shape[2:])
        input_mask = self.get_dropout_mask(inputs) if training else None
        rec_mask = self.get_recurrent_dropout_mask(states[0]) if training else None
        new = self.step(self.project(inputs, input_mask), states, rec_mask)
        return new[0], new

    def forward(self, x_t: Tensor, states: list[Tensor] | None = None, training: bool = False):
        """One step as Keras's cell call, building on first use: (B, *step) and states (zeros if None)."""
        if not self.built:
            build_cell(self, self.channels_first(x_t).shape[1])
            self.to(x_t.device)
        self.spatial_dims = tuple(self.channels_first(x_t).shape[2:])
        states = self.get_initial_state(x_t.shape[0], x_t.dtype, x_t.device) if states is None else states
        return self.call(x_t, as_states(states), training=training)
