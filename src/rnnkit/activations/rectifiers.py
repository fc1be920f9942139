"""Keras's rectifier-like activations: linear for large inputs, damped or cut below.

Each is Keras 3's definition with Keras's defaults (`keras/src/activations/activations.py` and the torch
backend's `nn.py`); a NumPy array is taken as Keras takes it.

>>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5).tolist()
[-5.0, -2.5, 0.0, 5.0, 10.0]
>>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), threshold=5.0).tolist()
[0.0, 0.0, 0.0, 0.0, 10.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._inputs import Tensor, as_tensor


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0) -> Tensor:
    """max(x, 0); with `negative_slope` the part below `threshold` scaled by it, with `max_value` capped,
    with `threshold` the values up to it set to 0 (Keras's `ReLU.static_call`, step by step)."""
    x = as_tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope=negative_slope)
        negative_part = F.relu(-x + threshold) if threshold != 0 else F.relu(-x)
    else:
        negative_part = 1
    clip_max = max_value is not None
    if threshold != 0:
        x = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        x = F.relu6(x)
        clip_max = False
    else:
        x = F.relu(x)
    if clip_max:
        x = x.clamp(0.0, max_value)
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2) -> Tensor:
    """x for x > 0, negative_slope * x below."""
    return F.leaky_relu(as_tensor(x), negative_slope=negative_slope)


def relu6(x) -> Tensor:
    """min(max(x, 0), 6)."""
    return F.relu6(as_tensor(x))


def elu(x, alpha=1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) below."""
    return F.elu(as_tensor(x), alpha)


def selu(x) -> Tensor:
    """scale * elu(x, alpha) with alpha=1.67326324, scale=1.05070098 (Klambauer et al., 2017)."""
    return F.selu(as_tensor(x))


def celu(x, alpha=1.0) -> Tensor:
    """x for x >= 0, alpha * (exp(x / alpha) - 1) below."""
    return F.celu(as_tensor(x), alpha=alpha)


def gelu(x, approximate=False) -> Tensor:
    """x * P(X <= x), X ~ N(0, 1); `approximate=True`: the tanh approximation."""
    return F.gelu(as_tensor(x), approximate="tanh" if approximate else "none")


def silu(x) -> Tensor:
    """x * sigmoid(x) (Swish)."""
    return F.silu(as_tensor(x))


def hard_silu(x) -> Tensor:
    """x * relu6(x + 3) / 6: 0 below -3, x above 3 (Hard Swish)."""
    return F.hardswish(as_tensor(x))


def mish(x) -> Tensor:
    """x * tanh(softplus(x)), written as Keras writes it."""
    x = as_tensor(x)
    return x * torch.tanh(F.softplus(x))


def softplus(x) -> Tensor:
    """log(exp(x) + 1)."""
    return F.softplus(as_tensor(x))


def squareplus(x, b=4) -> Tensor:
    """(x + sqrt(x**2 + b)) / 2."""
    x = as_tensor(x)
    return (x + torch.sqrt(x**2 + b)) / 2


def sparse_plus(x) -> Tensor:
    """0 for x <= -1, (x + 1)**2 / 4 for -1 < x < 1, x from 1."""
    x = as_tensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, (1 / 4) * (x + 1) ** 2, x))


def exponential(x) -> Tensor:
    """exp(x)."""
    return torch.exp(as_tensor(x))


def linear(x):
    """x, unchanged (not even converted, as Keras's)."""
    return x


swish = silu  # Keras's alias: saved as "silu"
hard_swish = hard_silu  # saved as "hard_silu"
