"""The one data boundary: whatever users pass in becomes tensors on the model's device, and back.

Every public entry point (fit, predict, evaluate, the *_on_batch calls, train/test/predict_step,
model(x), layer(x), generate, Stream, explain) converts its data here and nowhere else. What comes in:
NumPy arrays (any strides, read-only windows included), nested lists, pandas DataFrames and Series,
and torch tensors. What goes out: tensors on `device`, floats as float32 (Keras's floatx: float64 and
float16 data are cast, as Keras casts them), booleans as float32 (0/1 targets), integers kept (ids for
Embedding, class ids for sparse losses). Outputs go back as NumPy where Keras returns NumPy.

>>> import numpy as np
>>> to_tensor(np.arange(6, dtype="float64").reshape(3, 2)[::-1]).dtype   # a negative-stride view
torch.float32
>>> to_tensor([[True, False]]).tolist()
[[1.0, 0.0]]
>>> to_numpy([torch.zeros(2), torch.ones(1)])[1]
array([1.], dtype=float32)
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

Tensor = torch.Tensor


def device_of(module: torch.nn.Module) -> torch.device:
    """Where a module's weights live (the CPU for a module with no weights yet)."""
    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def to_array(x) -> np.ndarray:
    """An array-like (list, DataFrame, tensor, array) as a NumPy array, for checks made in NumPy."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return _array(x)


def _array(x) -> np.ndarray:
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):  # pandas DataFrame / Series
        x = x.to_numpy()
    try:
        arr = np.asarray(x)
    except ValueError:
        arr = np.empty(0, dtype=object)
    if arr.dtype == object:
        raise TypeError(f"Expected numbers (a NumPy array, a list of numbers, a DataFrame or a tensor), received "
                        f"{type(x).__name__} that is not one rectangular array of numbers; "
                        "a ragged list (rows of different lengths) must be padded first, e.g. with "
                        "rnnkit.data.windows or np.pad.")
    if any(s < 0 for s in arr.strides):  # x[::-1]: torch cannot share memory with negative strides
        arr = np.ascontiguousarray(arr)
    return arr


def _dtype_for(kind: str, integers_as_float: bool) -> torch.dtype | None:
    if kind in "fb" or (integers_as_float and kind in "iu"):
        return torch.float32
    return None  # integers keep their type


def to_tensor(x, device: torch.device | str | None = None, integers_as_float: bool = False) -> Tensor:
    """One array-like as a tensor on `device` (the input's own device when None).

    float64/float16 and bool become float32; integers stay integers unless `integers_as_float`.
    A NumPy array is shared, not copied, when its dtype and device already fit.
    """
    if isinstance(x, Tensor):
        if x.dtype == torch.bool or (x.is_floating_point() and x.dtype != torch.float32) or (
                integers_as_float and not x.is_floating_point()):
            x = x.float()
        return x if device is None else x.to(device, non_blocking=True)
    arr = _array(x)
    if arr.dtype.kind not in "fbiu":
        raise TypeError(f"Expected numbers, received an array of dtype {arr.dtype} (from {type(x).__name__}). "
                        "Encode text or categories as numbers first (e.g. ids for an Embedding layer).")
    with warnings.catch_warnings():
        # windows() hands out read-only strided views; the tensor shares them and is only read
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        t = torch.as_tensor(arr, dtype=_dtype_for(arr.dtype.kind, integers_as_float))
    return t if device is None else t.to(device, non_blocking=True)


def is_converted(x) -> bool:
    """Whether x is already what layers take: float32 or integer tensors (or a list of them)."""
    if isinstance(x, (list, tuple)):
        return bool(x) and all(is_converted(a) for a in x)
    return isinstance(x, Tensor) and (x.dtype == torch.float32 or not (x.is_floating_point() or x.dtype == torch.bool))


def to_tensors(x, device=None, integers_as_float: bool = False):
    """`to_tensor` on one array-like or on each item of a list/tuple of them (several model inputs)."""
    if isinstance(x, (list, tuple)) and x and _is_array_like(x[0]) and not _is_number_list(x):
        return [to_tensor(a, device, integers_as_float) for a in x]
    return to_tensor(x, device, integers_as_float)


def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, Tensor)) or hasattr(x, "to_numpy")


def _is_number_list(x) -> bool:
    # [[1, 2], [3, 4]] is one array; [array_a, array_b] is two inputs.
    return not any(isinstance(a, (np.ndarray, Tensor)) or hasattr(a, "to_numpy") for a in x)


def model_inputs(x, count: int, device=None, integers_as_float: bool | list[bool] = False,
                 names: list[str] | None = None):
    """x for a model with `count` inputs: a tensor, or a list of `count` tensors (Keras's list of inputs).

    `integers_as_float`, per input: whether integer data is cast to float32 (inputs that are not ids).
    """
    flags = integers_as_float if isinstance(integers_as_float, list) else [integers_as_float] * count
    if count > 1:
        if not isinstance(x, (list, tuple)) or len(x) != count:
            got = len(x) if isinstance(x, (list, tuple)) else f"1 ({type(x).__name__})"
            raise ValueError(f"The model takes {count} input(s) {names or ''}, received {got}. Pass a list of "
                             f"{count} arrays in the order of the model's inputs.")
        return [to_tensor(a, device, f) for a, f in zip(x, flags)]
    if isinstance(x, (list, tuple)) and len(x) == 1 and _is_array_like(x[0]):
        x = x[0]  # [array] for a one-input model, as Keras accepts
    return to_tensor(x, device, flags[0])


def to_mask(mask, device=None) -> Tensor:
    """A boolean mask (batch, time_steps) as a bool tensor: True where a step is real."""
    if isinstance(mask, Tensor):
        t = mask if mask.dtype == torch.bool else mask != 0
    else:
        t = torch.as_tensor(_array(mask) != 0)
    return t if device is None else t.to(device, non_blocking=True)


def to_numpy(out):
    """Tensors (or nested lists of them) as NumPy arrays, on the CPU."""
    if isinstance(out, (list, tuple)):
        return [to_numpy(o) for o in out]
    if isinstance(out, Tensor):
        return out.detach().cpu().numpy()
    return np.asarray(out)


def num_samples(x) -> int:
    """Rows of x (of its first array when x is a list of inputs)."""
    if isinstance(x, (list, tuple)) and x and _is_array_like(x[0]):
        return len(x[0])
    return len(x)


def take(x, index):
    """Rows `index` of a tensor, or of each of a list of tensors."""
    if isinstance(x, (list, tuple)):
        return [take(a, index) for a in x]
    return x[torch.as_tensor(index, device=x.device)]


def check_finite(x, what: str) -> None:
    """Refuse NaN/inf, naming the first bad index (it would silently turn every weight into NaN)."""
    if isinstance(x, (list, tuple)) and x and _is_array_like(x[0]):
        for k, a in enumerate(x):
            check_finite(a, f"{what}[{k}]")
        return
    t = x if isinstance(x, Tensor) else to_tensor(x)
    if not t.is_floating_point() or t.numel() == 0:
        return
    if bool(t.sum().isfinite()):
        return  # fast path: a NaN or inf anywhere makes the sum non-finite (an overflow only sends us on)
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{what} contains NaN or inf (first at index {index}, value {float(t[index])}); "
                         "training on it would turn every weight into NaN. Drop or impute those values "
                         "first, e.g. rnnkit.data.windows(..., nan='interpolate').")
