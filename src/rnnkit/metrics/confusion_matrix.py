"""Confusion counts at thresholds, as Keras counts them (keras/src/metrics/metrics_utils.py), for
Precision, Recall, AUC and the true/false positive/negative counts.

A prediction is positive at threshold t when it is strictly greater than t; a label is positive when it
is not zero. Each count is a vector with one entry per threshold (per threshold and label for AUC's
multi_label). Evenly spaced thresholds (AUC's) take Keras's bucket algorithm: each prediction falls in
bucket ceil(p * (T - 1)) - 1, and the counts are the reverse cumulative sums of the buckets, which
gives the same counts as comparing with every threshold in O(N + T).

B: batch, L: labels (everything after the batch axis), T: thresholds.
"""

from __future__ import annotations

import numpy as np
import torch

from .reduction import EPSILON, as_tensor, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor
NEG_INF = -1e10  # Keras's threshold for top_k without thresholds: every kept prediction is positive
COUNTS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds, default: float) -> list[float]:
    """Keras's `parse_init_thresholds`: a list of thresholds, each in [0, 1], or [default]."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or not isinstance(t, (int, float, np.floating, np.integer))
               or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid} in thresholds={thresholds!r}. "
                         "Pass a number or a list of numbers between 0 and 1 (a prediction is positive when "
                         "it is greater than the threshold).")
    return [float(t) for t in values]


def evenly_distributed(thresholds) -> bool:
    """Keras's `is_evenly_distributed_thresholds`: at least 3 thresholds at i / (T - 1), within 1e-7."""
    n = len(thresholds)
    if n < 3:
        return False
    return bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON))


def check_class_id(class_id, top_k) -> None:
    """class_id is an int >= 0 or None; top_k an int >= 1 or None."""
    for name, value, low in (("class_id", class_id, 0), ("top_k", top_k, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ValueError(f"Expected `{name}` to be None or an integer >= {low}, received {name}={value!r}. "
                             f"Pass e.g. {name}={low + 1}, or leave it out.")


def _filter_top_k(x: Tensor, k: int) -> Tensor:
    """Keep the k largest predictions along the last axis; the others become NEG_INF. Of equal
    predictions the first ones are kept, as jax's top_k keeps them (torch.topk may keep others)."""
    index = x.sort(dim=-1, descending=True, stable=True).indices[..., :k]
    mask = torch.zeros_like(x).scatter_(-1, index, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def update_confusion_counts(counts: dict[str, Tensor], y_true, y_pred, thresholds, *, evenly: bool,
                            top_k: int | None = None, class_id: int | None = None, sample_weight=None,
                            multi_label: bool = False, label_weights: Tensor | None = None) -> None:
    """Add this batch's counts to `counts` ({"tp": ..., "fp": ..., "tn": ..., "fn": ...}, any subset),
    as Keras's `update_confusion_matrix_variables`, in the counts' dtype."""
    dtype = next(iter(counts.values())).dtype
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    y_pred = y_pred.to(dtype)
    y_true = y_true.to(device=y_pred.device, dtype=dtype)
    with_epsilon = evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    thresholds = torch.as_tensor(np.asarray(thresholds, dtype=np.float64), dtype=dtype, device=y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {tuple(y_pred.shape)}. Give one prediction per class, "
                             "or leave class_id out.")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if evenly:
        _bucket_counts(counts, y_true, y_pred, len(thresholds), multi_label, sample_weight, label_weights,
                       with_epsilon)
    else:
        _compared_counts(counts, y_true, y_pred, thresholds, multi_label, sample_weight, label_weights)


def _bucket_counts(counts, y_true, y_pred, num_thresholds: int, multi_label: bool, sample_weight, label_weights,
                   with_epsilon: bool) -> None:
    """Keras's `_update_confusion_matrix_variables_optimized`."""
    weights = torch.ones((), dtype=y_pred.dtype, device=y_pred.device)
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
        weights = weights if multi_label else weights.reshape(-1)
    if label_weights is not None:
        lw = torch.broadcast_to(label_weights.to(y_pred.device).unsqueeze(0), y_pred.shape)
        weights = weights * (lw if multi_label else lw.reshape(-1))
    y_pred = y_pred.clamp(0.0, 1.0)
    y_true = (y_true != 0).to(y_pred.dtype)
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)  # -> (B*L,)
    true_labels, false_labels = y_true * weights, (1.0 - y_true) * weights
    bucket = torch.ceil(y_pred * (num_thresholds - 1)) - 1  # predictions in (t_i, t_i+1] go to bucket i
    if with_epsilon:
        bucket = bucket.clamp_min(0)  # the first threshold is below 0: every prediction is above it
    bucket = bucket.long()

    def per_threshold(labels: Tensor) -> Tensor:
        # labels summed by bucket (a bucket of -1, a prediction of 0 without the epsilon threshold, is dropped
        # as jax's segment_sum drops it), then reverse cumulative sums: the labels above each threshold
        kept = bucket >= 0
        if multi_label:  # (B, L) -> (T, L)
            sums = torch.zeros((num_thresholds, labels.shape[1]), dtype=labels.dtype, device=labels.device)
            columns = torch.arange(labels.shape[1], device=labels.device).expand_as(bucket)
            sums.index_put_((bucket[kept], columns[kept]), labels[kept], accumulate=True)
        else:
            labels = torch.broadcast_to(labels, bucket.shape)
            sums = torch.zeros(num_thresholds, dtype=labels.dtype, device=labels.device)
            sums.index_add_(0, bucket[kept], labels[kept])
        return sums.flip(0).cumsum(0).flip(0)

    tp, fp = per_threshold(true_labels), per_threshold(false_labels)
    if "tn" in counts or "fn" in counts:
        total_true = torch.broadcast_to(true_labels, y_true.shape).sum(0)
        total_false = torch.broadcast_to(false_labels, y_true.shape).sum(0)
    for key, value in (("tp", lambda: tp), ("fp", lambda: fp), ("tn", lambda: total_false - fp),
                       ("fn", lambda: total_true - tp)):
        if key in counts:
            counts[key] += value().to(counts[key].device)


def _compared_counts(counts, y_true, y_pred, thresholds: Tensor, multi_label: bool, sample_weight,
                     label_weights) -> None:
    """Keras's general path: every prediction compared with every threshold."""
    num_thresholds = thresholds.shape[0]
    if multi_label:  # (B, L) against (T, 1, L)
        pred_is_pos = y_pred.unsqueeze(0) > thresholds.reshape(-1, 1, 1)  # -> (T, B, L)
        label_is_pos = (y_true != 0).unsqueeze(0).expand_as(pred_is_pos)
    else:  # everything flattened: (1, B*L) against (T, 1)
        pred_is_pos = y_pred.reshape(1, -1) > thresholds.reshape(-1, 1)  # -> (T, B*L)
        label_is_pos = (y_true != 0).reshape(1, -1).expand_as(pred_is_pos)
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape).reshape(pred_is_pos.shape[1:])
    if label_weights is not None and not multi_label:
        lw = torch.broadcast_to(label_weights.to(y_pred.device).unsqueeze(0), y_pred.shape).reshape(-1)
        weights = lw if weights is None else weights * lw
    conditions = {"tp": (label_is_pos, pred_is_pos), "fp": (~label_is_pos, pred_is_pos),
                  "tn": (~label_is_pos, ~pred_is_pos), "fn": (label_is_pos, ~pred_is_pos)}
    for key in COUNTS:
        if key not in counts:
            continue
        label, pred = conditions[key]
        both = label & pred
        if weights is None:
            added = both.to(counts[key].dtype).sum(1)
        else:
            added = torch.where(both, weights.unsqueeze(0).to(counts[key].dtype), 0.0).sum(1)
        counts[key] += added.reshape(num_thresholds, *counts[key].shape[1:]).to(counts[key].device)
