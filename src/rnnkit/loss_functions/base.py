"""Keras's loss classes (keras/src/losses/loss.py, losses.py): `Loss`, `LossFunctionWrapper`, and
`loss_class`, which makes the class of a built-in loss function (MeanSquaredError for
mean_squared_error)."""

from __future__ import annotations

import inspect
import re
from typing import Callable

import torch

from .. import keras_mask
from .reduction import PER_SAMPLE, apply_mask, reduce, squeeze_or_expand_to_same_rank, values_of

Tensor = torch.Tensor
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def _torch_dtype(dtype) -> torch.dtype | None:
    """Keras's `dtype=` of a loss (a name, a "mixed_..." policy name, a dtype policy or a torch dtype) as
    the torch dtype it computes in; None: y_pred's own floating dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "compute_dtype", dtype)  # a dtype policy computes in its compute dtype
    if isinstance(name, str) and name.startswith("mixed_"):
        name = name[len("mixed_"):]
    if name not in _DTYPES:
        raise ValueError(f"A loss's dtype must be one of {sorted(_DTYPES)} (or a dtype policy such as "
                         f"'mixed_bfloat16'), received dtype={dtype!r}.")
    return _DTYPES[name]


class Loss:
    """Keras's loss object: `loss(y_true, y_pred, sample_weight=None)` is the reduced loss, `call` the
    values per sample. `compile(loss=BinaryCrossentropy(from_logits=True))` weighs `call`'s values as
    Keras does. Reductions: "sum_over_batch_size" (Keras's default) and "mean" (the sum over the number of
    values), "sum", "mean_with_sample_weight" (the sum over the sum of the weights), None / "none".
    `dtype` (e.g. "bfloat16") is the dtype the loss computes in; None: y_pred's (float32 for integers).

    A mask on y_pred (`rnnkit.keras_mask`) and one on the values `call` returns (Keras's circle masks its
    zeros) leave the masked entries out, as Keras's `Loss.__call__`.

    >>> from rnnkit.losses import BinaryCrossentropy
    >>> float(BinaryCrossentropy(from_logits=True)(torch.tensor([[1.0]]), torch.tensor([[0.0]])))
    0.6931471824645996
    """

    fn: Callable = None  # the loss function of the subclass
    integer_targets = False  # y_true are class ids: integers stay integers (not cast to y_pred's dtype)
    option_names: tuple | None = None  # the options of fn the class takes (None: all of them)

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **options):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {list(REDUCTIONS)}. "
                             f"Received: reduction={reduction!r}")
        self.reduction, self.options = reduction, options
        self.dtype, self._compute_dtype = dtype, _torch_dtype(dtype)
        self.name = name or self._default_name()

    def _default_name(self) -> str:
        fn = type(self).fn
        if fn is None:  # a subclass with its own `call`: Keras's auto_name, the class name in snake case
            return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        # A name compile's checkpoints can rebuild the loss from only where the options are the defaults
        changed = ", ".join(f"{k}={v!r}" for k, v in self.options.items() if v != self._defaults().get(k))
        return f"{fn.__name__}({changed})" if changed else fn.__name__

    def _defaults(self) -> dict:
        fn = type(self).fn
        if fn is None:
            return {}
        names = type(self).option_names
        return {k: p.default for k, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty and k != "sample_weight"
                and (names is None or k in names)}

    def get_config(self) -> dict:
        """Keras's config: the name, the reduction and the options (`from_config` takes it back)."""
        return {"name": self.name, "reduction": self.reduction, **self._defaults(), **self.options}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The loss per sample (per sample and step for sequences)."""
        return type(self).fn(y_true, y_pred, PER_SAMPLE, **self.options)

    def _inputs(self, y_true, y_pred) -> tuple[Tensor, Tensor]:
        """y_true and y_pred as tensors in the loss's dtype (y_pred keeping its mask), as Keras converts them."""
        y_pred = torch.as_tensor(y_pred)
        mask = keras_mask.get(y_pred)
        dtype = self._compute_dtype or (y_pred.dtype if y_pred.is_floating_point() else torch.float32)
        y_pred = keras_mask.attach(y_pred.to(dtype), mask)
        y_true = torch.as_tensor(y_true, device=y_pred.device)
        if y_true.is_floating_point() or not type(self).integer_targets:
            y_true = y_true.to(dtype)
        return y_true, y_pred

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """`call` on the inputs converted as `__call__` converts them: what compile weighs."""
        values = self.call(*self._inputs(y_true, y_pred))
        return values if self._compute_dtype is None else keras_mask.attach(values.to(self._compute_dtype),
                                                                            keras_mask.get(values))

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        in_mask = keras_mask.get(y_pred)  # y_pred's Keras mask (rnnkit.keras_mask), as Keras's Loss reads it
        values = self.values(y_true, y_pred)
        out_mask = keras_mask.get(values)
        if out_mask is not None:
            values = values.view_as(values)  # the mask goes into the weights below, once
        mask = in_mask if out_mask is None else (out_mask if in_mask is None else in_mask & out_mask)
        if sample_weight is not None:
            sample_weight = torch.as_tensor(sample_weight, device=values.device)
        sample_weight = apply_mask(sample_weight, mask, self.reduction or "none")
        return reduce(values, sample_weight, self.reduction)


class LossFunctionWrapper(Loss):
    """Keras's LossFunctionWrapper: the loss object of a function fn(y_true, y_pred, **kwargs) that gives
    the loss per sample, which the wrapper weighs and reduces (`reduction`, like any `Loss`).

    y_true and y_pred first have their ranks matched (a trailing axis of 1 dropped or added), as Keras's.
    An rnnkit loss function (`rnnkit.losses.dice`, which reduces itself) is asked for its values per
    sample, so wrapping it is wrapping Keras's function of the same name.

    >>> from rnnkit.losses import mean_absolute_error
    >>> LossFunctionWrapper(mean_absolute_error, reduction=None)([[1.0], [2.0]], [[0.0], [0.0]]).tolist()
    [1.0, 2.0]
    """

    def __init__(self, fn: Callable, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper needs a loss function fn(y_true, y_pred, **kwargs), received "
                            f"{fn!r} (of type {type(fn).__name__}).")
        self.fn = fn
        super().__init__(reduction, name or "loss_function_wrapper", dtype, **kwargs)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return values_of(self.fn, y_true, y_pred, **self.options)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "fn": self.fn, **self.options}

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({self.fn}, kwargs={self.options})>"


def loss_class(name: str, fn: Callable, doc: str, positional: tuple = ("reduction", "name", "dtype"),
               options: tuple | None = None, integer_targets: bool = False) -> type:
    """The Loss class of the built-in loss function `fn` (in fn's module), taking `options` of fn's keyword
    arguments (None: all of them) and Keras's arguments in Keras's order (`positional`)."""

    def __init__(self, *args, **kwargs):
        if len(args) > len(positional):
            raise TypeError(f"{name} takes at most {len(positional)} positional arguments ({', '.join(positional)}), "
                            f"received {len(args)}.")
        for key, value in zip(positional, args):
            if key in kwargs:
                raise TypeError(f"{name} got multiple values for argument {key!r}.")
            kwargs[key] = value
        reduction, loss_name = kwargs.pop("reduction", "sum_over_batch_size"), kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        unknown = set(kwargs) - set(Loss._defaults(self))
        if unknown:
            raise TypeError(f"{name} got unexpected arguments {sorted(unknown)}; it takes "
                            f"{sorted(Loss._defaults(self))}, reduction, name and dtype.")
        Loss.__init__(self, reduction, loss_name, dtype, **kwargs)

    return type(name, (Loss,), {"fn": staticmethod(fn), "__init__": __init__, "__doc__": doc,
                                "__module__": fn.__module__, "option_names": options,
                                "integer_targets": integer_targets})
