"""Keras's weight and activity regularizers (`keras.regularizers`): L1, L2, L1L2, OrthogonalRegularizer.

A regularizer is a function of a tensor returning a scalar penalty; a layer given one
(`kernel_regularizer=L2(0.01)`, `activity_regularizer="l1"`) lists the penalties in `layer.losses`, and
`fit` adds their sum to the loss it minimises, as Keras does. Weights are penalised in Keras's layout
(a Dense kernel as (features, units)), so a regularizer that depends on the layout (Orthogonal) sees the
same rows as in Keras.

>>> float(L2(0.5)(torch.ones(2, 3)))
3.0
>>> get("l1").get_config(), serialize(L1L2(l1=0.1, l2=0.2))
({'l1': 0.01}, {'class_name': 'L1L2', 'config': {'l1': 0.1, 'l2': 0.2}})
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .catalog import Catalog

Tensor = torch.Tensor
EPSILON = 1e-7  # Keras's backend.epsilon()


def _tensor(x) -> Tensor:
    # Keras's ops take NumPy arrays too; keep float64 as float64, as Keras's ops do.
    return x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))


def validate_float_arg(value, name: str) -> float:
    """`value` as a float if it is a finite number >= 0, else ValueError (Keras's check of penalty factors)."""
    if (not isinstance(value, (float, int)) or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. Received: "
                         f"{name}={value!r}. Pass a number such as {name}=0.01.")
    return float(value)


class Regularizer:
    """Base class: `__call__(x)` returns the penalty of tensor `x` (0 here); `get_config` its arguments."""

    def __call__(self, x) -> Tensor | float:
        return 0.0

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_config(self) -> dict:
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x**2). Defaults to no penalty (the string "l1l2" gives 0.01 and 0.01)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x) -> Tensor:
        x = _tensor(x)
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1 != 0.0:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2 != 0.0:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 * sum(|x|), l1 = 0.01 by default."""

    def __init__(self, l1: float = 0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def __call__(self, x) -> Tensor:
        return self.l1 * _tensor(x).abs().sum()

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x**2), l2 = 0.01 by default."""

    def __init__(self, l2: float = 0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x) -> Tensor:
        return self.l2 * _tensor(x).square().sum()

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |cosine| between distinct rows (mode="rows") or columns of a 2-D tensor."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = validate_float_arg(factor, name="factor")
        if mode not in {"rows", "columns"}:
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, inputs) -> Tensor:
        x = _tensor(inputs)
        if x.dim() != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        # Keras's ops.normalize: x * rsqrt(sum of squares), the inverse norm capped at 1 / epsilon
        inv_norm = torch.rsqrt(x.square().sum(axis, keepdim=True)).clamp(max=1.0 / EPSILON)
        x = x * inv_norm
        product = x @ x.T if self.mode == "rows" else x.T @ x
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * off_diagonal.abs().sum() / pairs

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


# Keras's lower-case aliases of the classes (keras.regularizers.l1 is L1).
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
# The names `get` takes, as Keras's ALL_OBJECTS_DICT: class names and their snake case ("l1l2",
# "orthogonal_regularizer"); "l1_l2" too, which Keras's docstrings use.
NAMES: dict[str, type] = {**{c.__name__: c for c in _CLASSES}, "regularizer": Regularizer, "l1": L1, "l2": L2,
                          "l1l2": L1L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}

_CATALOG = Catalog("regularizer", _CLASSES, NAMES,
                   "a Regularizer (e.g. L2(0.01)), a config dict, or a function of a "
                   "tensor returning a scalar")
serialize, deserialize, get, config_value = (_CATALOG.serialize, _CATALOG.deserialize, _CATALOG.get,
                                             _CATALOG.config_value)
