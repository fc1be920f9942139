"""Keras's stateful metric base: `Metric`, `Mean` and `MeanMetricWrapper` (keras/src/metrics/metric.py,
reduction_metrics.py), on torch tensors.

A metric keeps a running state over an epoch: `update_state(y_true, y_pred, sample_weight=None)` adds a
batch, `result()` reads the value so far, `reset_state()` starts again; calling the metric does an update
and returns the result. `Mean` reduces each sample's values to one number first (the mean over every axis
but the first), then averages over samples, so a batch counts for its number of samples.

fit and evaluate report compiled metrics the same way without keeping state between batches: each
batch gives `batch_value` (for a Mean: the mean of its samples), the loop averages those weighted by the
batch's rows, and `result_of_mean` turns the epoch's average into the result. For a Mean that is its
running mean exactly; `RootMeanSquaredError` averages squared errors and takes the square root at the end.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import torch

from .. import keras_mask
from ..losses import apply_mask, squeeze_or_expand_to_same_rank  # noqa: F401 - the metrics import the latter from here

Tensor = torch.Tensor
EPSILON = 1e-7  # Keras's backend epsilon


def as_tensor(x, dtype: torch.dtype | None = None, device=None) -> Tensor:
    """x (array, list, number or tensor) as a tensor, on `device` if given, cast to `dtype` if given."""
    t = x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if device is not None and t.device != torch.device(device):
        t = t.to(device)
    return t if dtype is None or t.dtype == dtype else t.to(dtype)


def float_dtype(dtype: str | None) -> torch.dtype:
    """The torch float type a metric computes in: float64 when asked for, else float32."""
    return torch.float64 if dtype in ("float64", torch.float64) else torch.float32


def _reduce(reduce_fn: Callable, x: Tensor, first: int) -> Tensor:
    return reduce_fn(x, dim=list(range(first, x.dim()))) if x.dim() > first else x


def reduce_to_samplewise_values(values: Tensor, sample_weight, reduce_fn: Callable, dtype: torch.dtype):
    """Keras's `reduce_to_samplewise_values`: values (and weights) reduced to one per sample (B,).

    Weights of lower rank than the values cover the values' trailing axes (reduced first); weights of the
    values' rank are broadcast to them, multiplied in, and reduced the same way.
    """
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.dim()
        values = _reduce(reduce_fn, values, weight_ndim)
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = _reduce(reduce_fn, sample_weight, 1)
    return _reduce(reduce_fn, values, 1), sample_weight


class Metric:
    """Keras's metric base: a named running state with update_state / result / reset_state.

    Subclasses set their state in `reset_state` and compute in `update_state` and `result`. In fit a
    compiled metric is reset and updated with each batch alone (`batch_value`) and the batch values are
    averaged over the epoch, weighted by rows; Mean metrics override that to need no state.
    """

    _direction: str | None = None  # "up" or "down": which way EarlyStopping's mode="auto" reads it

    def __init__(self, name: str | None = None, dtype: str | None = None):
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = dtype or "float32"
        self.reset_state()

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def variables(self) -> list[Tensor]:
        return []

    def reset_state(self) -> None:
        pass

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state.")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define result.")

    def __call__(self, *args, **kwargs) -> Tensor:
        """Update with one batch, then return the result so far (Keras's `Metric.__call__`)."""
        self.update_state(*args, **kwargs)
        return self.result()

    # -- what fit and evaluate use (see the module docstring) --------------------------------------------
    def batch_value(self, y_true, y_pred) -> Tensor:
        """This batch's value, for fit to average over the epoch weighted by the batch's rows."""
        self.reset_state()
        self.update_state(y_true, y_pred)
        value = self.result()
        self.reset_state()
        return value

    def result_of_mean(self, mean: float) -> float:
        """The epoch's result from the row-weighted mean of `batch_value` (the mean itself here)."""
        return mean

    # -- metrics whose state is a sum over batches (confusion counts, R2's sums) ----------------------------
    summed_state = False  # True: every variable is a sum over the batches seen (see `batch_state`)

    def state_vector(self) -> np.ndarray:
        """The variables, flattened into one float64 vector (empty before a lazily shaped metric is built)."""
        if not self.variables:
            return np.zeros(0)
        return np.concatenate([v.detach().cpu().double().reshape(-1).numpy() for v in self.variables])

    def load_state_vector(self, vector) -> None:
        """Set the variables from a vector `state_vector` gave (cast to the variables' dtype)."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.size != sum(v.numel() for v in self.variables):
            raise ValueError(f"{type(self).__name__} ({self.name!r}) has {sum(v.numel() for v in self.variables)} "
                             f"state values, received a vector of {vector.size}. Pass a vector that "
                             "state_vector() of the same metric, built on the same shapes, gave.")
        offset = 0
        for v in self.variables:
            values = torch.as_tensor(vector[offset:offset + v.numel()]).reshape(v.shape)
            # integer counts (IoU's confusion matrix) come back through float sums: round, never truncate
            v.copy_(values if v.is_floating_point() else values.round())
            offset += v.numel()

    def batch_state(self, y_true, y_pred, sample_weight=None) -> np.ndarray:
        """The state of this batch alone. For a `summed_state` metric fit and evaluate add the batches'
        states and read the result from the sum (`result_of_state`), which is Keras's running state."""
        self.reset_state()
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.state_vector()

    def result_of_state(self, vector):
        """The result from a state vector (a sum of `batch_state`s); the metric keeps that state, so its
        `result()` after fit or evaluate is the last logged value, as in Keras."""
        self.load_state_vector(vector)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values given, each sample counting once (Keras's `Mean`).

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7])
    >>> float(m.result())
    4.0
    >>> m.reset_state()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name: str = "mean", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    @property
    def variables(self) -> list[Tensor]:
        return [self.total, self.count]

    def reset_state(self) -> None:
        compute = float_dtype(self._dtype)
        self.total = torch.zeros((), dtype=compute)
        self.count = torch.zeros((), dtype=compute)

    def update_state(self, values, sample_weight=None) -> None:
        values, sample_weight = reduce_to_samplewise_values(as_tensor(values), sample_weight, torch.mean,
                                                            float_dtype(self._dtype))
        self.total += values.sum().detach().cpu()
        if sample_weight is not None:
            samples = sample_weight.sum().detach().cpu()
        else:
            samples = values.shape[0] if values.dim() >= 1 else 1
        self.count += samples

    def result(self) -> Tensor:
        return self.total / self.count if self.count != 0 else torch.zeros((), dtype=self.total.dtype)


class Sum(Metric):
    """The (weighted) sum of the values given (Keras's `Sum`): each sample's values summed, then the samples.

    Like Keras's, it takes values, not (y_true, y_pred), so compile(metrics=[...]) refuses it.

    >>> m = Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    4.0
    """

    summed_state = True

    def __init__(self, name: str = "sum", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    @property
    def variables(self) -> list[Tensor]:
        return [self.total]

    def reset_state(self) -> None:
        self.total = torch.zeros((), dtype=float_dtype(self._dtype))

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = reduce_to_samplewise_values(as_tensor(values), sample_weight, torch.sum, float_dtype(self._dtype))
        self.total += values.sum().detach().cpu()

    def result(self) -> Tensor:
        return self.total.clone()

    def _not_compilable(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} ({self.name!r}) sums the values given to update_state(values, "
                        "sample_weight); compile's metrics are given (y_true, y_pred, sample_weight), which Keras "
                        "refuses for it too ('got multiple values for argument sample_weight'). Use it on its "
                        "own (m.update_state(values)), or compile a function metric(y_true, y_pred).")

    batch_value = batch_state = _not_compilable


# The metric functions that are Keras losses (each module adds its own): a MeanMetricWrapper of one is an
# error to minimise, as Keras's MeanMetricWrapper registers for functions in keras.losses.
LOSS_FUNCTIONS: set[Callable] = set()


class MeanMetricWrapper(Mean):
    """The running mean of `fn(y_true, y_pred, **kwargs)`, a function of per-sample values (Keras's).
    Its default name is Keras's, "mean_metric_wrapper"; compile names it after the function.

    >>> m = MeanMetricWrapper(lambda y_true, y_pred: (y_true - y_pred) ** 2, name="se")
    >>> float(m(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])))
    5.0
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: str | None = None, **kwargs):
        super().__init__(name=name or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in LOSS_FUNCTIONS:
            self._direction = "down"

    def values(self, y_true, y_pred) -> Tensor:
        """The values this metric averages, one or more per sample."""
        return as_tensor(self._fn(y_true, y_pred, **self._fn_kwargs))

    def weights(self, y_true, y_pred, sample_weight):
        """The sample weights these values are averaged with (SparseCategoricalCrossentropy's ignore_class
        takes the ignored labels out of them)."""
        return sample_weight

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        # y_pred's Keras mask (rnnkit.keras_mask) weighs the masked steps 0, as Keras's update_state does
        sample_weight = apply_mask(sample_weight, keras_mask.get(y_pred), "sum")
        super().update_state(self.values(y_true, y_pred), sample_weight=self.weights(y_true, y_pred, sample_weight))

    def batch_value(self, y_true, y_pred) -> Tensor:
        values, _ = reduce_to_samplewise_values(self.values(y_true, y_pred), None, torch.mean,
                                                float_dtype(self._dtype))
        return values.mean()

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


def weighted_batch_value(metric: Metric, y_true, y_pred, sample_weight) -> tuple[Tensor, Tensor]:
    """A weighted metric's batch in the form fit averages over rows: (sum(value * weight) / rows,
    sum(weight) / rows), so that the epoch's ratio of the two is Keras's weighted running mean. Metrics
    that are not means of per-sample values give (result * mean weight, mean weight)."""
    if isinstance(metric, MeanMetricWrapper):
        values, weights = reduce_to_samplewise_values(metric.values(y_true, y_pred),
                                                      metric.weights(y_true, y_pred, sample_weight), torch.mean,
                                                      float_dtype(metric.dtype))
        rows = max(values.shape[0] if values.dim() else 1, 1)
        return values.sum() / rows, weights.sum() / rows
    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight=sample_weight)
    value = metric.result()
    metric.reset_state()
    weight = as_tensor(sample_weight, torch.float32).mean()
    return value * weight, weight


def _snake_case(name: str) -> str:
    """Keras's `to_snake_case`: RootMeanSquaredError -> root_mean_squared_error, KLDivergence -> kl_divergence."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
