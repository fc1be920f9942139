"""Masking: mark padded time steps so that the recurrent layers after it skip them (Keras's `Masking`)."""

from __future__ import annotations

import numbers

import torch

from ..registry import BUILTIN, register_serializable
from .base import Layer


@register_serializable(package=BUILTIN)
class Masking(Layer):
    """Skip the time steps whose features all equal `mask_value`.

    A step is masked when every feature equals `mask_value`; its output is zeroed, and the mask
    (True where a step is real) reaches the next layers, as Embedding(mask_zero=True)'s does: a
    recurrent layer keeps its state through masked steps (Keras's convention).

    Args:
        mask_value: the padding value (0.0 by default).

    Input shape: (batch, time_steps, features). Output shape: the same.

    >>> x = torch.tensor([[[0.0, 0.0], [1.0, 2.0]]])
    >>> layer = Masking()
    >>> layer(x).shape, layer.compute_mask(x, None).tolist()
    (torch.Size([1, 2, 2]), [[False, True]])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, name: str | None = None, input_shape=None,
                 batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        if not isinstance(mask_value, numbers.Real) or isinstance(mask_value, bool):
            raise TypeError(f"Masking: mask_value must be a number (the padding value), received "
                            f"{type(mask_value).__name__} {mask_value!r}. E.g. Masking(mask_value=0.0).")
        self.mask_value = float(mask_value)

    def forward(self, x, training: bool | None = None):
        keep = (x != self.mask_value).any(dim=-1, keepdim=True)  # -> (B, T, 1)
        return torch.where(keep, x, torch.zeros_like(x))

    def compute_mask(self, x, mask=None):
        # The mask comes from the values; an incoming mask is replaced, as in Keras.
        return (x != self.mask_value).any(dim=-1)  # -> (B, T)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
