"""Layers that rearrange time: TimeDistributed (per step), RepeatVector (one to many), Bidirectional."""

from __future__ import annotations

import inspect

import torch
from torch import nn

from .. import checks
from ..cells.gated import PENALTY_KEYS
from ..convert import to_mask
from ..registry import BUILTIN, register_serializable, registered_name
from .base import Layer
from .rnn import RNN
from .serialize import deserialize

Tensor = torch.Tensor


def _class_name(layer) -> str:
    """The name a wrapped layer is saved under (its registered name; the class name when unregistered)."""
    return registered_name(type(layer)) or type(layer).__name__


_TAKES: dict[tuple[type, str], bool] = {}


def _forward_takes(layer: nn.Module, arg: str) -> bool:
    """Whether the layer's forward (its `call` in Keras's terms) has a parameter named `arg`."""
    key = (type(layer), arg)
    if key not in _TAKES:
        try:
            _TAKES[key] = arg in inspect.signature(layer.forward).parameters
        except (TypeError, ValueError):
            _TAKES[key] = False
    return _TAKES[key]


def accepts_mask(layer: nn.Module) -> bool:
    """Whether `layer` takes a mask: its forward has a `mask` parameter (as Keras checks `call`)."""
    return _forward_takes(layer, "mask")


def call_layer(layer: nn.Module, x, training: bool | None = None, mask=None):
    """Call a layer as Keras does: with training (rnnkit layers, or any module whose forward takes it)
    and with the mask when its forward takes a `mask` argument."""
    kwargs = {}
    if isinstance(layer, Layer) or _forward_takes(layer, "training"):
        kwargs["training"] = training
    if mask is not None and accepts_mask(layer):
        kwargs["mask"] = mask
    return layer(x, **kwargs)


def output_mask(layer: nn.Module, x, mask):
    """The mask after `layer` (Keras's rule): its compute_mask when it has one (rnnkit layers pass
    the mask on only when they support masking), else the mask itself when the module declares
    `supports_masking`, else None (a layer that does not support masking drops it)."""
    compute = getattr(layer, "compute_mask", None)
    if callable(compute):
        return compute(x, mask)
    return mask if getattr(layer, "supports_masking", False) else None


@register_serializable(package=BUILTIN)
class TimeDistributed(Layer):
    """Apply `layer` to every time step independently, with the same weights at every step.

    (batch, time_steps, ...) -> (batch, time_steps, ...'). Works with any module, e.g. Conv2D on
    frames: (batch, 5, 224, 224, 3) -> (batch, 5, rows', cols', filters).

    >>> from rnnkit.layers import Dense
    >>> TimeDistributed(Dense(2))(torch.zeros(4, 7, 3)).shape
    torch.Size([4, 7, 2])
    """

    # Keras 3.15's TimeDistributed supports masking (its __init__ sets supports_masking = True): the
    # output keeps the input's mask, so Embedding(mask_zero) -> TimeDistributed(Dense) -> LSTM skips the
    # padding; the mask also reaches the wrapped layer when that layer's call takes one.
    supports_masking = True

    def __init__(self, layer: nn.Module, name: str | None = None, input_shape=None,
                 batch_input_shape=None):
        if isinstance(layer, dict):  # a saved config {"class_name", "config"}
            layer = deserialize(layer)
        if not isinstance(layer, nn.Module):
            raise TypeError(f"TimeDistributed wraps a layer (a torch.nn.Module), received {type(layer).__name__}.")
        super().__init__(name, input_shape, batch_input_shape)
        self.layer = layer

    def forward(self, x, training: bool | None = None, mask=None):
        # B: batch, T: time steps
        if x.dim() < 3:
            raise ValueError(f"TimeDistributed {self.name!r} expected at least (batch, time_steps, ...), "
                             f"received shape {tuple(x.shape)}.")
        B, T = x.shape[:2]
        if mask is not None:
            mask = self._check_mask(x, mask)
            if not accepts_mask(self.layer):
                mask = None  # Keras passes the mask only to a layer whose call takes one
        if mask is None and getattr(self.layer, "acts_on_last_axis", False):
            # Dense and Activation already treat every leading axis as a batch axis: calling them on
            # (B, T, F) is the same arithmetic without the two reshapes and their backward nodes.
            return call_layer(self.layer, x, training)
        step_mask = None if mask is None else mask.reshape(B * T, *mask.shape[2:])  # step t's mask[:, t]
        y = call_layer(self.layer, x.reshape(B * T, *x.shape[2:]), training, step_mask)  # -> (B*T, ...)
        return y.reshape(B, T, *y.shape[1:])  # -> (B, T, ...)

    def _check_mask(self, x, mask):
        """Keras's checks: a mask at least (batch, time_steps), its first two axes the input's."""
        mask = to_mask(mask, x.device)
        if mask.dim() < 2:
            raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                             f"`(batch_size, timesteps)`), but it has {mask.dim()} dimension(s) with shape "
                             f"{tuple(mask.shape)}.")
        if tuple(mask.shape[:2]) != tuple(x.shape[:2]):
            raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                             f"that is incompatible with the input shape {tuple(x.shape)}. The first two "
                             "dimensions of the mask (batch size and timesteps) must match the input's first "
                             f"two dimensions. Expected mask shape prefix: ({x.shape[0]}, {x.shape[1]}).")
        return mask

    def keras_weights(self):
        return self.layer.keras_weights()

    def set_keras_weights(self, weights):
        self.layer.set_keras_weights(weights)

    def get_config(self):
        inner = self.layer.get_config() if hasattr(self.layer, "get_config") else {}
        return {**super().get_config(), "layer": {"class_name": _class_name(self.layer), "config": inner}}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@register_serializable(package=BUILTIN)
class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the same vector at each of n steps (one to many).

    >>> RepeatVector(3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, n: int, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        need = "RepeatVector needs n, the number of steps, as a positive integer (e.g. RepeatVector(3))"
        if not checks.is_int(n):  # both a TypeError (Keras's) and a ValueError
            raise checks.ArgumentError(f"{need}. Expected an integer value for `n`, received {n!r} "
                                       f"({type(n).__name__}).")
        if n <= 0:
            raise ValueError(f"{need}: `n` should be a positive integer, received {n!r}.")
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
        if isinstance(layer, dict):  # saved configs {"class_name", "config"}
            layer = deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize(backward_layer)
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN), received "
                            f"{type(layer).__name__}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {_MERGE_MODES}, received {merge_mode!r}.")
        super().__init__(name or f"bidirectional_{layer.name}", input_shape,
                         batch_input_shape or layer.batch_input_shape)
        if backward_layer is None:
            backward_layer = _backward_copy(layer)
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
        # Both halves, as Keras writes them: the backward one may differ from a copy of the forward one.
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": _class_name(self.forward_layer),
                          "config": self.forward_layer.get_config()},
                "backward_layer": {"class_name": _class_name(self.backward_layer),
                                   "config": self.backward_layer.get_config()}}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _backward_copy(layer: RNN) -> RNN:
    """A fresh layer with `layer`'s arguments, reading the other way (Keras rebuilds it from the config).

    Initializers, regularizers and constraints are taken from the forward layer itself, so a custom
    callable (which a config leaves out) is kept too."""
    config = layer.get_config()
    config.update(go_backwards=not layer.go_backwards, name=f"backward_{layer.name}")
    config.pop("batch_input_shape", None)
    params = inspect.signature(type(layer).__init__).parameters
    for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer", *PENALTY_KEYS):
        if key in params and getattr(layer.cell, key, None) is not None:
            config[key] = getattr(layer.cell, key)
    if "activity_regularizer" in params and layer.activity_regularizer is not None:
        config["activity_regularizer"] = layer.activity_regularizer
    return type(layer)(**config)
