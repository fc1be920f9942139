"""The few Keras backend functions (`from keras import backend as K`) the seeds use inside Lambda.

>>> import torch
>>> concatenate([torch.zeros(2, 1, 5), torch.zeros(2, 1, 5)], axis=1).shape
torch.Size([2, 2, 5])
"""

from __future__ import annotations

import torch

from .utils.session import clear_session  # noqa: F401  (Keras's keras.backend.clear_session, also in utils)


def concatenate(tensors, axis: int = -1) -> torch.Tensor:
    return torch.cat(list(tensors), dim=axis)


def stack(tensors, axis: int = 0) -> torch.Tensor:
    return torch.stack(list(tensors), dim=axis)


def expand_dims(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return x.unsqueeze(axis)


def squeeze(x: torch.Tensor, axis: int) -> torch.Tensor:
    return x.squeeze(axis)


def repeat(x: torch.Tensor, n: int) -> torch.Tensor:
    """(batch, features) -> (batch, n, features), as RepeatVector."""
    return x.unsqueeze(1).expand(-1, n, -1)


def sum(x: torch.Tensor, axis=None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001 (Keras's name)
    return x.sum() if axis is None else x.sum(dim=axis, keepdim=keepdims)


def mean(x: torch.Tensor, axis=None, keepdims: bool = False) -> torch.Tensor:
    return x.mean() if axis is None else x.mean(dim=axis, keepdim=keepdims)
