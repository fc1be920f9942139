"""A loss's values weighed and reduced as Keras does (keras/src/losses/loss.py).

Each built-in loss function gives a value per sample (per time step for sequences) and reduces it with
Keras's "sum_over_batch_size": sum(values * sample_weight) / values.numel(). The weights are not
normalised by their sum, so weights of 2 double the loss. A loss object (`base.Loss`) reduces its values
with any of Keras's reductions (`reduce`). A mask rides on a tensor as Keras's `_keras_mask`
(`rnnkit.keras_mask`): a model output's padding, or the values a loss leaves out (Keras's circle loss
masks its zeros); `apply_mask` turns it into weights.
"""

from __future__ import annotations

from typing import Callable

import torch

from .. import keras_mask

Tensor = torch.Tensor
PER_SAMPLE = object()  # given as sample_weight, a built-in loss returns its values unreduced
_BUILT_IN = "_rnnkit_reduces_itself"  # the attribute `built_in` marks a built-in loss function with


def built_in(fn: Callable) -> Callable:
    """Mark `fn(y_true, y_pred, sample_weight=None, **options)` as a built-in loss: it reduces its values
    itself and returns them unreduced when given `PER_SAMPLE` as the weight."""
    setattr(fn, _BUILT_IN, True)
    return fn


def values_of(fn: Callable, y_true: Tensor, y_pred: Tensor, **options) -> Tensor:
    """The values per sample of a loss function: a built-in one asked for them, any other called as Keras
    calls a loss function, fn(y_true, y_pred, **options)."""
    if getattr(fn, _BUILT_IN, False):
        return fn(y_true, y_pred, PER_SAMPLE, **options)
    return fn(y_true, y_pred, **options)


def reduce_weighted(values: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """Keras's `reduce_weighted_values` with "sum_over_batch_size": sum(values * w) / values.numel().

    The weight's rank is matched to the values' as Keras's `squeeze_or_expand_to_same_rank` does (a
    trailing axis of 1 dropped or added); per-sample weights (B,) on per-step values (B, T) apply to every
    step, as in Keras 2 (Keras 3 broadcasts them against the time axis and fails). A scalar `values`
    (a custom loss that reduced itself) is scaled by the weights' mean, as Keras's reduction does. Values
    that carry a mask (Keras's circle loss masks its zeros) average over the entries the mask keeps.

    >>> float(reduce_weighted(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 0.0])))
    1.0
    """
    if sample_weight is PER_SAMPLE:  # Loss.call: the values before any reduction
        return values
    sample_weight = apply_mask(sample_weight, keras_mask.get(values))
    return reduce(values, sample_weight, "sum_over_batch_size")


def reduce(values: Tensor, sample_weight: Tensor | None, reduction: str | None) -> Tensor:
    """Keras's `reduce_weighted_values` once any mask is in the weights: the values times the weights,
    then "sum_over_batch_size" / "mean" (the sum over the number of weighted values), "sum",
    "mean_with_sample_weight" (the sum over the sum of the weights) or None / "none" (the weighted
    values). A scalar or empty result comes back as it is, as Keras's."""
    weight = None
    if sample_weight is not None:
        values, weight = _weigh(values, sample_weight)
    if reduction in (None, "none") or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    divisor = weight.sum() if reduction == "mean_with_sample_weight" and weight is not None else values.numel()
    divisor = torch.as_tensor(divisor, dtype=loss.dtype, device=loss.device)
    safe = torch.where(divisor == 0, torch.ones_like(divisor), divisor)  # Keras's divide_no_nan, finite gradients
    return torch.where(divisor == 0, torch.zeros_like(loss), loss / safe)


def _weigh(values: Tensor, sample_weight) -> tuple[Tensor, Tensor]:
    """(values * w, w): the weight matched to the values (see `reduce_weighted`)."""
    given = torch.as_tensor(sample_weight, device=values.device)
    values, w = squeeze_or_expand_to_same_rank(values, given.to(values.dtype))
    if 0 < w.dim() < values.dim():  # (B,) -> (B, 1): every step of a sample
        w = w.reshape(tuple(w.shape) + (1,) * (values.dim() - w.dim()))
    try:
        torch.broadcast_shapes(tuple(w.shape), tuple(values.shape))
    except RuntimeError:
        raise ValueError(f"sample_weight of shape {tuple(given.shape)} does not fit the loss values of "
                         f"shape {tuple(values.shape)}: give one weight per sample, shape {tuple(values.shape[:1])}, "
                         f"or per sample and time step, shape {tuple(values.shape)}.") from None
    return values * w, w


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor, expand_rank_1: bool = True) -> tuple[Tensor, Tensor]:
    """Keras's rank matching (keras/src/losses/loss.py): where the ranks differ by one and the longer one
    ends in an axis of 1, drop that axis (or, against a rank-1 tensor, add one to it)."""
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        if x2.dim() == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        if x1.dim() == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def apply_mask(sample_weight: Tensor | None, mask: Tensor | None, reduction: str = "sum_over_batch_size"):
    """Keras's `apply_mask`: a model output's mask turned into (or multiplied into) sample weights.

    Under "sum_over_batch_size" a valid entry weighs total / valid and a masked one 0, so that the mean
    over every entry is the mean over the valid ones: sum(loss * w) / valid. Under "sum" (metrics) the mask
    weighs 1 and 0. Per-sample weights (B,) against a (B, T) mask apply to every step of their sample.

    >>> apply_mask(None, torch.tensor([True, True, False, False])).tolist()
    [2.0, 2.0, 0.0, 0.0]
    """
    if mask is None:
        return sample_weight
    dtype = sample_weight.dtype if isinstance(sample_weight, Tensor) and sample_weight.is_floating_point() \
        else torch.float32
    valid_entries = mask.to(torch.bool)
    if reduction in ("mean", "sum_over_batch_size"):
        valid, zero = valid_entries.sum().to(dtype), torch.zeros((), dtype=dtype, device=mask.device)
        per_valid = torch.where(valid > 0, mask.numel() / valid.clamp(min=1), zero)  # Keras's divide_no_nan
        float_mask = torch.where(valid_entries, per_valid, zero)
    else:
        float_mask = valid_entries.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = torch.as_tensor(sample_weight, device=mask.device).to(dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    missing = float_mask.dim() - sample_weight.dim()
    if sample_weight.dim() > 0 and missing > 0:  # (B,) -> (B, 1): every step of its sample, as in `_weigh`
        sample_weight = sample_weight.reshape(tuple(sample_weight.shape) + (1,) * missing)
    return sample_weight * float_mask
