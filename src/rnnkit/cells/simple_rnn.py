"""The simple recurrent cell: h = activation(x W + b + h U), Keras's `SimpleRNNCell`."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import BUILTIN, register_serializable
from .gated import GatedCell


@register_serializable(package=BUILTIN)
class SimpleRNNCell(GatedCell):
    """Fully connected recurrence: h = activation(x W + b + h U).

    >>> h, states = SimpleRNNCell(2)(torch.zeros(1, 4))
    >>> tuple(h.shape), len(states)
    ((1, 2), 1)
    """

    gates = 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None):
        super().__init__(units, activation, None, use_bias, dropout, recurrent_dropout, input_size,
                         kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
                         bias_constraint)
        self.state_size = self.units

    def step(self, xp_t, states, rec_mask):
        (h,) = states
        h_in = h if rec_mask is None else h * rec_mask
        return [self.activation(xp_t + F.linear(h_in, self.weight_hh))]

    def can_fuse(self, training):
        no_rec_dropout = not (training and self.recurrent_dropout > 0)
        return no_rec_dropout and self.activation_name in ("tanh", "relu")

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        fn = torch._VF.rnn_tanh_cell if self.activation_name == "tanh" else torch._VF.rnn_relu_cell
        return [fn(x_t, states[0], w_ih, w_hh, b_ih, b_hh)]

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        fn = torch._VF.rnn_tanh if self.activation_name == "tanh" else torch._VF.rnn_relu
        if batch_sizes is None:
            return fn(x, hx[0], weights, has_biases, 1, 0.0, training, False, True)
        return fn(x, batch_sizes, hx[0], weights, has_biases, 1, 0.0, training, False)
