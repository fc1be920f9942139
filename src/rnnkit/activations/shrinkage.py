"""Keras's shrinking activations: values near zero removed or pulled in.

>>> soft_shrink([-1.0, 0.2, 1.0]).tolist()
[-0.5, 0.0, 0.5]
>>> threshold([-1.0, 2.0], 0.0, 7.0).tolist()
[7.0, 2.0]
"""

from __future__ import annotations

import torch.nn.functional as F

from ._inputs import Tensor, as_tensor


def hard_shrink(x, threshold=0.5) -> Tensor:
    """x where |x| > threshold, else 0."""
    return F.hardshrink(as_tensor(x), lambd=threshold)


def soft_shrink(x, threshold=0.5) -> Tensor:
    """x - threshold above threshold, x + threshold below -threshold, else 0."""
    return F.softshrink(as_tensor(x), lambd=threshold)


def tanh_shrink(x) -> Tensor:
    """x - tanh(x)."""
    return F.tanhshrink(as_tensor(x))


def threshold(x, threshold, default_value) -> Tensor:
    """x where x > threshold, else default_value (both required, as in Keras)."""
    return F.threshold(as_tensor(x), threshold, default_value)
