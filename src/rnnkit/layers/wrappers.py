"""Layers that rearrange time: TimeDistributed (per step), RepeatVector (one to many), Bidirectional."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..registry import BUILTIN, register_serializable, registered_name
from .base import Layer
from .rnn import RNN

Tensor = torch.Tensor


def _class_name(layer) -> str:
    """The name a wrapped layer is saved under (its registered name; the class name when unregistered)."""
    return registered_name(type(layer)) or type(layer).__name__


def call_layer(layer: nn.Module, x, training: bool | None = None, mask=None):
    """Call an rnnkit layer with training (and mask, for layers that take one), or a torch module with x."""
    if isinstance(layer, (RNN, Bidirectional, TimeDistributed)):
        return layer(x, mask=mask, training=training)
    if isinstance(layer, Layer):
        return layer(x, training=training)
    return layer(x)


@register_serializable(package=BUILTIN)
class TimeDistributed(Layer):
    """Apply `layer` to every time step independently, with the same weights at every step.

    (batch, time_steps, ...) -> (batch, time_steps, ...'). Works with any module, e.g. Conv2D on
    frames: (batch, 5, 224, 224, 3) -> (batch, 5, rows', cols', filters).

    >>> from rnnkit.layers import Dense
    >>> TimeDistributed(Dense(2))(torch.zeros(4, 7, 3)).shape
    torch.Size([4, 7, 2])
    """

    supports_masking = True

    def __init__(self, layer: nn.Module, name: str | None = None, input_shape=None,
                 batch_input_shape=None):
        if not isinstance(layer, nn.Module):
            raise TypeError(f"TimeDistributed wraps a layer (a torch.nn.Module), received {type(layer).__name__}.")
        super().__init__(name, input_shape, batch_input_shape)
        self.layer = layer

    def forward(self, x, training: bool | None = None, mask=None):
        # B: batch, T: time steps
        if x.dim() < 3:
            raise ValueError(f"TimeDistributed {self.name!r} expected at least (batch, time_steps, ...), "
                             f"received shape {tuple(x.shape)}.")
        if getattr(self.layer, "acts_on_last_axis", False):
            # Dense and Activation already treat every leading axis as a batch axis: calling them on
            # (B, T, F) is the same arithmetic without the two reshapes and their backward nodes.
            return call_layer(self.layer, x, training)
        B, T = x.shape[:2]
        y = call_layer(self.layer, x.reshape(B * T, *x.shape[2:]), training)  # -> (B*T, ...)
        return y.reshape(B, T, *y.shape[1:])  # -> (B, T, ...)

    def keras_weights(self):
        return self.layer.keras_weights()

    def set_keras_weights(self, weights):
        self.layer.set_keras_weights(weights)

    def get_config(self):
        inner = self.layer.get_config() if isinstance(self.layer, Layer) else {}
        return {**super().get_config(), "layer": {"class_name": _class_name(self.layer), "config": inner}}


@register_serializable(package=BUILTIN)
class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the same vector at each of n steps (one to many).

    >>> RepeatVector(3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, n: int, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector needs n, the number of steps, as a positive integer (e.g. "
                             f"RepeatVector(3)), received {n!r}.")
        self.n = int(n)

    def forward(self, x, training: bool | None = None):
        if x.dim() != 2:
            raise ValueError(f"RepeatVector {self.name!r} expected (batch, features), received shape "
                             f"{tuple(x.shape)}. A recurrent layer before it needs return_sequences=False.")
        return x[:, None, :].expand(-1, self.n, -1)  # -> (B, n, F), a view

    def get_config(self):
        return {**super().get_config(), "n": self.n}


def recurrent_of(layer) -> RNN | None:
    """The recurrent layer a layer is or wraps (Bidirectional: its forward half), else None."""
    inner = layer.forward_layer if isinstance(layer, Bidirectional) else layer
    return inner if isinstance(inner, RNN) else None


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@register_serializable(package=BUILTIN)
class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards, and merge their outputs.

    The backward copy runs with `go_backwards=True`; with return_sequences its output is flipped
    back so step t of both halves refers to input step t (as Keras does).

    >>> from rnnkit.layers import LSTM
    >>> Bidirectional(LSTM(3, return_sequences=True))(torch.zeros(2, 5, 4)).shape
    torch.Size([2, 5, 6])
    """

    supports_masking = True

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", backward_layer: RNN | None = None,
                 name: str | None = None, input_shape=None, batch_input_shape=None):
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN), received "
                            f"{type(layer).__name__}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {_MERGE_MODES}, received {merge_mode!r}.")
        super().__init__(name or f"bidirectional_{layer.name}", input_shape,
                         batch_input_shape or layer.batch_input_shape)
        if backward_layer is None:
            config = layer.get_config()
            config.update(go_backwards=not layer.go_backwards, name=f"backward_{layer.name}")
            config.pop("batch_input_shape", None)
            backward_layer = type(layer)(**config)
        if backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("Bidirectional needs the forward and backward layers to differ in go_backwards.")
        for attr in ("return_sequences", "return_state", "stateful"):
            if getattr(layer, attr) != getattr(backward_layer, attr):
                raise ValueError(f"Bidirectional: forward and backward layers differ in {attr}.")
        # Keras zeroes masked outputs of both halves when returning sequences, so the merge is clean.
        for half in (layer, backward_layer):
            half.zero_output_for_mask = half.return_sequences
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self.stateful = layer.stateful

    def forward(self, x, initial_state=None, mask=None, training: bool | None = None):
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(x, initial_state=fw_state, mask=mask, training=training)
        y_rev = self.backward_layer(x, initial_state=bw_state, mask=mask, training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            out = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def reset_states(self, states=None):
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
        else:
            half = len(states) // 2
            self.forward_layer.reset_states(states[:half])
            self.backward_layer.reset_states(states[half:])

    @property
    def states(self):
        fw, bw = self.forward_layer.states, self.backward_layer.states
        return None if fw is None or bw is None else fw + bw

    def compute_mask(self, x, mask):
        return mask if self.return_sequences else None

    def keras_weights(self):
        return self.forward_layer.keras_weights() + self.backward_layer.keras_weights()

    def set_keras_weights(self, weights):
        half = len(weights) // 2
        self.forward_layer.set_keras_weights(weights[:half])
        self.backward_layer.set_keras_weights(weights[half:])

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": _class_name(self.forward_layer),
                          "config": self.forward_layer.get_config()}}
