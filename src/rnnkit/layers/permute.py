"""Permute: reorder the axes after the batch axis (Keras's `Permute`)."""

from __future__ import annotations

from ..registry import BUILTIN, register_serializable
from .base import Layer


@register_serializable(package=BUILTIN)
class Permute(Layer):
    """Reorder the non-batch axes: dims=(2, 1) swaps time steps and features, as Keras numbers them
    (from 1; the batch axis 0 stays first).

    >>> import torch
    >>> Permute((2, 1))(torch.zeros(4, 10, 3)).shape
    torch.Size([4, 3, 10])
    """

    def __init__(self, dims, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")
        self.dims = dims

    def forward(self, x, training: bool | None = None):
        if x.dim() != len(self.dims) + 1:
            raise ValueError(f"Permute {self.name!r} with dims={self.dims} expects inputs of rank {len(self.dims) + 1} "
                             f"(batch first), received shape {tuple(x.shape)}.")
        return x.permute(0, *self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
