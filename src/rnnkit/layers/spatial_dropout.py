"""SpatialDropout1D: drop whole feature channels of a sequence, the same ones at every step."""

from __future__ import annotations

import torch

from .. import checks
from ..registry import BUILTIN, register_serializable
from .noise import SeededNoise


@register_serializable(package=BUILTIN)
class SpatialDropout1D(SeededNoise):
    """Zero a fraction `rate` of the channels of each sample while training (Keras's `SpatialDropout1D`).

    Unlike Dropout, a dropped channel is dropped at every time step: neighbouring steps are strongly
    correlated (after Embedding or Conv1D), so dropping single values would barely regularize. Kept
    values are scaled by 1 / (1 - rate); at inference the layer is the identity.

    Input shape: (batch, time_steps, channels). Output shape: the same.

    >>> SpatialDropout1D(0.5)(torch.ones(1, 2, 3)).tolist()  # inference: unchanged
    [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, input_shape=None):
        super().__init__(seed, name, input_shape)
        self.rate = checks.rate("rate", rate, "SpatialDropout1D")

    def forward(self, x, training: bool | None = None):
        if x.dim() != 3:
            raise ValueError(f"SpatialDropout1D {self.name!r} expected (batch, time_steps, channels), received "
                             f"shape {tuple(x.shape)}.")
        if not self.is_training(training) or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        noise = torch.rand(x.shape[0], 1, x.shape[2], device=x.device, generator=self.noise_generator(x.device))
        return x * (noise < keep).to(x.dtype) / keep  # one draw per (sample, channel), shared by all steps

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
