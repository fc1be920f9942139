"""Keras's random initializers: RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling (and the
Glorot, He and Lecun schemes built on it), Orthogonal.

`seed` is as in Keras 3: an int gives the same values on every call with the same shape (and a layer
gets those values, in its layout); a `torch.Generator` (rnnkit's counterpart of Keras's SeedGenerator)
different values on each call, reproducibly. Unseeded (None), values come from torch's global generator
(so `torch.manual_seed` or `rnnkit.utils.set_random_seed` fixes them), new ones on each call. The values
cannot equal Keras's (another generator), but the distributions do: Keras's truncated normal is cut at two
standard deviations, VarianceScaling's stddev is sqrt(scale / fan) / 0.8796..., fans are Keras's.

>>> init = GlorotUniform(seed=1)
>>> bool((init((3, 4)) == init((3, 4))).all()), init.get_config()
(True, {'seed': 1, 'input_axes': None, 'output_axes': None})
"""

from __future__ import annotations

import math

import torch

from .base import Initializer, Tensor, compute_fans, draw_

_TRUNCATION = 0.87962566103423978  # the stddev of a standard normal cut at +-2, Keras's constant


def _seed_config(seed):
    if isinstance(seed, torch.Generator):  # written as Keras writes its SeedGenerator
        return {"class_name": "SeedGenerator", "config": {"seed": seed.initial_seed()}}
    return seed


class RandomInitializer(Initializer):
    """Base of the random initializers: holds `seed` (None, an int, or a torch.Generator)."""

    elementwise = True

    def __init__(self, seed=None):
        if isinstance(seed, dict):  # a saved generator, rnnkit's or Keras's SeedGenerator config
            seed = torch.Generator().manual_seed(int((seed.get("config") or {}).get("seed") or 0))
        elif seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, torch.Generator))):
            raise ValueError("`seed` argument should be an instance of `torch.Generator` (rnnkit's counterpart of "
                             f"`keras.random.SeedGenerator()`) or an integer. Received: seed={seed}")
        self.seed = seed

    def generator(self) -> torch.Generator | None:
        """The generator of one call: a fresh one from an int seed, the given torch.Generator, or None (torch's
        global generator)."""
        if isinstance(self.seed, int):
            return torch.Generator().manual_seed(self.seed)
        return self.seed

    def get_config(self) -> dict:
        return {"seed": _seed_config(self.seed)}


def _normal_(out: Tensor, mean: float, stddev: float, generator) -> None:
    draw_(out, generator, lambda t, g: t.normal_(mean, stddev, generator=g))


def _truncated_normal_(out: Tensor, mean: float, stddev: float, generator) -> None:
    # Keras's truncated_normal: the normal(mean, stddev) cut to mean +- 2 stddev
    draw_(out, generator, lambda t, g: torch.nn.init.trunc_normal_(t, mean, stddev, mean - 2 * stddev,
                                                                   mean + 2 * stddev, generator=g))


def _uniform_(out: Tensor, minval: float, maxval: float, generator) -> None:
    draw_(out, generator, lambda t, g: t.uniform_(minval, maxval, generator=g))


class RandomNormal(RandomInitializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def sample_(self, out: Tensor, shape) -> None:
        _normal_(out, self.mean, self.stddev, self.generator())

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal(mean, stddev) cut to mean +- 2 stddev (so its standard deviation is 0.88 stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def sample_(self, out: Tensor, shape) -> None:
        _truncated_normal_(out, self.mean, self.stddev, self.generator())

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def sample_(self, out: Tensor, shape) -> None:
        _uniform_(out, self.minval, self.maxval, self.generator())

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Values of variance scale / n, n the fan in, the fan out or their mean (`mode`), Keras's fans of the
    Keras-shaped variable; `distribution` "truncated_normal" ("normal"), "untruncated_normal" or "uniform"."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(f"Invalid `distribution` argument: {distribution}.Please use one of "
                             f"{allowed_distributions}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def sample_(self, out: Tensor, shape) -> None:
        fan_in, fan_out = compute_fans(shape, input_axes=self.input_axes, output_axes=self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            _truncated_normal_(out, 0.0, math.sqrt(scale) / _TRUNCATION, self.generator())
        elif self.distribution == "untruncated_normal":
            _normal_(out, 0.0, math.sqrt(scale), self.generator())
        else:
            limit = math.sqrt(3.0 * scale)
            _uniform_(out, -limit, limit, self.generator())

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "input_axes": self.input_axes, "output_axes": self.output_axes}


class _Scheme(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution (its config: seed and axes only)."""

    scheme: tuple[float, str, str] = (1.0, "fan_avg", "uniform")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self.scheme
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self) -> dict:
        return {"seed": _seed_config(self.seed), "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_Scheme):
    """Uniform on +-sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""

    scheme = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Scheme):
    """Truncated normal of stddev sqrt(2 / (fan_in + fan_out))."""

    scheme = (1.0, "fan_avg", "truncated_normal")


class LecunNormal(_Scheme):
    """Truncated normal of stddev sqrt(1 / fan_in)."""

    scheme = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_Scheme):
    """Uniform on +-sqrt(3 / fan_in)."""

    scheme = (1.0, "fan_in", "uniform")


class HeNormal(_Scheme):
    """Truncated normal of stddev sqrt(2 / fan_in) (He et al., 2015)."""

    scheme = (2.0, "fan_in", "truncated_normal")


class HeUniform(_Scheme):
    """Uniform on +-sqrt(6 / fan_in)."""

    scheme = (2.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """`gain` times an orthogonal matrix: the variable flattened to (prod(shape[:-1]), shape[-1]) has
    orthonormal columns (or rows, when wider than tall): Q of the QR of a standard normal matrix, signs
    fixed by R's diagonal (Keras's algorithm, which torch.nn.init.orthogonal_ runs on that matrix)."""

    elementwise = False

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def sample_(self, out: Tensor, shape) -> None:
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional. Received: shape="
                             f"{tuple(shape)} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty(rows, cols, dtype=torch.float64 if out.dtype == torch.float64 else torch.float32)
        generator = self.generator()
        if generator is not None and generator.device != flat.device:
            flat = flat.to(generator.device)
        torch.nn.init.orthogonal_(flat, gain=self.gain, generator=generator)
        out.copy_(flat.reshape(tuple(shape)))

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}
