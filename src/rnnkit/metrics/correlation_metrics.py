"""Keras's correlation metrics (keras/src/metrics/correlation_metrics.py): the Pearson and the concordance
correlation coefficient of each sample (along `axis`, the last by default), averaged over samples.

>>> m = PearsonCorrelation()
>>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
>>> round(float(m.result()), 4)  # the mean of [1.0, 0.9934]
0.9967
"""

from __future__ import annotations

import torch

from .reduction import EPSILON, MeanMetricWrapper
from .regression_metrics import _pair

Tensor = torch.Tensor


def _dims(axis) -> int | tuple[int, ...]:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def pearson_correlation(y_true, y_pred, axis=-1) -> Tensor:
    """Pearson's r of y_true and y_pred along `axis`: the mean product of their standardized values
    (population standard deviations, as Keras's ops.std).

    >>> r = pearson_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> [round(v, 4) for v in r.tolist()]
    [1.0, 0.9934]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis)
    y_true_norm = y_true - y_true.mean(dims, keepdim=True)
    y_pred_norm = y_pred - y_pred.mean(dims, keepdim=True)
    y_true_norm = y_true_norm / y_true_norm.std(dims, correction=0, keepdim=True)
    y_pred_norm = y_pred_norm / y_pred_norm.std(dims, correction=0, keepdim=True)
    return (y_true_norm * y_pred_norm).mean(dims)


def concordance_correlation(y_true, y_pred, axis=-1) -> Tensor:
    """Lin's concordance coefficient along `axis`, as Keras computes it: the mean of
    2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred) + (mean(y_true) -
    mean(y_pred))^2 + 1e-7). Keras centres y_true on y_pred's mean in the numerator (the textbook formula
    uses y_true's own mean); rnnkit keeps Keras's numbers.

    >>> [round(v, 4) for v in concordance_correlation([[0, 1, 0.5]], [[0.1, 0.9, 0.5]]).tolist()]
    [0.9756]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis)
    y_true_mean = y_true.mean(dims, keepdim=True)
    y_pred_mean = y_pred.mean(dims, keepdim=True)
    y_true_var = (y_true - y_true_mean).var(dims, correction=0, keepdim=True)
    y_pred_var = (y_pred - y_pred_mean).var(dims, correction=0, keepdim=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + (y_true_mean - y_pred_mean) ** 2
    return (2 * covar / (norm + EPSILON)).mean(dims)


class _Correlation(MeanMetricWrapper):
    """The running mean of a per-sample correlation; higher is better."""

    _direction = "up"
    _function = staticmethod(pearson_correlation)

    def __init__(self, name: str | None = None, dtype: str | None = None, axis=-1):
        super().__init__(self._function, name=name or self._default_name, dtype=dtype, axis=axis)
        self.axis = axis


class PearsonCorrelation(_Correlation):
    """The mean over samples of Pearson's correlation coefficient between y_true and y_pred along `axis`
    (an int or a tuple of ints, -1 by default): 1 for a perfect positive linear relation, -1 negative."""

    _default_name = "pearson_correlation"
    _function = staticmethod(pearson_correlation)


class ConcordanceCorrelation(_Correlation):
    """The mean over samples of the concordance correlation coefficient between y_true and y_pred along
    `axis` (an int or a tuple of ints, -1 by default): 1 where predictions equal the truth."""

    _default_name = "concordance_correlation"
    _function = staticmethod(concordance_correlation)
