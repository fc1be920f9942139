"""Keras's activations over an axis: softmax, log_softmax and sparsemax make each slice along `axis` a
distribution (or its log); glu gates one half of the axis by the other.

`axis` is an int, a tuple of ints (the slices over those axes together, as Keras's `ops.softmax`) or,
for softmax and log_softmax, None (all elements).

>>> softmax(torch.tensor([[0.0, 0.0], [0.0, 0.0]]), axis=(0, 1)).tolist()
[[0.25, 0.25], [0.25, 0.25]]
>>> sparsemax(torch.tensor([1.0, 2.0, 5.0])).tolist()
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ._inputs import Tensor, as_tensor


def _warn_single(x: Tensor, axis) -> None:
    # Keras's ops.softmax warns the same way: a softmax over one value is always 1.
    if isinstance(axis, int) and -x.dim() <= axis < x.dim() and x.shape[axis] == 1:
        warnings.warn(f"You are using a softmax over axis {axis} of a tensor of shape {tuple(x.shape)}. This "
                      "axis has size 1. The softmax operation will always return the value 1, which is likely "
                      "not what you intended. Did you mean to use a sigmoid instead?", stacklevel=3)


def _log_normalizer(x: Tensor, axis) -> Tensor:
    dims = tuple(range(x.dim())) if axis is None else tuple(axis) if isinstance(axis, (tuple, list)) else axis
    return torch.logsumexp(x, dim=dims, keepdim=True)


def softmax(x, axis=-1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`."""
    x = as_tensor(x)
    _warn_single(x, axis)
    if isinstance(axis, int):
        return torch.softmax(x, dim=axis)
    return torch.exp(x - _log_normalizer(x, axis))


def log_softmax(x, axis=-1) -> Tensor:
    """x - log(sum(exp(x))) along `axis`."""
    x = as_tensor(x)
    if isinstance(axis, int):
        return F.log_softmax(x, dim=axis)
    return x - _log_normalizer(x, axis)


def sparsemax(x, axis=-1) -> Tensor:
    """max(x - tau, 0) along `axis`, tau chosen so each slice sums to 1 (Martins et al., 2016); the torch
    backend's algorithm."""
    logits = as_tensor(x)
    logits_sorted, _ = torch.sort(logits, dim=axis, descending=True)
    logits_cumsum = torch.cumsum(logits_sorted, dim=axis)
    r = torch.arange(1, logits.size(axis) + 1, device=logits.device, dtype=logits.dtype)
    r_shape = [1] * logits.dim()
    r_shape[axis] = -1
    r = r.view(r_shape)
    support = logits_sorted - (logits_cumsum - 1) / r > 0
    k = torch.sum(support, dim=axis, keepdim=True)
    cumsum_safe = torch.where(support, logits_cumsum, torch.zeros((), dtype=logits.dtype, device=logits.device))
    tau = (torch.sum(cumsum_safe, dim=axis, keepdim=True) - 1) / k
    return torch.clamp(logits - tau, min=0.0)


def glu(x, axis=-1) -> Tensor:
    """a * sigmoid(b), a and b the two halves of x along `axis`."""
    return F.glu(as_tensor(x), dim=axis)
