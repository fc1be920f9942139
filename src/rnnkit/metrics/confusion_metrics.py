"""Keras's threshold metrics (keras/src/metrics/confusion_metrics.py): the true/false positive/negative
counts, Precision and Recall, each a running count over every batch seen (not a mean of batch values).

A prediction is positive when it is greater than the threshold (0.5 by default; a list of thresholds
gives one value per threshold); `top_k` counts only each sample's k largest predictions as positive,
`class_id` looks at one class.

>>> m = Precision()
>>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
>>> round(float(m.result()), 4)  # 2 true positives of 3 predicted positives
0.6667
"""

from __future__ import annotations

import torch

from .confusion_matrix import NEG_INF, check_class_id, evenly_distributed, parse_thresholds, update_confusion_counts
from .reduction import Metric, float_dtype

Tensor = torch.Tensor


def divide_no_nan(x: Tensor, y: Tensor) -> Tensor:
    """x / y, 0 where y is 0 (Keras's ops.divide_no_nan)."""
    safe = torch.where(y == 0, torch.ones_like(y), y)
    return torch.where(y == 0, torch.zeros_like(x), x / safe)


class _ThresholdCounts(Metric):
    """A metric kept as confusion counts at its thresholds (`counts` names which ones)."""

    summed_state = True
    counts: tuple[str, ...] = ()

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        check_class_id(class_id, top_k)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        size = len(self.thresholds)
        self._counts = {key: torch.zeros(size, dtype=float_dtype(self._dtype)) for key in self.counts}

    @property
    def variables(self) -> list[Tensor]:
        return [self._counts[key] for key in self.counts]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        update_confusion_counts(self._counts, y_true, y_pred, self.thresholds, evenly=self._evenly,
                                top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def _per_threshold(self, value: Tensor) -> Tensor:
        return value[0] if len(self.thresholds) == 1 else value


class _ConfusionCount(_ThresholdCounts):
    """One count (Keras's `_ConfusionMatrixConditionCount`): thresholds only."""

    def __init__(self, thresholds=None, name: str | None = None, dtype: str | None = None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> Tensor:
        return self._per_threshold(self._counts[self.counts[0]])

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The (weighted) number of positive labels predicted positive.

    >>> m = TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())
    2.0
    """

    counts = ("tp",)


class FalsePositives(_ConfusionCount):
    """The (weighted) number of negative labels predicted positive."""

    counts = ("fp",)


class TrueNegatives(_ConfusionCount):
    """The (weighted) number of negative labels predicted negative."""

    counts = ("tn",)


class FalseNegatives(_ConfusionCount):
    """The (weighted) number of positive labels predicted negative."""

    counts = ("fn",)


class Precision(_ThresholdCounts):
    """tp / (tp + fp): how many of the predicted positives are positive.

    >>> m = Precision(top_k=1)  # only each sample's largest prediction counts as positive
    >>> m.update_state([[0, 0, 1, 1]], [[1, 1, 1, 1]])
    >>> float(m.result())
    0.0
    """

    _direction = "up"
    counts = ("tp", "fp")

    def result(self) -> Tensor:
        tp, fp = self._counts["tp"], self._counts["fp"]
        return self._per_threshold(divide_no_nan(tp, tp + fp))

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Recall(_ThresholdCounts):
    """tp / (tp + fn): how many of the positives are predicted positive.

    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _direction = "up"
    counts = ("tp", "fn")

    def result(self) -> Tensor:
        tp, fn = self._counts["tp"], self._counts["fn"]
        return self._per_threshold(divide_no_nan(tp, tp + fn))

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}
