"""The LSTM cell: Keras's `LSTMCell` math in PyTorch's weight layout."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import checks
from ..registry import BUILTIN, register_serializable
from .gated import GatedCell


@register_serializable(package=BUILTIN)
class LSTMCell(GatedCell):
    """Long short-term memory cell: states [h, c], gates (i, f, g, o).

    >>> cell = LSTMCell(4)
    >>> h, (h, c) = cell(torch.zeros(2, 3))
    >>> tuple(h.shape), tuple(c.shape), cell.state_size
    ((2, 4), (2, 4), [4, 4])
    """

    gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None):
        self.unit_forget_bias = checks.boolean("unit_forget_bias", unit_forget_bias, type(self).__name__)
        super().__init__(units, activation, recurrent_activation, use_bias, dropout,
                         recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint)
        self.state_size = [self.units, self.units]

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.use_bias and self.unit_forget_bias:
            # A forget gate that starts open (bias 1) lets gradients flow through c from the start
            # (Jozefowicz et al., 2015); Keras does this by default.
            with torch.no_grad():
                self.bias_ih[self.units:2 * self.units] = 1.0

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation_name,
                "unit_forget_bias": self.unit_forget_bias}

    def step(self, xp_t, states, rec_mask):
        h, c = states
        h_in = h if rec_mask is None else h * rec_mask
        z = xp_t + F.linear(h_in, self.weight_hh)  # -> (B, 4H)
        i, f, g, o = z.chunk(4, dim=1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c + i * self.activation(g)
        h = o * self.activation(c)
        return [h, c]

    def step_kernel(self, batch: int) -> str:
        # oneDNN's sequence kernel wins from ~100 rows up (2x at 400 rows of LSTM(128)); below, its
        # set-up cost dominates and the cell kernel is up to 3x faster (measured: benchmarks/NOTES.md).
        return "cell" if batch <= 64 else "sequence"

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        return list(torch._VF.lstm_cell(x_t, states, w_ih, w_hh, b_ih, b_hh))

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        if batch_sizes is None:
            return torch._VF.lstm(x, hx, weights, has_biases, 1, 0.0, training, False, True)
        return torch._VF.lstm(x, batch_sizes, hx, weights, has_biases, 1, 0.0, training, False)
