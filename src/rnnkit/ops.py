"""Keras's `keras.ops` functions that carry data across the framework boundary: convert_to_tensor and
convert_to_numpy, with Keras 3's torch-backend rules (keras/src/backend/torch/core.py).

keras-io scripts use them to move a layer's output into NumPy, e.g. video_classification's
`labels = keras.ops.convert_to_numpy(label_processor(labels[..., None]))`. rnnkit has no other
`keras.ops` function: inside a model, compute with torch (or a Lambda layer).

>>> convert_to_numpy(convert_to_tensor([1, 2])).dtype
dtype('int32')
>>> convert_to_tensor(np.ones(2)).dtype  # a NumPy array keeps its dtype, as in Keras
torch.float64
"""

from __future__ import annotations

import numpy as np
import torch

from .symbolic import Symbol

Tensor = torch.Tensor


def _refuse_symbol(x, what: str) -> None:
    if isinstance(x, Symbol) or (isinstance(x, (list, tuple)) and any(isinstance(e, Symbol) for e in x)):
        raise ValueError(f"{what} received a symbolic tensor ({x!r}): it describes a model and holds no values. "
                         "Call the model on data (model.predict(x)) and convert its output.")


def _torch_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", str(dtype))  # "float32", np.float32, np.dtype("int64")
    found = getattr(torch, name, None) if isinstance(name, str) else None
    if not isinstance(found, torch.dtype):
        raise ValueError(f"convert_to_tensor: unknown dtype {dtype!r}; use a Keras dtype name such as 'float32', "
                         "'int32', 'int64' or 'bool'.")
    return found


def convert_to_numpy(x) -> np.ndarray:
    """A tensor (or a list of them, or anything NumPy takes) as a NumPy array, detached and on the CPU."""
    _refuse_symbol(x, "convert_to_numpy")

    def one(v):
        if isinstance(v, Tensor):
            v = v.detach().cpu()
            return (v.float() if v.dtype is torch.bfloat16 else v).numpy()  # NumPy has no bfloat16
        return np.array(v)

    if isinstance(x, (list, tuple)):
        return np.array([one(v) for v in x])
    return one(x)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """`x` as a torch tensor: a tensor or NumPy array keeps its dtype; Python numbers and lists (which
    may hold tensors) become int32 (integers), float32 (any float) or bool, as Keras's torch backend."""
    _refuse_symbol(x, "convert_to_tensor")
    if sparse or ragged:
        raise ValueError("convert_to_tensor: rnnkit's tensors are dense PyTorch tensors; sparse=True and "
                         "ragged=True are TensorFlow's (and JAX's) formats.")
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, (np.ndarray, np.generic)):
        t = torch.as_tensor(np.asarray(x))
    else:
        values = convert_to_numpy(x)
        if values.dtype == np.bool_:
            t = torch.as_tensor(values)
        elif values.size == 0 or np.issubdtype(values.dtype, np.floating):
            t = torch.as_tensor(values.astype(np.float32))
        elif np.issubdtype(values.dtype, np.integer):
            t = torch.as_tensor(values.astype(np.int32))
        else:
            raise ValueError(f"convert_to_tensor: cannot make a tensor of {type(x).__name__} with values of dtype "
                             f"{values.dtype} (numbers and booleans only; a string lookup is "
                             "rnnkit.layers.StringLookup).")
    return t if dtype is None else t.to(_torch_dtype(dtype))
