"""What every activation does first: take a tensor, or anything NumPy reads, as Keras's ops do."""

from __future__ import annotations

import numpy as np
import torch

Tensor = torch.Tensor


def as_tensor(x) -> Tensor:
    """`x` as a tensor: a tensor unchanged, a NumPy array or nested list with its dtype (float64 stays
    float64, as Keras's `convert_to_tensor` keeps it)."""
    return x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
