"""The GRU cell: Keras's `GRUCell` math in PyTorch's weight layout and gate order (r, z, n)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import checks
from ..registry import BUILTIN, register_serializable
from .gated import GatedCell


@register_serializable(package=BUILTIN)
class GRUCell(GatedCell):
    """Gated recurrent unit cell. `reset_after=True` (Keras 3's default) is the cuDNN variant.

    >>> h, states = GRUCell(3)(torch.zeros(2, 5))
    >>> tuple(h.shape), len(states)
    ((2, 3), 1)
    """

    gates = 3
    keras_gate_order = (1, 0, 2)  # torch (r, z, n) <- keras (z, r, h)

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, reset_after: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None):
        self.reset_after = checks.boolean("reset_after", reset_after, type(self).__name__)
        super().__init__(units, activation, recurrent_activation, use_bias, dropout,
                         recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint)
        self.state_size = self.units

    def _has_bias_hh(self) -> bool:
        return self.reset_after

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation_name,
                "reset_after": self.reset_after}

    def step(self, xp_t, states, rec_mask):
        (h,) = states
        h_in = h if rec_mask is None else h * rec_mask
        H = self.units
        x_r, x_z, x_n = xp_t.chunk(3, dim=1)
        if self.reset_after:
            h_r, h_z, h_n = F.linear(h_in, self.weight_hh, self.bias_hh).chunk(3, dim=1)
            r = self.recurrent_activation(x_r + h_r)
            z = self.recurrent_activation(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            h_r, h_z = F.linear(h_in, self.weight_hh[:2 * H]).chunk(2, dim=1)
            r = self.recurrent_activation(x_r + h_r)
            z = self.recurrent_activation(x_z + h_z)
            n = self.activation(x_n + F.linear(r * h_in, self.weight_hh[2 * H:]))
        return [z * h + (1.0 - z) * n]

    def can_fuse(self, training):
        return self.reset_after and super().can_fuse(training)

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        return [torch._VF.gru_cell(x_t, states[0], w_ih, w_hh, b_ih, b_hh)]

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        if batch_sizes is None:
            return torch._VF.gru(x, hx[0], weights, has_biases, 1, 0.0, training, False, True)
        return torch._VF.gru(x, batch_sizes, hx[0], weights, has_biases, 1, 0.0, training, False)
