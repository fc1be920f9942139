"""Keras's weight constraints (`keras.constraints`): MaxNorm, NonNeg, UnitNorm, MinMaxNorm.

A constraint maps a weight to its projection (clipped norms, no negatives). A layer given one
(`kernel_constraint=MaxNorm(3)`) has it applied after every optimizer update in `fit`, as Keras does,
to the weight in Keras's layout: `axis=0` of a Dense kernel (features, units) bounds each unit's
incoming weights, whatever PyTorch's layout.

>>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]])).flatten().tolist()
[0.6000000238418579, 0.800000011920929]
>>> get("non_neg")(torch.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations


import numpy as np
import torch

from .catalog import Catalog

Tensor = torch.Tensor
EPSILON = 1e-7  # Keras's backend.epsilon()


def _tensor(w) -> Tensor:
    return w if isinstance(w, Tensor) else torch.as_tensor(np.asarray(w))


def _dims(axis) -> int | tuple[int, ...]:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w: Tensor, axis) -> Tensor:
    return w.square().sum(_dims(axis), keepdim=True).sqrt()


class Constraint:
    """Base class: `__call__(w)` returns the projected weight (`w` unchanged here)."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class MaxNorm(Constraint):
    """Scale the vectors along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value: float = 2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to 0."""

    def __call__(self, w) -> Tensor:
        return _tensor(w).clamp_min(0)


class UnitNorm(Constraint):
    """Scale the vectors along `axis` to L2 norm 1."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the L2 norms along `axis` into [min_value, max_value]: to
    `rate * clip(norm) + (1 - rate) * norm` (rate=1 enforces the bounds at once)."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras's lower-case aliases (keras.constraints.max_norm is MaxNorm).
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
# The names `get` takes, as Keras's ALL_OBJECTS_DICT: class names and their snake case.
NAMES: dict[str, type] = {**{c.__name__: c for c in _CLASSES}, "constraint": Constraint, "max_norm": MaxNorm,
                          "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}

_CATALOG = Catalog("constraint", _CLASSES, NAMES,
                   "a Constraint (e.g. MaxNorm(3)), a config dict, or a function mapping "
                   "a weight tensor to its projection")
serialize, deserialize, get, config_value = (_CATALOG.serialize, _CATALOG.deserialize, _CATALOG.get,
                                             _CATALOG.config_value)
