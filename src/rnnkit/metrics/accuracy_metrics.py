"""Keras's accuracy metrics (keras/src/metrics/accuracy_metrics.py): a 1 or 0 per prediction, averaged.

Each function returns one value per prediction (shape of y_true's class ids); each class is the running
mean of its function.
"""

from __future__ import annotations

import torch

from ..losses import is_binary_or_sparse_categorical
from .reduction import MeanMetricWrapper, as_tensor, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor


def accuracy(y_true, y_pred) -> Tensor:
    """1.0 where y_pred equals y_true exactly."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).float()


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> Tensor:
    """1.0 where (y_pred > threshold) equals the 0/1 label.

    >>> binary_accuracy([1, 0], [0.7, 0.6]).tolist()
    [1.0, 0.0]
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_true.dtype)
    return (y_true == y_pred).float()


def categorical_accuracy(y_true, y_pred) -> Tensor:
    """1.0 where the largest prediction is at the one-hot label's class.

    >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]).tolist()
    [0.0, 1.0]
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device).argmax(-1).to(y_pred.dtype)
    original_shape, reshape_matches = y_true.shape, False
    if y_true.dim() == y_pred.dim():  # (N, 1) labels -> (N,), as Keras
        y_true, reshape_matches = y_true.squeeze(-1), True
    matches = (y_true == y_pred.argmax(-1).to(y_true.dtype)).float()
    return matches.reshape(original_shape) if reshape_matches else matches


def sparse_categorical_accuracy(y_true, y_pred) -> Tensor:
    """1.0 where the largest prediction is at the integer label's class.

    >>> sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]).tolist()
    [0.0, 1.0]
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    original_shape, reshape_matches = y_true.shape, False
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:  # (N, 1) labels -> (N,)
        y_true, reshape_matches = y_true.squeeze(-1), True
    matches = (y_true == y_pred.argmax(-1).to(y_true.dtype)).float()
    if reshape_matches:
        matches = matches.reshape(original_shape)
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets: Tensor, predictions: Tensor, k: int) -> Tensor:
    """Keras's `ops.in_top_k`: whether each target's score is at least the k-th largest (ties count)."""
    k = min(k, predictions.shape[-1])
    kth = predictions.topk(k, dim=-1).values[:, -1:]
    return (predictions.gather(-1, targets.long()[:, None]) >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> Tensor:
    """1.0 where the one-hot label's class is among the k largest predictions."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device).argmax(-1)
    original_shape = y_true.shape
    matches = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k).float()
    return matches.reshape(original_shape) if y_true.dim() > 1 else matches


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5, from_sorted_ids: bool = False) -> Tensor:
    """1.0 where the integer label is among the k largest predictions (or, with from_sorted_ids, among
    the first k of y_pred's class ids, sorted best first)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype if from_sorted_ids else torch.int64, y_pred.device)
    original_shape = y_true.shape
    flat_true, flat_pred = y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = (flat_true[:, None] == flat_pred[:, :k]).any(dim=1)
    else:
        matches = _in_top_k(flat_true, flat_pred, k)
    matches = matches.float()
    return matches.reshape(original_shape) if y_true.dim() > 1 else matches


def accuracy_by_shape(y_true, y_pred) -> Tensor:
    """compile's "accuracy"/"acc": binary, sparse categorical or categorical accuracy, chosen from the
    shapes as Keras 3's `is_binary_or_sparse_categorical` does (one output unit: binary; labels of lower
    rank, or one label against several units: sparse; else one-hot)."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    binary, sparse = is_binary_or_sparse_categorical(tuple(y_true.shape), tuple(y_pred.shape))
    if binary:
        return binary_accuracy(y_true, y_pred)
    if sparse:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true.

    >>> m = Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    >>> float(m.result())
    0.75
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype: str | None = None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) matches the 0/1 labels.

    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> float(m.result())
    0.75
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: str | None = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the largest prediction is at the one-hot label's class."""

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype: str | None = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the largest prediction is at the integer label's class.

    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: str | None = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the k largest predictions."""

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: str | None = None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k largest predictions."""

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: str | None = None,
                 from_sorted_ids: bool = False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k, self.from_sorted_ids = k, from_sorted_ids

    def get_config(self) -> dict:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:  # Keras writes it only when set
            config["from_sorted_ids"] = True
        return config
