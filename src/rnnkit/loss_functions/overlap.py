"""Keras's overlap losses for segmentation-style targets (keras/src/losses/losses.py `dice`, `tversky`):
one minus how much y_pred overlaps y_true, summed over `axis` (None: the whole batch at once, one value).

dice = 1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7); tversky weighs the false
positives by alpha and the false negatives by beta (alpha = beta = 0.5 is dice). With `axis` the
values are per sample (axis=(1, 2, 3): one per image; axis=-1: one per time step of a sequence), which
sample weights then weigh.

>>> import torch
>>> y_true = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
>>> round(float(dice(y_true, torch.tensor([[0.9, 0.1], [0.2, 0.8]]))), 4)
0.15
"""

from __future__ import annotations

import torch

from .base import loss_class
from .reduction import built_in, reduce_weighted, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor
_EPSILON = 1e-7  # Keras's backend epsilon


@built_in
def dice(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None, axis=None) -> Tensor:
    """Keras's dice: 1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7) over `axis`."""
    y_true, y_pred, dims = _inputs(y_true, y_pred, axis)
    intersection = _sum(y_true * y_pred, dims)
    overlap = 2.0 * intersection / (_sum(y_true, dims) + _sum(y_pred, dims) + _EPSILON)
    return reduce_weighted(1 - overlap, sample_weight)


@built_in
def tversky(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None, alpha=0.5, beta=0.5,
            axis=None) -> Tensor:
    """Keras's tversky: 1 - TP / (TP + alpha * FP + beta * FN + 1e-7), the sums over `axis`."""
    y_true, y_pred, dims = _inputs(y_true, y_pred, axis)
    intersection = _sum(y_true * y_pred, dims)
    false_positives = _sum((1 - y_pred) * y_true, dims)  # Keras's names, its terms as it writes them
    false_negatives = _sum(y_pred * (1 - y_true), dims)
    overlap = intersection / (intersection + false_positives * alpha + false_negatives * beta + _EPSILON)
    return reduce_weighted(1 - overlap, sample_weight)


Dice = loss_class("Dice", dice, "Keras's Dice(reduction, name, axis=None, dtype).",
                  positional=("reduction", "name", "axis", "dtype"))
Tversky = loss_class("Tversky", tversky, "Keras's Tversky(alpha=0.5, beta=0.5, reduction, name, axis=None, dtype).",
                     positional=("alpha", "beta", "reduction", "name", "axis", "dtype"))


def _inputs(y_true, y_pred, axis) -> tuple[Tensor, Tensor, tuple | None]:
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)  # as Keras's LossFunctionWrapper
    if axis is None:
        return y_true, y_pred, None
    dims = (axis,) if isinstance(axis, int) else tuple(axis)
    rank = max(y_true.dim(), y_pred.dim())
    bad = [a for a in dims if not isinstance(a, int) or not -rank <= a < rank]
    if bad:
        raise ValueError(f"axis={axis!r} does not fit inputs of rank {rank} (y_pred of shape {tuple(y_pred.shape)}): "
                         f"give axes in [-{rank}, {rank}), e.g. axis={tuple(range(1, rank))} for one value per "
                         "sample, or axis=None for one value over the whole batch.")
    return y_true, y_pred, dims


def _sum(x: Tensor, dims: tuple | None) -> Tensor:
    return x.sum() if dims is None else x.sum(dim=dims)
