"""The seeds' recurrent topologies, each one class with compile/fit/predict/evaluate/summary.

    many-to-one   x1 x2 x3 -> [RNN] -> y            (return_sequences=False on the last layer)
    many-to-many  x1 x2 x3 -> [RNN] -> y1 y2 y3     (return_sequences=True + a Dense per step)
    one-to-many   x -> RepeatVector / feedback -> y1 y2 y3
    seq2seq       x1..xT -> encoder states -> decoder -> y1..yH   (seed 002's sine model)
    autoencoder   x1..xT -> latent -> RepeatVector -> x1'..xT'    (seed 000)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..layers.core import Dense, Input
from ..layers.recurrent import GRU, LSTM, SimpleRNN
from ..layers.rnn import RNN
from ..layers.wrappers import RepeatVector, TimeDistributed
from ..registry import BUILTIN, register_serializable
from .base import BaseModel
from .sequential import Sequential

_CELLS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}


def _units_list(units) -> list[int]:
    units = [units] if isinstance(units, (int, np.integer)) else list(units)
    if not units or any(int(u) <= 0 for u in units):
        raise ValueError(f"units must be a positive int or a non-empty list of them, received {units!r}.")
    return [int(u) for u in units]


def _cell(cell: str):
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS)}, received {cell!r}.")
    return _CELLS[cell]


def step_stack(stack, h, states: list) -> "torch.Tensor":
    """Advance stacked recurrent layers by one step (states updated in place); the top layer's h."""
    for k, layer in enumerate(stack):
        states[k] = layer.step(h, states[k])
        h = states[k][0]
    return h


def _arguments(local_vars: dict) -> dict:
    """A topology's constructor arguments, kept so `save` can rebuild it from one file."""
    return {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}


def recurrent_stack(cell: str, units, last_return_sequences: bool, dropout: float = 0.0,
                    return_state: bool = False) -> list[RNN]:
    """Stacked recurrent layers: every layer but the last returns sequences (the next one needs them)."""
    units = _units_list(units)
    Layer = _cell(cell)
    return [Layer(u, return_sequences=(k < len(units) - 1) or last_return_sequences, dropout=dropout,
                  return_state=return_state) for k, u in enumerate(units)]


@register_serializable(package=BUILTIN)
class ManyToOne(Sequential):
    """Whole sequence in, one vector out: (batch, T, features) -> (batch, outputs).

    >>> ManyToOne(features=1, units=8).predict(np.zeros((2, 20, 1))).shape
    (2, 1)
    """

    def __init__(self, features: int, units=32, outputs: int = 1, cell: str = "lstm", dropout: float = 0.0,
                 time_steps: int | None = None, activation=None):
        arguments = _arguments(locals())
        super().__init__([Input((time_steps, features)), *recurrent_stack(cell, units, False, dropout),
                          Dense(outputs, activation=activation)])
        self.init_config = arguments


@register_serializable(package=BUILTIN)
class ManyToMany(Sequential):
    """One output per input step: (batch, T, features) -> (batch, T, outputs), e.g. running sums.

    >>> ManyToMany(features=1, units=8).predict(np.zeros((2, 20, 1))).shape
    (2, 20, 1)
    """

    def __init__(self, features: int, units=32, outputs: int = 1, cell: str = "lstm", dropout: float = 0.0,
                 time_steps: int | None = None, activation=None, stateful: bool = False,
                 batch_size: int | None = None):
        arguments = _arguments(locals())
        stack = recurrent_stack(cell, units, True, dropout)
        for layer in stack:
            layer.stateful = stateful
        super().__init__([Input((time_steps, features), batch_size=batch_size), *stack,
                          TimeDistributed(Dense(outputs, activation=activation))])
        self.init_config = arguments


@register_serializable(package=BUILTIN)
class OneToMany(BaseModel):
    """One vector in, `horizon` steps out: (batch, features) -> (batch, horizon, outputs).

    mode='repeat': the vector is repeated at every step (RepeatVector), a many-to-many stack reads it.
    mode='feedback': the vector is the first input; each output is fed back as the next input with the
    states carried (needs outputs == features).

    >>> OneToMany(features=3, horizon=4, units=8, outputs=3, mode="feedback").predict(np.zeros((2, 3))).shape
    (2, 4, 3)
    """

    def __init__(self, features: int, horizon: int, units=32, outputs: int = 1, cell: str = "lstm",
                 mode: str = "repeat", dropout: float = 0.0):
        arguments = _arguments(locals())
        super().__init__()
        self.init_config = arguments
        if mode not in ("repeat", "feedback"):
            raise ValueError(f"mode must be 'repeat' or 'feedback', received {mode!r}.")
        if mode == "feedback" and outputs != features:
            raise ValueError(f"mode='feedback' feeds each output back as the next input, so outputs ({outputs}) "
                             f"must equal features ({features}); use outputs={features} or mode='repeat'.")
        self.features, self.horizon, self.mode = features, int(horizon), mode
        self.stack = nn.ModuleList(recurrent_stack(cell, units, True, dropout))
        self.head = Dense(outputs)
        self.repeat = RepeatVector(self.horizon)
        with torch.no_grad():
            self(torch.zeros(1, features))
        self.adopt_states()

    def forward(self, x, training: bool | None = None):
        # B: batch, F: features, S: steps
        if x.dim() != 2 or x.shape[1] != self.features:
            raise ValueError(f"OneToMany expects (batch, {self.features}) vectors, received {tuple(x.shape)}.")
        if self.mode == "repeat":
            h = self.repeat(x)  # -> (B, S, F)
            for layer in self.stack:
                h = layer(h, training=training)
            return self.head(h)  # -> (B, S, outputs)
        states = [layer.get_initial_state(x.shape[0], x.dtype, x.device) for layer in self.stack]
        h_in, outs = x, []
        for _ in range(self.horizon):
            # -> (B, F): this step's output is the next step's input
            h_in = self.head(step_stack(self.stack, h_in, states))
            outs.append(h_in)
        return torch.stack(outs, dim=1)


@register_serializable(package=BUILTIN)
class Seq2Seq(BaseModel):
    """Encoder-decoder: encode the history, then decode `horizon` steps from the encoder's states.

    Decoder layer k starts from encoder layer k's final states (seed 002's 4 x LSTM(40) sine model).
    The first decoder input is the last known step; each later input is the previous output (free
    running, and always at inference) or the previous true value (teacher forcing, training only).
    Inference encodes once and decodes step by step, never re-encoding.

    >>> model = Seq2Seq(features=5, horizon=7, units=[8, 8])
    >>> model.predict(np.zeros((2, 30, 5))).shape
    (2, 7, 5)
    """

    def __init__(self, features: int, horizon: int, units=40, outputs: int | None = None,
                 cell: str = "lstm", teacher_forcing: bool = False, dropout: float = 0.0):
        arguments = _arguments(locals())
        super().__init__()
        self.init_config = arguments
        outputs = features if outputs is None else outputs
        if outputs != features:
            raise ValueError(f"Seq2Seq feeds each output back as the next decoder input, so outputs ({outputs}) "
                             f"must equal features ({features}).")
        if int(horizon) <= 0:
            raise ValueError(f"horizon must be a positive integer, received {horizon!r}.")
        self.features, self.horizon, self.teacher_forcing = features, int(horizon), teacher_forcing
        self.encoder = nn.ModuleList(recurrent_stack(cell, units, True, dropout))
        self.decoder = nn.ModuleList(recurrent_stack(cell, units, True, dropout))
        self.head = Dense(outputs)
        with torch.no_grad():
            self(torch.zeros(1, 2, features))
        self.adopt_states()

    def encode(self, x, training: bool | None = None) -> list[list[torch.Tensor]]:
        """Final states of every encoder layer for x (batch, T, features)."""
        h, states = self.convert_x(x), []
        for layer in self.encoder:
            h, final = layer.sequence(h, training=training)
            states.append(final)
        return states

    def forward(self, x, training: bool | None = None, targets=None):
        # B: batch, T: history steps, H: horizon, F: features
        if x.dim() != 3 or x.shape[-1] != self.features:
            raise ValueError(f"Seq2Seq expects (batch, time_steps, {self.features}), received {tuple(x.shape)}.")
        states = self.encode(x, training)
        step_in = x[:, -1]  # -> (B, F): decoding starts from the last known step
        if targets is not None:
            # Teacher forcing: decoder inputs are the true values shifted by one -- one fused pass.
            dec_in = torch.cat([step_in[:, None], targets[:, :-1]], dim=1)  # -> (B, H, F)
            h = dec_in
            for layer, init in zip(self.decoder, states):
                h, _ = layer.sequence(h, initial_state=init, training=training)
            return self.head(h)  # -> (B, H, F)
        outs = []
        for _ in range(self.horizon):
            step_in = self.head(step_stack(self.decoder, step_in, states))
            outs.append(step_in)
        return torch.stack(outs, dim=1)  # -> (B, H, F)

    def _training_forward(self, xb, yb, state_store=None):
        if self.teacher_forcing:
            y = yb
            if y.dim() != 3 or y.shape[1] != self.horizon:
                raise ValueError(f"Seq2Seq targets must be (batch, horizon={self.horizon}, {self.features}), "
                                 f"received {tuple(y.shape)}.")
            return self(xb, training=True, targets=y)
        return self(xb, training=True)


@register_serializable(package=BUILTIN)
class Autoencoder(BaseModel):
    """Many-to-one encoder -> latent vector -> RepeatVector -> many-to-many decoder; fit(X, X).

    >>> ae = Autoencoder(features=2, time_steps=10, latent=4, units=[8])
    >>> ae.predict(np.zeros((3, 10, 2))).shape, ae.encode(np.zeros((3, 10, 2))).shape
    ((3, 10, 2), (3, 4))
    """

    def __init__(self, features: int, time_steps: int, latent: int, units=(32,), cell: str = "lstm"):
        arguments = _arguments(locals())
        super().__init__()
        self.init_config = arguments
        units = _units_list(units) if units else []
        self.features, self.time_steps = features, int(time_steps)
        self.encoder = Sequential([Input((self.time_steps, features)),
                                   *recurrent_stack(cell, [*units, latent], False)])
        # The decoder mirrors the encoder: the latent vector at every step (one-to-many by repetition),
        # then a many-to-many stack and a Dense per step back to the features.
        self.decoder = Sequential([Input((latent,)), RepeatVector(self.time_steps),
                                   *recurrent_stack(cell, units[::-1] or [latent], True),
                                   TimeDistributed(Dense(features))])
        self.adopt_states()

    def forward(self, x, training: bool | None = None):
        return self.decoder(self.encoder(x, training=training), training=training)

    def encode(self, x) -> np.ndarray:
        """Latent vectors (batch, latent) for x (batch, time_steps, features)."""
        return self.encoder.predict(x)
