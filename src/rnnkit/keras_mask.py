"""A tensor's Keras mask: the (batch, time) booleans a model's output carries to its loss and metrics.

Keras keeps the mask a layer computes on the tensor itself (`backend.set_keras_mask`, the `_keras_mask`
attribute, on every backend, torch's included), so `compute_loss(x, y, y_pred)` and a metric's
`update_state(y_true, y_pred)` find the padding without being told: the loss averages over the valid
steps only and MeanMetricWrapper metrics weigh the padded steps 0 (`losses.apply_mask`). rnnkit's models
attach the mask of each output the same way; `detach` keeps it where autograd's would drop it.

>>> import torch
>>> y = attach(torch.zeros(2, 3), torch.tensor([[True, True, False], [True, False, False]]))
>>> get(detach(y)).sum().item()
3
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor
_ATTRIBUTE = "_keras_mask"  # Keras's name, so code that reads `y._keras_mask` works unchanged


def get(x) -> Tensor | None:
    """The mask `x` carries, or None."""
    return getattr(x, _ATTRIBUTE, None) if isinstance(x, Tensor) else None


def attach(x, mask: Tensor | None):
    """`x` carrying `mask` (nothing changes for a mask of None); returns x."""
    if mask is not None and isinstance(x, Tensor):
        setattr(x, _ATTRIBUTE, mask)
    return x


def detach(y):
    """y (a tensor or a list of them) detached from autograd, each keeping its mask."""
    if isinstance(y, (list, tuple)):
        return [detach(t) for t in y]
    return attach(y.detach(), get(y))
