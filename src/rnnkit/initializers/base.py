"""What every initializer shares: Keras's call (`init(shape, dtype=None)` returns a new tensor), rnnkit's
(`init(weight)` fills a weight in place), and the layouts between them.

Keras holds a Dense kernel as (features, units) and a convolution's as (*window, in, out); PyTorch holds
them turned around: (units, features) and (out, in, *window). `fill` fills the PyTorch-layout weight with
what Keras's initializer gives its Keras-shaped variable: the same fans (so the same scales), and for
structured initializers (Orthogonal, Identity, an array Constant) the same matrix, turned around. A
recurrent cell passes its own `read`/`write` (Keras's gate order, GRU's one (2, 3H) bias).

>>> keras_shape((8, 3)), keras_shape((8, 3, 5)), compute_fans((5, 3, 8))
((3, 8), (5, 3, 8), (15, 40))
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Sequence

import numpy as np
import torch

Tensor = torch.Tensor

_DTYPES = {"float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float": torch.float32, "float64": torch.float64, "double": torch.float64, "int8": torch.int8,
           "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
           "bool": torch.bool}


def torch_dtype(dtype) -> torch.dtype:
    """A Keras dtype ("float32", a NumPy dtype, a torch dtype, None for the default float) as a torch dtype."""
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = dtype.__name__ if isinstance(dtype, type) and dtype in (float, int, bool) else getattr(dtype, "name", dtype)
    found = _DTYPES.get({"int": "int64"}.get(name, name)) if isinstance(name, str) else None
    if found is None:
        raise ValueError(f"Unknown dtype {dtype!r} for an initializer. Expected one of {sorted(_DTYPES)} or a "
                         "torch.dtype.")
    return found


def keras_dtype(dtype: torch.dtype) -> str:
    """torch.float32 -> "float32" (the string Keras passes an initializer function)."""
    return str(dtype).removeprefix("torch.")


def keras_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape Keras gives a weight PyTorch holds as `shape`: (out, in, *window) -> (*window, in, out)
    (a Dense kernel (units, features) -> (features, units)); 0-D and 1-D shapes are the same."""
    shape = tuple(int(d) for d in shape)
    return shape if len(shape) < 2 else (*shape[2:], shape[1], shape[0])


def to_torch_layout(value: Tensor) -> Tensor:
    """A Keras-shaped value (*window, in, out) in PyTorch's layout (out, in, *window)."""
    n = value.dim()
    return value if n < 2 else value.permute(n - 1, n - 2, *range(n - 2))


def compute_fans(shape: Sequence[int], input_axes=None, output_axes=None) -> tuple[int, int]:
    """Keras's (fan_in, fan_out) of a Keras-shaped variable: (in, out) for a matrix, both the size of a
    vector, (in, out) times the window for a convolution kernel (..., in, out); or the products of the
    sizes along `input_axes` and `output_axes` when both are given."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return int(math.prod(shape[a] for a in input_axes)), int(math.prod(shape[a] for a in output_axes))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def draw_(out: Tensor, generator: torch.Generator | None, sample: Callable[[Tensor, object], object]) -> Tensor:
    """`sample(t, generator)` fills t in place; done on `out` itself when it can be, else on a float32 (or
    float64) tensor on the generator's device, copied into `out` (half precision, another device)."""
    device = generator.device if generator is not None else out.device
    if out.device == device and out.dtype in (torch.float32, torch.float64):
        sample(out, generator)
        return out
    scratch = torch.empty(out.shape, dtype=torch.float64 if out.dtype == torch.float64 else torch.float32,
                          device=device)
    sample(scratch, generator)
    return out.copy_(scratch)


def _dispatching(call):
    """A subclass's Keras-style `__call__(shape, dtype=None)`, also taking a weight to fill (rnnkit's call)."""
    @functools.wraps(call)
    def dispatch(self, shape, dtype=None, *args, **kwargs):
        if isinstance(shape, Tensor) and dtype is None and not args and not kwargs:
            return fill_weight(self, shape)
        return call(self, shape, dtype, *args, **kwargs)

    dispatch.dispatches = True
    return dispatch


def _sample_via_call(self, out: Tensor, shape: tuple[int, ...]) -> None:
    value = self(shape, keras_dtype(out.dtype))
    out.copy_(value if isinstance(value, Tensor) else torch.as_tensor(np.asarray(value)))


class Initializer:
    """Keras's initializer base class.

    `init(shape, dtype=None)` returns a new tensor of Keras's `shape` (Keras's call); `init(weight)` fills a
    PyTorch-layout weight in place as Keras would fill its Keras-shaped variable, and returns it (what
    rnnkit's layers call). A subclass implements `sample_(out, shape)`, filling `out` with the values for a
    Keras variable of `shape` -- or, as in Keras, `__call__(self, shape, dtype=None)` returning them; and
    `get_config()` when it has arguments. `elementwise = True` declares independent values of one
    distribution, which may fill a weight in any layout directly.
    """

    elementwise = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "dispatches", False):
            # Keras's way of writing one: its __call__ gives the values, for the layers' fills too.
            cls.__call__ = _dispatching(call)
            if "sample_" not in cls.__dict__:
                cls.sample_ = _sample_via_call
                cls.elementwise = cls.__dict__.get("elementwise", False)

    def __call__(self, shape, dtype=None):
        if isinstance(shape, Tensor):
            return fill_weight(self, shape)
        value = torch.empty(tuple(int(d) for d in shape), dtype=torch_dtype(dtype))
        with torch.no_grad():
            self.sample_(value, tuple(value.shape))
        return value

    __call__.dispatches = True

    def sample_(self, out: Tensor, shape: tuple[int, ...]) -> None:
        """Fill `out` with the values of a Keras variable of `shape` (`out` has that shape, or is a weight of
        the same size in another layout when `elementwise`)."""
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method (or "
                                  "rnnkit's `sample_(out, shape)`).")

    def fills_in_place(self) -> bool:
        """Whether a weight can be filled directly, whatever its layout: independent values (elementwise)
        drawn from a generator that goes on (torch's global one, or a torch.Generator), so that a weight in
        two parameters (GRU's biases) gets different values in each. An int seed gives the values of its
        Keras-shaped draw instead, the same as `init(keras_shape)`."""
        return self.elementwise and not isinstance(getattr(self, "seed", None), int)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except Exception:  # a custom subclass's get_config may fail; the repr should not
            args = "..."
        return f"{type(self).__name__}({args})"


def fill(init, params: Sequence[Tensor], read: Callable | None = None, write: Callable | None = None) -> None:
    """Fill `params` in place with initializer `init`, as Keras fills the one variable they stand for.

    `read(*params)` is that variable in Keras's shape and `write(value)` the params' values for a Keras-shaped
    value (a cell's `KerasWeight` rule); without them, `params` is one weight in PyTorch's layout (out, in,
    *window). A plain function fills each param itself (rnnkit's `init(weight)` convention)."""
    params = tuple(params)
    if not isinstance(init, Initializer):
        for param in params:
            init(param)
        return
    shape = keras_shape(params[0].shape) if read is None else tuple(read(*params).shape)
    with torch.no_grad():
        if init.fills_in_place():
            for param in params:
                init.sample_(param, shape)
            return
        value = torch.empty(shape, dtype=params[0].dtype)
        init.sample_(value, shape)
        value = value.to(params[0].device)
        parts = (to_torch_layout(value),) if write is None else tuple(write(value))
        for param, part in zip(params, parts):
            param.copy_(part)


def fill_weight(init: Initializer, weight: Tensor) -> Tensor:
    """`init(weight)`: one PyTorch-layout weight filled in place, and returned."""
    fill(init, (weight,))
    return weight
