"""Identity: returns its input unchanged and passes the mask on (Keras's `Identity`), a placeholder
where a layer is expected (a branch without a projection, a removed layer kept for its name).

>>> import torch
>>> Identity()(torch.tensor([1.0, 2.0])).tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from ..registry import BUILTIN, register_serializable
from .base import Layer


@register_serializable(package=BUILTIN)
class Identity(Layer):
    """The input, unchanged (a tensor or a list of them)."""

    acts_on_last_axis = True
    supports_masking = True

    def __init__(self, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)

    def forward(self, x, training: bool | None = None):
        return x
