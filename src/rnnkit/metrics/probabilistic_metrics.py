"""Keras's probabilistic metrics (keras/src/metrics/probabilistic_metrics.py): the crossentropies, the
KL divergence and the Poisson error per sample, averaged. Probabilities in (Keras's `from_logits=False`), clipped to
[1e-7, 1 - 1e-7] before the log as Keras's backend does; `from_logits=True` takes logits.
"""

from __future__ import annotations

import torch

from .reduction import EPSILON, LOSS_FUNCTIONS, MeanMetricWrapper, as_tensor, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor


def _float(y_pred) -> Tensor:
    y_pred = as_tensor(y_pred)
    return y_pred if y_pred.is_floating_point() else y_pred.float()


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), the mean over `axis`.

    >>> round(float(binary_crossentropy([[0.0, 1.0]], [[0.4, 0.6]])[0]), 5)
    0.51083
    """
    y_pred = _float(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = torch.nn.functional.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
    return values.mean(axis)


def _log_probabilities(y_pred: Tensor, from_logits: bool, axis: int) -> Tensor:
    if from_logits:
        return torch.log_softmax(y_pred, dim=axis)
    p = y_pred / y_pred.sum(axis, keepdim=True)
    return p.clamp(EPSILON, 1.0 - EPSILON).log()


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """-sum(y * log p) over `axis`, one-hot (or soft) labels; y_pred rescaled to sum to 1.

    >>> round(float(categorical_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0]])[0]), 5)
    0.05129
    """
    y_pred = _float(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    return -(y_true * _log_probabilities(y_pred, from_logits, axis)).sum(axis)


def _sparse_labels(y_true, y_pred: Tensor, axis: int) -> Tensor:
    """Integer labels of y_pred's shape without the class axis (a class axis of size 1 dropped)."""
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    return y_true


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> Tensor:
    """-log p[label], integer labels (shape y_pred's without the class axis, or with it of size 1).
    Labels equal to `ignore_class` (e.g. the padding id of sequence labels) give 0.

    >>> values = sparse_categorical_crossentropy([0, 1], [[0.5, 0.5], [0.2, 0.8]], ignore_class=0)
    >>> [round(v, 4) for v in values.tolist()]
    [0.0, 0.2231]
    """
    y_pred = _float(y_pred)
    y_true = _sparse_labels(y_true, y_pred, axis)
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = torch.where(valid, y_true, torch.zeros_like(y_true))
        y_pred = torch.where(valid.unsqueeze(axis), y_pred, torch.zeros_like(y_pred))
    log_p = _log_probabilities(y_pred, from_logits, axis).movedim(axis, -1)
    values = -log_p.gather(-1, y_true.long().unsqueeze(-1)).squeeze(-1)
    return values if valid is None else torch.where(valid, values, torch.zeros_like(values))


def kl_divergence(y_true, y_pred) -> Tensor:
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [1e-7, 1].

    >>> round(float(kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])[0]), 5)
    0.14384
    """
    y_pred = _float(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device).clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(-1)


def poisson(y_true, y_pred) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis: the Poisson negative log-likelihood
    of counts y_true at rates y_pred, without the constant log(y_true!).

    >>> round(float(poisson([[0.0, 1.0]], [[1.0, 1.0]])[0]), 5)
    1.0
    """
    y_pred = _float(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(-1)


LOSS_FUNCTIONS.update({binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence,
                       poisson})


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy between 0/1 labels and probabilities."""

    _direction = "down"

    def __init__(self, name: str = "binary_crossentropy", dtype: str | None = None, from_logits: bool = False,
                 label_smoothing: float = 0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy between one-hot labels and probabilities."""

    _direction = "down"

    def __init__(self, name: str = "categorical_crossentropy", dtype: str | None = None, from_logits: bool = False,
                 label_smoothing: float = 0, axis: int = -1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy between integer labels and probabilities.

    >>> m = SparseCategoricalCrossentropy()
    >>> round(float(m([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
    1.1769
    """

    _direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def weights(self, y_true, y_pred, sample_weight):
        """Keras masks the ignored labels out of the sample weights (its values carry a mask that only
        weighted updates read): weighted, they do not count; unweighted, they count as zeros."""
        if self.ignore_class is None or sample_weight is None:
            return sample_weight
        y_pred = _float(y_pred)
        valid = (_sparse_labels(y_true, y_pred, self.axis) != self.ignore_class).to(y_pred.dtype)
        valid, sample_weight = squeeze_or_expand_to_same_rank(valid, as_tensor(sample_weight, y_pred.dtype,
                                                                                y_pred.device))
        return sample_weight * valid


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence from y_pred to y_true."""

    _direction = "down"

    def __init__(self, name: str = "kl_divergence", dtype: str | None = None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The mean Poisson error of predicted rates y_pred for counts y_true.

    >>> m = Poisson()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> round(float(m.result()), 4)
    0.5
    """

    _direction = "down"

    def __init__(self, name: str = "poisson", dtype: str | None = None):
        super().__init__(poisson, name=name, dtype=dtype)
