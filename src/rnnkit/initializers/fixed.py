"""Keras's initializers of fixed values: Zeros, Ones, Constant, Identity.

>>> Constant(0.5)(torch.empty(2, 3)).tolist()
[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
>>> Identity(gain=2.0)((2, 3)).tolist()
[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import torch

from .base import Initializer, Tensor


class Zeros(Initializer):
    """All zeros."""

    elementwise = True

    def sample_(self, out: Tensor, shape) -> None:
        out.zero_()


class Ones(Initializer):
    """All ones."""

    elementwise = True

    def sample_(self, out: Tensor, shape) -> None:
        out.fill_(1)


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or np.ndim(value) == 0


class Constant(Initializer):
    """Every value `value`: a number, or an array broadcast to the variable's Keras shape (a Dense kernel's
    array is (features, units), as in Keras)."""

    def __init__(self, value=0.0):
        if isinstance(value, Tensor):
            value = value.detach().cpu().numpy()
        self.value = float(value) if _is_scalar(value) else np.asarray(value)

    @property
    def elementwise(self) -> bool:  # one number fills any layout; an array has Keras's shape
        return isinstance(self.value, float)

    def sample_(self, out: Tensor, shape) -> None:
        if isinstance(self.value, float):
            out.fill_(self.value)
        else:
            out.copy_(torch.as_tensor(self.value).to(out.dtype).expand(tuple(shape)))

    def get_config(self) -> dict:
        if isinstance(self.value, float):
            return {"value": self.value}
        # Keras's serialization of a NumPy array
        return {"value": {"class_name": "__numpy__", "config": {"value": self.value.tolist(),
                                                                  "dtype": str(self.value.dtype)}}}

    @classmethod
    def from_config(cls, config: dict):
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
        return cls(value)


class Identity(Initializer):
    """`gain` times the identity matrix (2-D variables only, as in Keras)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def sample_(self, out: Tensor, shape) -> None:
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        out.copy_(self.gain * torch.eye(*shape, dtype=out.dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}
