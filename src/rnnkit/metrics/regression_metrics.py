"""Keras's regression metrics (keras/src/metrics/regression_metrics.py and the loss functions they wrap,
keras/src/losses/losses.py): per-sample errors (the mean over the last axis), averaged over samples.
"""

from __future__ import annotations

import math

import torch

from .reduction import EPSILON, LOSS_FUNCTIONS, MeanMetricWrapper, as_tensor, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor


def _pair(y_true, y_pred) -> tuple[Tensor, Tensor]:
    """y_true and y_pred as float tensors of the same rank (y_pred's dtype; float32 for integers)."""
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_true - y_pred) ** 2) over the last axis.

    >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).tolist()
    [0.5]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return ((y_true - y_pred) ** 2).mean(-1)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_true - y_pred).abs().mean(-1)


def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """100 * mean(|(y_true - y_pred) / y_true|) over the last axis (|y_true| at least 1e-7)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return 100.0 * ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs().mean(-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """mean((log(y_pred + 1) - log(y_true + 1)) ** 2) over the last axis (values at least 1e-7)."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = torch.log(y_pred.clamp_min(EPSILON) + 1.0)
    second = torch.log(y_true.clamp_min(EPSILON) + 1.0)
    return ((first - second) ** 2).mean(-1)


def log_cosh(y_true, y_pred) -> Tensor:
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed as Keras does (no overflow)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + torch.nn.functional.softplus(-2.0 * x) - math.log(2.0)).mean(-1)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) over `axis`.

    >>> round(float(cosine_similarity([[1.0, 0.0]], [[1.0, 1.0]])[0]), 4)
    0.7071
    """
    y_true, y_pred = _pair(y_true, y_pred)

    def normalize(x):  # x / max(||x||, 1e-7), as Keras's ops.normalize
        return x * torch.rsqrt((x ** 2).sum(axis, keepdim=True).clamp_min(EPSILON * EPSILON))

    return (normalize(y_true) * normalize(y_pred)).sum(axis)


LOSS_FUNCTIONS.update({mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                       mean_squared_logarithmic_error, log_cosh})


def _squared_error(y_true, y_pred) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_pred - y_true) ** 2


class MeanSquaredError(MeanMetricWrapper):
    """The mean of the squared errors."""

    _direction = "down"

    def __init__(self, name: str = "mean_squared_error", dtype: str | None = None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of the absolute errors.

    >>> m = MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.25
    """

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_error", dtype: str | None = None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean absolute error as a percentage of |y_true|."""

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: str | None = None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean squared error of log(1 + y)."""

    _direction = "down"

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: str | None = None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(MeanMetricWrapper):
    """sqrt of the mean squared error over everything seen: the root of the epoch's mean, not the mean of
    the batches' roots.

    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: str | None = None):
        super().__init__(_squared_error, name=name, dtype=dtype)

    def result(self) -> Tensor:
        return torch.sqrt(super().result())

    def result_of_mean(self, mean: float) -> float:
        return math.sqrt(mean)  # batch_value is the batch's mean squared error


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between y_true and y_pred along `axis`."""

    _direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: str | None = None, axis: int = -1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}  # Keras's config leaves out the axis


class LogCoshError(MeanMetricWrapper):
    """The mean of log(cosh(y_pred - y_true)); Keras names it "logcosh"."""

    _direction = "down"

    def __init__(self, name: str = "logcosh", dtype: str | None = None):
        super().__init__(log_cosh, name=name, dtype=dtype)
