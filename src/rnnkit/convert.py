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


def _existing_weights(module: torch.nn.Module):
    """The weights of `module` that exist now (lazily sized layers make theirs on the first call). Not
    module.parameters(): a model whose weights are not all made yet refuses that."""
    return (p for m in module.modules() for p in m._parameters.values() if p is not None)


def device_of(module: torch.nn.Module) -> torch.device:
    """Where a module's weights live (the CPU for a module with no weights yet)."""
    for p in _existing_weights(module):
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def has_weights(module: torch.nn.Module) -> bool:
    """Whether any weight of `module` exists yet."""
    return next(_existing_weights(module), None) is not None


def to_array(x) -> np.ndarray:
    """An array-like (list, DataFrame, tensor, array) as a NumPy array of numbers, for checks made in NumPy."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return _array(x)


def _is_pandas(x) -> bool:
    return hasattr(x, "to_numpy") and not isinstance(x, (np.ndarray, Tensor))


def _pandas_array(x) -> np.ndarray:
    """A DataFrame / Series as NumPy; nullable columns (Int64, Float64, boolean) as numbers, not objects."""
    arr = x.to_numpy()
    if arr.dtype != object:
        return arr
    dtypes = [x.dtype] if hasattr(x, "dtype") else list(x.dtypes)
    kinds = {getattr(d, "kind", "O") for d in dtypes}
    if not kinds or not kinds <= set("fbiu"):
        return arr  # text, categories, mixed objects: refused below with what was found
    target = np.int64 if kinds <= set("iu") else np.bool_ if kinds == {"b"} else np.float64
    try:
        return x.to_numpy(dtype=target)
    except (TypeError, ValueError):  # missing values (pd.NA): NaN, which fit refuses naming the index
        return x.to_numpy(dtype=np.float64, na_value=np.nan)


def _what(x) -> str:
    return f"a {type(x).__name__}" if not isinstance(x, np.ndarray) else "an ndarray"


def _not_numbers(x, arr: np.ndarray | None) -> TypeError:
    """The error for data that is not one rectangular array of numbers, saying what was found."""
    expected = "Expected numbers (a NumPy array, a list of numbers, a DataFrame or a tensor)"
    items = [] if arr is None else list(arr.flat[:1000])
    if arr is not None and (arr.dtype.kind in "US" or any(isinstance(v, (str, bytes)) for v in items)):
        example = next((v for v in items if isinstance(v, (str, bytes))), "")
        example = example.decode(errors="replace") if isinstance(example, bytes) else str(example)
        return TypeError(f"{expected}, received {_what(x)} of text (e.g. {example!r}). Encode text or categories "
                         "as numbers first (e.g. ids for an Embedding layer, or one-hot columns).")
    if arr is None or any(isinstance(v, (list, tuple, np.ndarray)) for v in items):
        return TypeError(f"{expected}, received {_what(x)} that is not one rectangular array of numbers: a ragged "
                         "list (rows or sequences of different lengths) must be padded to one length first, "
                         "e.g. with np.pad or rnnkit.data.windows.")
    if arr.dtype == object:
        bad = next((v for v in items if not isinstance(v, (int, float, bool, np.number, np.bool_))), None)
        fix = ("Replace missing values by np.nan (or impute them)" if bad is None
               else f"Convert the {type(bad).__name__} values to numbers")
        return TypeError(f"{expected}, received {_what(x)} holding {type(bad).__name__} values (e.g. {bad!r}). "
                         f"{fix} first.")
    fix = {"M": " (e.g. timestamps as elapsed seconds)", "m": " (e.g. durations in seconds)",
           "c": " (e.g. real and imaginary parts as two features)"}.get(arr.dtype.kind, "")
    return TypeError(f"{expected}, received {_what(x)} of dtype {arr.dtype}. Convert it to real numbers first{fix}.")


def _array(x) -> np.ndarray:
    """x as a NumPy array of numbers or booleans, with non-negative strides; TypeError for anything else."""
    try:
        arr = _pandas_array(x) if _is_pandas(x) else np.asarray(x)
    except ValueError:  # NumPy refuses ragged nested lists
        raise _not_numbers(x, None) from None
    if arr.dtype.kind not in "fbiu":
        raise _not_numbers(x, arr)
    if any(s < 0 for s in arr.strides):
        # x[::-1]: torch cannot share memory with negative strides. A copy, not ascontiguousarray: that
        # returns a view unchanged when the negative stride is on an axis of length 1 (x[::-1][:1]).
        arr = arr.copy(order="C")
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
    dtype = _dtype_for(arr.dtype.kind, integers_as_float)
    if arr.flags.writeable:
        t = torch.as_tensor(arr, dtype=dtype)
    else:
        with warnings.catch_warnings():
            # windows() hands out read-only strided views; the tensor shares them and is only read
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            t = torch.as_tensor(arr, dtype=dtype)
    return t if device is None else t.to(device, non_blocking=True)


def is_converted(x, integers_as_float: bool | list[bool] = False) -> bool:
    """Whether x is already what layers take: float32 tensors, or integer tensors where integers stay
    integers (ids) -- or a list of them for several inputs. `integers_as_float` as in `model_inputs`:
    one flag, or one per input (a list whose length differs from x's is not converted: the caller
    converts and says how many inputs it takes)."""
    if isinstance(x, (list, tuple)):
        flags = integers_as_float if isinstance(integers_as_float, list) else [integers_as_float] * len(x)
        return bool(x) and len(flags) == len(x) and all(is_converted(a, f) for a, f in zip(x, flags))
    if isinstance(integers_as_float, list):
        if len(integers_as_float) != 1:
            return False
        integers_as_float = integers_as_float[0]
    if not isinstance(x, Tensor) or x.dtype == torch.bool:
        return False
    return x.dtype == torch.float32 if x.is_floating_point() or integers_as_float else True


def is_tensors(x) -> bool:
    """Whether x is a tensor or a non-empty list/tuple of tensors (as opposed to NumPy, lists, DataFrames).

    Keras's eager `model(x)` / `layer(x)` on data builds no gradient graph; tensors keep theirs.
    """
    if isinstance(x, (list, tuple)):
        return bool(x) and all(isinstance(a, Tensor) for a in x)
    return isinstance(x, Tensor)


def to_tensors(x, device=None, integers_as_float: bool = False):
    """`to_tensor` on one array-like or on each item of a list/tuple of them (several model inputs)."""
    if isinstance(x, (list, tuple)) and x and _is_array_like(x[0]) and not _is_number_list(x):
        return [to_tensor(a, device, integers_as_float) for a in x]
    return to_tensor(x, device, integers_as_float)


def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, Tensor)) or _is_pandas(x)


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


_AXES_3D = ("samples", "time steps", "features")


def check_not_empty(x, what: str, where: str) -> None:
    """Refuse data with no samples or an empty axis (shape (0, 5, 2) or (4, 0, 2)): a loss over nothing is
    NaN and a recurrent kernel cannot run zero steps, so say which axis is empty instead."""
    if isinstance(x, (list, tuple)) and x and _is_array_like(x[0]):
        for k, a in enumerate(x):
            check_not_empty(a, f"{what}[{k}]", where)
        return
    shape = tuple(x.shape)
    if not shape:
        raise ValueError(f"{where}: {what} must have one row per sample, received a single value (shape ()). Pass "
                         "an array of shape (samples, ...), e.g. np.array([[[v]]]) for one sample of one step.")
    if shape[0] == 0:
        raise ValueError(f"{where}: {what} has no samples (shape {shape}); pass at least one sample.")
    empty = [k for k, d in enumerate(shape) if d == 0]
    if empty:
        k = empty[0]
        name = f" ({_AXES_3D[k]})" if len(shape) == 3 else ""
        raise ValueError(f"{where}: {what} has shape {shape}: axis {k}{name} is empty. Every sample needs at "
                         "least one value on each axis: drop empty sequences, or pad them to one length first "
                         "(e.g. with np.pad or rnnkit.data.windows).")
