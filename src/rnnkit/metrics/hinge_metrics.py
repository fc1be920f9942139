"""Keras's hinge metrics (keras/src/metrics/hinge_metrics.py and the losses they wrap): per-sample hinge
errors (the mean over the last axis), averaged over samples. Labels that are all 0 or 1 are read as -1
and 1; other labels are used as they are, as Keras does. Like Keras, no rank matching: give y_true the
shape of y_pred.
"""

from __future__ import annotations

import torch

from .reduction import LOSS_FUNCTIONS, MeanMetricWrapper, as_tensor

Tensor = torch.Tensor


def _pair(y_true, y_pred) -> tuple[Tensor, Tensor]:
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    return as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Keras's convert_binary_labels_to_hinge: labels that are all 0 or 1 become -1 or 1."""
    binary = bool(((y_true == 0) | (y_true == 1)).all())
    return 2.0 * y_true - 1.0 if binary else y_true


def hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)) over the last axis.

    >>> [round(v, 4) for v in hinge([[0.0, 1.0]], [[0.6, 0.4]]).tolist()]  # labels -1, 1: (1.6 + 0.6) / 2
    [1.1]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).mean(-1)


def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ((1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0) ** 2).mean(-1)


def categorical_hinge(y_true, y_pred) -> Tensor:
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0): one-hot labels, a margin of 1
    between the true class's score and the best other score."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return (neg - pos + 1.0).clamp_min(0.0)


LOSS_FUNCTIONS.update({hinge, squared_hinge, categorical_hinge})


class Hinge(MeanMetricWrapper):
    """The mean hinge error.

    >>> m = Hinge()
    >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(float(m.result()), 4)
    1.3
    """

    _direction = "down"

    def __init__(self, name: str = "hinge", dtype: str | None = None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The mean squared hinge error."""

    _direction = "down"

    def __init__(self, name: str = "squared_hinge", dtype: str | None = None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The mean categorical hinge error of one-hot labels."""

    _direction = "down"

    def __init__(self, name: str = "categorical_hinge", dtype: str | None = None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)
