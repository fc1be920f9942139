"""Keras's initialisers, applied to Keras-shaped matrices.

Keras stores a kernel as (input_size, gates * units); PyTorch stores (gates * units, input_size).
Each initialiser here fills a PyTorch-layout weight as Keras would fill the Keras-shaped one, so fans
(and therefore scales) match Keras.
"""

from __future__ import annotations

import math
from typing import Callable, Union

import torch


class Constant:
    """Fill with one value (Keras's `initializers.Constant`).

    >>> Constant(0.5)(torch.empty(2, 3)).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return weight.fill_(self.value)

    def __repr__(self) -> str:
        return f"Constant({self.value})"


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    # PyTorch layout (out, in[, kh, kw]); Keras's fans are computed on (in, out) -- the same numbers.
    receptive = weight[0, 0].numel() if weight.dim() > 2 else 1
    fan_out = weight.shape[0] * receptive
    fan_in = (weight.shape[1] if weight.dim() > 1 else weight.shape[0]) * receptive
    return fan_in, fan_out


def glorot_uniform_(weight):
    fan_in, fan_out = _fans(weight)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return weight.uniform_(-limit, limit)


def glorot_normal_(weight):
    fan_in, fan_out = _fans(weight)
    with torch.no_grad():
        return torch.nn.init.trunc_normal_(weight, std=math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform_(weight):
    fan_in, _ = _fans(weight)
    limit = math.sqrt(6.0 / fan_in)
    with torch.no_grad():
        return weight.uniform_(-limit, limit)


def he_normal_(weight):
    fan_in, _ = _fans(weight)
    with torch.no_grad():
        return torch.nn.init.trunc_normal_(weight, std=math.sqrt(2.0 / fan_in))


def orthogonal_(weight):
    # Keras orthogonalises the (units, gates * units) matrix; PyTorch's layout is its transpose.
    keras_shape = torch.empty(weight.shape[1], weight.shape[0])
    torch.nn.init.orthogonal_(keras_shape)
    with torch.no_grad():
        return weight.copy_(keras_shape.t())


_NAMED: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "glorot_uniform": glorot_uniform_,
    "glorot_normal": glorot_normal_,
    "he_uniform": he_uniform_,
    "he_normal": he_normal_,
    "orthogonal": orthogonal_,
    "zeros": Constant(0.0),
    "ones": Constant(1.0),
    "random_normal": lambda w: torch.nn.init.normal_(w, 0.0, 0.05),
    "random_uniform": lambda w: torch.nn.init.uniform_(w, -0.05, 0.05),
}

Initializer = Union[str, float, Callable[[torch.Tensor], torch.Tensor]]


def get(init: Initializer) -> Callable[[torch.Tensor], torch.Tensor]:
    """An initialiser from a Keras name, a number (constant) or a callable filling a tensor."""
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return Constant(init)
    if callable(init):
        return init
    if isinstance(init, str) and init in _NAMED:
        return _NAMED[init]
    raise ValueError(f"Unknown initializer {init!r}. Expected one of {sorted(_NAMED)}, a number, "
                     "Constant(value) or a callable that fills a tensor in place.")


def name_of(init: Initializer):
    return init if isinstance(init, (str, int, float)) else repr(init)
