"""Keras's squashing activations: bounded maps of x (sigmoids, tanh and their cheaper kin).

>>> hard_sigmoid(torch.tensor([-3.0, 0.0, 3.0])).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._inputs import Tensor, as_tensor


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x))."""
    return torch.sigmoid(as_tensor(x))


def hard_sigmoid(x) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, x / 6 + 0.5 between. Keras 3's (slope 1/6), not
    tf-keras 2's 0.2 * x + 0.5."""
    return F.relu6(as_tensor(x) + 3.0) / 6.0


def sparse_sigmoid(x) -> Tensor:
    """0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 from 1."""
    x = as_tensor(x)
    zero, one = (torch.tensor(v, dtype=x.dtype, device=x.device) for v in (0.0, 1.0))
    return torch.where(x <= -1, zero, torch.where(x >= 1, one, 0.5 * (x + 1)))


def log_sigmoid(x) -> Tensor:
    """log(1 / (1 + exp(-x)))."""
    return F.logsigmoid(as_tensor(x))


def tanh(x) -> Tensor:
    """The hyperbolic tangent."""
    return torch.tanh(as_tensor(x))


def hard_tanh(x) -> Tensor:
    """x clipped to [-1, 1]."""
    return F.hardtanh(as_tensor(x), min_val=-1.0, max_val=1.0)


def softsign(x) -> Tensor:
    """x / (|x| + 1)."""
    return F.softsign(as_tensor(x))
