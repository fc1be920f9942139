"""Keras's Intersection-over-Union metrics (keras/src/metrics/iou_metrics.py): IoU, MeanIoU, BinaryIoU,
OneHotIoU and OneHotMeanIoU, from a (num_classes, num_classes) confusion matrix summed over every batch.

Rows of the matrix are the true classes, columns the predicted ones. A class's IoU is
tp / (tp + fp + fn); the result is the mean over the target classes that occur (in the labels or the
predictions), each absent class counting 0 and not in the mean's count. Labels and predictions are
class ids (or, with sparse_y_true / sparse_y_pred False, scores whose argmax along `axis` is the
id), flattened; pairs with an id outside [0, num_classes) or a label equal to `ignore_class` are
left out.

As Keras's, the matrix has the metric's dtype, int32 by default: labels, predictions and sample
weights are cast to it, so fractional weights are truncated (0.7 counts 0; a warning says so) unless
the metric is built with dtype="float32".

>>> m = IoU(num_classes=2, target_class_ids=[0])
>>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
>>> round(float(m.result()), 4)  # class 0: 1 / (2 + 2 - 1)
0.3333
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .reduction import EPSILON, Metric, as_tensor

Tensor = torch.Tensor
_DTYPES = {"int": torch.int32, "int32": torch.int32, "int64": torch.int64, "float32": torch.float32,
           "float64": torch.float64}


def _state_dtype(dtype) -> tuple[str, torch.dtype]:
    """The metric's dtype name (Keras's: "int" is int32) and the torch dtype of its confusion matrix."""
    name = "int32" if dtype in (None, "int") else str(dtype).replace("torch.", "")
    if name not in _DTYPES:
        raise ValueError(f"Unsupported dtype for an IoU metric: {dtype!r}. Expected one of "
                         f"{sorted(set(_DTYPES) - {'int'})}; pass e.g. dtype='float32' to count fractional "
                         "sample weights, or leave it out for Keras's int32 counts.")
    return name, _DTYPES[name]


def _check_ids(num_classes, target_class_ids) -> list[int]:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"Argument `num_classes` must be an integer >= 1. Received: num_classes={num_classes!r}. "
                         "Pass the number of classes the labels can take, e.g. num_classes=3.")
    ids = list(target_class_ids) if isinstance(target_class_ids, (list, tuple, np.ndarray, range)) else None
    if not ids or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in ids):
        raise ValueError(f"Argument `target_class_ids` must be a non-empty list of class ids. Received: "
                         f"target_class_ids={target_class_ids!r}. Pass e.g. target_class_ids=[0] for class 0's IoU.")
    if max(ids) >= num_classes or min(ids) < 0:
        bad = max(ids) if max(ids) >= num_classes else min(ids)
        raise ValueError(f"Target class id {bad} is out of range, which is [0, {num_classes}). Pass ids between "
                         f"0 and {num_classes - 1}, or a larger num_classes.")
    return [int(i) for i in ids]


class IoU(Metric):
    """The mean IoU of the classes in `target_class_ids` (one id: that class's IoU).

    Args:
        num_classes: the number of classes; the confusion matrix is (num_classes, num_classes).
        target_class_ids: the classes whose IoUs are averaged, e.g. [0] or [1, 2].
        ignore_class: a label to leave out (e.g. a "void" class of -1 or 255); None counts every label.
        sparse_y_true, sparse_y_pred: True: class ids; False: scores whose argmax along `axis` is the id.
        axis: the class axis of non-sparse labels or predictions, -1 by default.
        dtype: of the confusion matrix: int32 (Keras's default) truncates fractional sample weights,
            "float32" keeps them.
    """

    _direction = "up"
    summed_state = True

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        self.target_class_ids = _check_ids(num_classes, target_class_ids)
        dtype, self._state = _state_dtype(dtype)
        self.num_classes, self.ignore_class, self.axis = int(num_classes), ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        super().__init__(name=name, dtype=dtype)

    @property
    def variables(self) -> list[Tensor]:
        return [self.total_cm]

    def reset_state(self) -> None:
        self.total_cm = torch.zeros((self.num_classes, self.num_classes), dtype=self._state)

    def _ids(self, y, sparse: bool) -> Tensor:
        y = as_tensor(y)
        if not sparse:
            y = y.argmax(dim=self.axis)
        return y.to(self._state).reshape(-1)  # a float id is truncated, as Keras's cast

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = self._ids(y_true, self.sparse_y_true), self._ids(y_pred, self.sparse_y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} needs one prediction per label: received {y_true.numel()} "
                             f"labels and {y_pred.numel()} predictions (flattened). Give y_true and y_pred the same "
                             "shape (for one-hot or score inputs, the same shape before the argmax).")
        if sample_weight is None:
            weights = torch.ones_like(y_true)
        else:
            if "float" in str(getattr(sample_weight, "dtype", "")) and not self._state.is_floating_point:
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an "
                              "incorrect weight due to type casting Consider using integer weights.", stacklevel=2)
            weights = as_tensor(sample_weight).to(self._state).reshape(-1)  # truncated to int32, as Keras's
            if weights.numel() not in (1, y_true.numel()):
                raise ValueError(f"sample_weight of shape {tuple(as_tensor(sample_weight).shape)} does not match the "
                                 f"{y_true.numel()} labels (flattened). Give one weight per label (y_true's shape) "
                                 "or a single weight.")
            weights = torch.broadcast_to(weights.to(y_true.device), y_true.shape)
        valid = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = y_true[valid].long() * self.num_classes + y_pred[valid].long()  # float ids truncated, as Keras's
        added = torch.zeros(self.num_classes ** 2, dtype=self._state, device=cells.device)
        added.index_add_(0, cells, weights[valid])
        self.total_cm += added.reshape(self.num_classes, self.num_classes).cpu()

    def _class_ious(self) -> tuple[Tensor, Tensor]:
        """(each target class's IoU, 0 where the class is absent; 1 where it is present, else 0), float32."""
        cm = self.total_cm
        true_positives = cm.diagonal()
        denominator = (cm.sum(0) + cm.sum(1) - true_positives)[self.target_class_ids].to(torch.float32)
        true_positives = true_positives[self.target_class_ids].to(torch.float32)
        valid = (denominator > 1e-9).to(torch.float32)
        iou = torch.where(valid.bool(), true_positives / (denominator + EPSILON), 0.0)
        return iou, valid

    def result(self) -> Tensor:
        # Keras sums along `axis` of this vector, which fails for an axis other than 0 or -1; the vector's
        # sum is what it means
        iou, valid = self._class_ious()
        return iou.sum() / (valid.sum() + EPSILON)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of a binary task: a prediction >= `threshold` is class 1, else 0; the result is the mean IoU
    of `target_class_ids` ([0], [1] or [0, 1], the default).

    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_tensor(y_pred, torch.float32) >= self.threshold
        super().update_state(y_true, y_pred.to(self._state), sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes (those that occur). Arguments as IoU's."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        _check_ids(num_classes, [0])
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU of one-hot labels (their argmax along `axis` is the class) against scores (or, with
    sparse_y_pred=True, class ids). Arguments as IoU's."""

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """The mean IoU over all classes of one-hot labels against scores (or, with sparse_y_pred=True,
    class ids). Arguments as MeanIoU's."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
