"""PReLU: a leaky ReLU whose negative slope is learned, one per value or shared along axes (Keras's `PReLU`)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import checks, initializers
from ..cells.gated import penalty_config
from ..cells.penalties import KerasWeight, WeightPenalties, get_constraint, get_regularizer, same_layout
from ..registry import BUILTIN, register_serializable
from .base import Layer

_PENALTIES = ("alpha_regularizer", "alpha_constraint")


def _shared_axes(value) -> tuple[int, ...] | None:
    """Keras's `shared_axes`: None, an axis or a list of axes, counted from 1 (0 is the batch axis)."""
    if value is None:
        return None
    axes = list(value) if isinstance(value, (list, tuple)) else [value]
    if not axes or not all(checks.is_int(a) and a >= 1 for a in axes):
        raise ValueError(f"PReLU: shared_axes must be None, an axis or a list of axes >= 1 (axis 0 is the batch), "
                         f"received {checks.short(value)}. Pass e.g. shared_axes=[1] to share the slope over time.")
    return tuple(int(a) for a in axes)


@register_serializable(package=BUILTIN)
class PReLU(Layer, WeightPenalties):
    """f(x) = x for x >= 0, alpha * x below, with `alpha` a trainable weight of the input's shape without
    the batch axis; `shared_axes` (from 1) gives those axes size 1, one slope shared along them.

    The weight is made on the first call (its shape is the input's), as Keras builds it, and keeps
    Keras's name and layout: `layer.alpha`.

    >>> layer = PReLU(alpha_initializer="ones", shared_axes=[1])
    >>> layer(torch.tensor([[[-2.0, 3.0], [-1.0, 1.0]]])).tolist(), tuple(layer.alpha.shape)
    ([[[-2.0, 3.0], [-1.0, 1.0]]], (1, 2))
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 name: str | None = None, input_shape=None, batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        self.alpha_initializer = initializers.for_weight(alpha_initializer)
        self.alpha_regularizer = get_regularizer(alpha_regularizer, "PReLU", "alpha_regularizer")
        self.alpha_constraint = get_constraint(alpha_constraint, "PReLU", "alpha_constraint")
        self.shared_axes = _shared_axes(shared_axes)
        self.alpha: nn.Parameter | None = None
        if self.batch_input_shape is not None and None not in self.batch_input_shape[1:]:
            self.build(self.batch_input_shape)

    def awaiting_build(self) -> bool:
        return self.alpha is None

    def build(self, input_shape) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"PReLU {self.name!r}: shared_axes={list(self.shared_axes)} names axis {axis}, but "
                                 f"the input {tuple(input_shape)} has axes 1 to {len(shape)} after the batch.")
            shape[axis - 1] = 1
        self.alpha = nn.Parameter(self.alpha_initializer(torch.empty(shape)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.alpha is None and prefix + "alpha" in state_dict:
            self.alpha = nn.Parameter(torch.empty(state_dict[prefix + "alpha"].shape))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x, training: bool | None = None):
        if self.alpha is None:
            self.build(tuple(x.shape))
            self.to(x.device)
        # B: batch; alpha has x's other axes (size 1 where shared)
        fits = x.dim() == self.alpha.dim() + 1 and all(
            a == 1 if (self.shared_axes and i + 1 in self.shared_axes) else a == n
            for i, (a, n) in enumerate(zip(self.alpha.shape, x.shape[1:])))
        if not fits:
            raise ValueError(f"PReLU {self.name!r} was built for inputs (batch, {', '.join(map(str, self.alpha.shape))})"
                             f" with shared_axes={self.shared_axes and list(self.shared_axes)}, received input shape "
                             f"{tuple(x.shape)}. Use a new PReLU layer for inputs of another shape.")
        return F.relu(x) - self.alpha * F.relu(-x)  # Keras's sum, so alpha < 0 acts as in Keras too

    def keras_weights(self) -> list[np.ndarray]:
        return [self.alpha.detach().cpu().numpy()]

    def set_keras_weights(self, weights) -> None:
        alpha = np.asarray(weights[0], dtype=np.float32)
        if self.alpha is None:
            self.alpha = nn.Parameter(torch.empty(alpha.shape))
        if tuple(alpha.shape) != tuple(self.alpha.shape):
            raise ValueError(f"PReLU {self.name!r}: Keras's alpha must have shape {tuple(self.alpha.shape)}, "
                             f"received {alpha.shape}.")
        with torch.no_grad():
            self.alpha.copy_(torch.from_numpy(alpha))

    def keras_weight_rules(self) -> list[KerasWeight]:
        return [] if self.alpha is None else [same_layout(self.alpha, self.alpha_regularizer, self.alpha_constraint)]

    def get_config(self):
        return {**super().get_config(), **initializers.configs(alpha_initializer=self.alpha_initializer),
                **penalty_config(self, _PENALTIES),
                "shared_axes": None if self.shared_axes is None else list(self.shared_axes)}
