"""Keras activation names mapped to PyTorch functions."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # Keras 3 defines hard_sigmoid as relu6(x + 3) / 6 (slope 1/6), not tf-keras 2's 0.2 * x + 0.5.
    return F.relu6(x + 3.0) / 6.0


def _linear(x: torch.Tensor) -> torch.Tensor:
    return x


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "linear": _linear,
    "hard_sigmoid": _hard_sigmoid,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,
    "exponential": torch.exp,
}


def get(name: str | Callable | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the activation function for a Keras name (or a callable, or None for linear).

    >>> get("tanh")(torch.zeros(2)).tolist()
    [0.0, 0.0]
    """
    if name is None:
        return _linear
    if callable(name):
        return name
    if isinstance(name, str) and name in _ACTIVATIONS:
        return _ACTIVATIONS[name]
    raise ValueError(
        f"Unknown activation {name!r}. Expected one of {sorted(_ACTIVATIONS)}, "
        "None (linear) or a callable."
    )


def name_of(activation: str | Callable | None) -> str | None:
    """The Keras name of an activation as given to a layer (for configs and summaries)."""
    if activation is None or isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", repr(activation))
