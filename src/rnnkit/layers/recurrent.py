"""LSTM, GRU and SimpleRNN: `RNN` around a built-in cell, with Keras's arguments, defaults and configs."""

from __future__ import annotations

from typing import Callable

import torch

from ..cells import GRUCell, LSTMCell, SimpleRNNCell
from ..cells.gated import initializer_config, penalty_config
from .. import checks
from ..registry import BUILTIN, register_serializable
from .base import Layer
from .rnn import RNN

def _implementation(value, where: str) -> int:
    """Keras's `implementation` (1: gate by gate, 2: one matrix product; 0: Keras 2's legacy value). It
    chooses how Keras batches the arithmetic, never the result; rnnkit picks its kernel itself (`use_fused`)."""
    if not checks.is_int(value) or int(value) not in (0, 1, 2):
        raise ValueError(f"{where}: implementation must be 1 or 2 (0 is accepted from old configs), received "
                         f"{value!r}. It only chooses how Keras batches the gate arithmetic; leave it out.")
    return int(value)


class _BuiltinRNN(RNN):
    """A layer that builds its built-in cell from its own arguments; its config is those arguments,
    flat, as Keras writes LSTM, GRU and SimpleRNN configs."""

    def get_config(self) -> dict:
        c = self.cell
        config = {"units": c.units, "activation": c.activation_name, "use_bias": c.use_bias,
                  "return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful,
                  "dropout": c.dropout, "recurrent_dropout": c.recurrent_dropout,
                  "zero_output_for_mask": self.zero_output_for_mask, "use_fused": self.use_fused,
                  **initializer_config(c), **penalty_config(c), **self._keras_extras_config()}
        if c.built:
            config["input_size"] = c.input_size
        return {**Layer.get_config(self), **config}

    @classmethod
    def from_config(cls, config: dict):
        """The layer `get_config` describes (its weights drawn afresh)."""
        return cls(**config)

    extra_repr = Layer.extra_repr


@register_serializable(package=BUILTIN)
class LSTM(_BuiltinRNN):
    """Long short-term memory layer with Keras's arguments, defaults and outputs.

    Input shape: (batch, time_steps, features). Output: (batch, units), or (batch, time_steps, units)
    with `return_sequences=True`; with `return_state=True` a list [output, h, c].

    >>> layer = LSTM(4, return_sequences=True)
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    >>> [tuple(t.shape) for t in LSTM(4, return_state=True)(torch.zeros(2, 5, 3))]
    [(2, 4), (2, 4), (2, 4)]
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, unroll: bool = False, implementation: int = 2):
        cell = LSTMCell(units, activation, recurrent_activation, use_bias, unit_forget_bias, dropout,
                        recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                        kernel_constraint, recurrent_constraint, bias_constraint)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name,
                         unroll, activity_regularizer=activity_regularizer)
        self.implementation = _implementation(implementation, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.cell.recurrent_activation_name,
                "unit_forget_bias": self.cell.unit_forget_bias}


@register_serializable(package=BUILTIN)
class GRU(_BuiltinRNN):
    """Gated recurrent unit layer (Keras 3 defaults: `reset_after=True`).

    >>> out, h = GRU(3, return_state=True)(torch.zeros(2, 4, 1))
    >>> tuple(out.shape), tuple(h.shape)
    ((2, 3), (2, 3))
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 reset_after: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, unroll: bool = False, implementation: int = 2):
        cell = GRUCell(units, activation, recurrent_activation, use_bias, reset_after, dropout,
                       recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                       bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                       kernel_constraint, recurrent_constraint, bias_constraint)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name,
                         unroll, activity_regularizer=activity_regularizer)
        self.implementation = _implementation(implementation, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.cell.recurrent_activation_name,
                "reset_after": self.cell.reset_after}


@register_serializable(package=BUILTIN)
class SimpleRNN(_BuiltinRNN):
    """Fully connected recurrent layer: h_t = activation(x_t W + b + h_{t-1} U).

    >>> SimpleRNN(2)(torch.zeros(1, 3, 4)).shape
    torch.Size([1, 2])
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh", use_bias: bool = True,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, unroll: bool = False, implementation: int = 2):
        cell = SimpleRNNCell(units, activation, use_bias, dropout, recurrent_dropout, input_size,
                             kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer,
                             recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
                             bias_constraint)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name,
                         unroll, activity_regularizer=activity_regularizer)
        self.implementation = _implementation(implementation, type(self).__name__)
