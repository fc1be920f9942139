"""Weights per sample: fit's sample_weight checked, and Keras's class_weight turned into sample weights."""

from __future__ import annotations

import numpy as np
import torch

from .. import convert

Tensor = torch.Tensor


def class_weights_to_sample_weights(y: Tensor, class_weight: dict) -> Tensor:
    """Keras's `class_weight_to_sample_weights`: each sample weighs class_weight[its class] (1 for a class
    not named). The class is y itself for (N,) or (N, 1) targets, the argmax for one-hot (N, C) targets."""
    if not hasattr(class_weight, "items") or not hasattr(class_weight, "get"):
        raise ValueError("`class_weight` must be a dict-like mapping of class indices to weights. Received: "
                         f"class_weight={class_weight} of type {type(class_weight)}.")
    cleaned = {}
    for key, value in class_weight.items():
        try:
            cleaned[int(key)] = value
        except (TypeError, ValueError):
            raise ValueError("`class_weight` must be a dictionary with integer keys representing class indices. "
                             f"Received an invalid key: {key!r} of type {type(key)}.") from None
    labels = y.detach().cpu().numpy()
    if labels.ndim > 2:
        raise ValueError(f"class_weight needs one class per sample: y of shape (samples,), (samples, 1) or one-hot "
                         f"(samples, classes), received y of shape {labels.shape}. For sequence targets pass "
                         "sample_weight of shape (samples, time_steps) instead.")
    if labels.ndim == 2:
        labels = labels.argmax(-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
    labels = np.round(labels).astype("int32")
    weights = np.array([cleaned.get(int(c), 1.0) for c in labels], dtype=np.float32)
    return torch.as_tensor(weights, device=y.device)


def sample_weights(sample_weight, n: int, device, where: str) -> Tensor:
    """sample_weight as a float tensor with one row per sample, checked (finite)."""
    w = convert.to_tensor(sample_weight, device, integers_as_float=True).float()
    if w.dim() == 0 or w.shape[0] != n:
        raise ValueError(f"{where}: sample_weight must have one row per sample ({n}), received shape "
                         f"{tuple(w.shape)}. Pass shape ({n},) (a weight per sample) or ({n}, time_steps) (per step).")
    if not bool(torch.isfinite(w).all()):
        raise ValueError(f"{where}: sample_weight holds NaN or infinite values; give finite weights.")
    return w
