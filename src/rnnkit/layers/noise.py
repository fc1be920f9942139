"""Noise while training, the identity at inference: GaussianNoise, GaussianDropout, AlphaDropout
(Keras's `layers/regularization/`). Each passes the mask on.

A `seed` makes the noise reproducible as Keras's SeedGenerator does: the layer keeps one generator,
seeded once, so consecutive calls draw different noise and a new layer with the same seed draws the
same sequence again.

>>> import torch
>>> GaussianNoise(0.1)(torch.ones(1, 3)).tolist()  # inference: unchanged
[[1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import math
import numbers

import torch

from .. import checks
from ..registry import BUILTIN, register_serializable
from .base import Layer

# SELU's constants (Klambauer et al., 2017), Keras's AlphaDropout's
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def fraction(name: str, value, where: str, below_one: bool = False) -> float:
    """Keras's check of a noise layer's `rate`/`stddev`: a number between 0 and 1; `below_one` refuses 1
    too, where Keras would divide by zero while training."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value <= 1 \
            and not (below_one and value == 1):
        return float(value)
    upper = "1 (1 excluded: it divides by zero)" if below_one else "1"
    raise ValueError(f"{where}: Invalid value received for argument `{name}`. Expected a float value between 0 and "
                     f"{upper}. Received: {name}={checks.short(value)}. Pass e.g. {name}=0.1.")


class SeededNoise(Layer):
    """What the noise layers share: the `seed`, its generator, and passing the mask on."""

    supports_masking = True

    def __init__(self, seed: int | None, name: str | None, input_shape):
        super().__init__(name, input_shape)
        self.seed = None if seed is None else checks.non_negative_int("seed", seed, type(self).__name__)
        self._generator: torch.Generator | None = None

    def noise_generator(self, device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != torch.device(device):
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def is_training(self, training: bool | None) -> bool:
        return self.training if training is None else bool(training)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register_serializable(package=BUILTIN)
class GaussianNoise(SeededNoise):
    """Add zero-mean Gaussian noise of standard deviation `stddev` while training (Keras's `GaussianNoise`).

    >>> x = torch.ones(200, 500)
    >>> round(float((GaussianNoise(0.3, seed=1)(x, training=True) - x).std()), 1)
    0.3
    """

    def __init__(self, stddev: float, seed: int | None = None, name: str | None = None, input_shape=None):
        super().__init__(seed, name, input_shape)
        self.stddev = fraction("stddev", stddev, "GaussianNoise")

    def forward(self, x, training: bool | None = None):
        if not self.is_training(training) or self.stddev == 0:
            return x
        noise = torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=self.noise_generator(x.device))
        return x + noise * self.stddev

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


@register_serializable(package=BUILTIN)
class GaussianDropout(SeededNoise):
    """Multiply by Gaussian noise of mean 1 and standard deviation sqrt(rate / (1 - rate)) while training
    (Keras's `GaussianDropout`): the variance of Dropout(rate), without zeros.

    >>> round(float(GaussianDropout(0.3, seed=1)(torch.ones(200, 500), training=True).std()), 1)  # sqrt(0.3 / 0.7)
    0.7
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, input_shape=None):
        super().__init__(seed, name, input_shape)
        self.rate = fraction("rate", rate, "GaussianDropout", below_one=True)

    def forward(self, x, training: bool | None = None):
        if not self.is_training(training) or self.rate == 0:
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=self.noise_generator(x.device))
        return x * (1.0 + noise * stddev)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


def _noise_shape(value) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(v is None or (checks.is_int(v) and v >= 1) for v in value):
        return tuple(None if v is None else int(v) for v in value)
    raise ValueError(f"AlphaDropout: noise_shape must be None or a list with one entry per input axis, each a "
                     f"positive int (1: the same draw along that axis) or None (the input's size), received "
                     f"{checks.short(value)}. Pass e.g. noise_shape=(None, 1, None).")


@register_serializable(package=BUILTIN)
class AlphaDropout(SeededNoise):
    """Dropout for self-normalizing networks (SELU), as Keras's `AlphaDropout`: while training a dropped
    value becomes SELU's saturation value -alpha * scale, then an affine map a * x + b brings the mean
    and variance of standardized inputs back to 0 and 1. `noise_shape` (None entries: the input's size)
    shares draws along axes of size 1.

    >>> y = AlphaDropout(0.3, seed=1)(torch.randn(200, 500, generator=torch.Generator().manual_seed(0)),
    ...                               training=True)
    >>> abs(float(y.mean())) < 0.05, round(float(y.std()), 1)
    (True, 1.0)
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, name: str | None = None,
                 input_shape=None):
        super().__init__(seed, name, input_shape)
        self.rate = fraction("rate", rate, "AlphaDropout", below_one=True)
        self.noise_shape = _noise_shape(noise_shape)

    def forward(self, x, training: bool | None = None):
        if not self.is_training(training) or self.rate == 0:
            return x
        if self.noise_shape is not None and len(self.noise_shape) != x.dim():
            raise ValueError(f"AlphaDropout {self.name!r}: noise_shape={list(self.noise_shape)} has "
                             f"{len(self.noise_shape)} entries, the input {tuple(x.shape)} has {x.dim()} axes. "
                             "Give one entry per axis, None for the input's size.")
        shape = x.shape if self.noise_shape is None else [n if s is None else s
                                                           for s, n in zip(self.noise_shape, x.shape)]
        uniform = torch.rand(shape, device=x.device, generator=self.noise_generator(x.device))
        kept = (uniform >= self.rate).to(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (x * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
