"""Keras's metrics of one rate at a required value of another (keras/src/metrics/confusion_metrics.py,
SensitivitySpecificityBase): PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity and
SpecificityAtSensitivity.

The true/false positive/negative counts are kept at `num_thresholds` thresholds evenly spaced over
[0, 1] (0 and 1 included; 0.5 alone when num_thresholds is 1), summed over every batch seen. The
result is the best value of one rate over the thresholds where the other is at least the required
value, or 0 where none is.

>>> m = SensitivityAtSpecificity(0.5)
>>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
>>> float(m.result())
0.5
"""

from __future__ import annotations

import numpy as np
import torch

from .confusion_metrics import _ThresholdCounts, divide_no_nan

Tensor = torch.Tensor


class _RateAtRate(_ThresholdCounts):
    """Counts at num_thresholds thresholds in [0, 1]; `value` is the required rate (Keras's
    SensitivitySpecificityBase). Subclasses name the argument (`argument`) and give the two rates."""

    _direction = "up"
    counts = ("tp", "fp", "tn", "fn")
    argument = "value"

    def __init__(self, value, num_thresholds: int = 200, class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not 0 <= value <= 1:
            raise ValueError(f"Argument `{self.argument}` must be in the range [0, 1]. Received: "
                             f"{self.argument}={value!r}. Pass a rate between 0 and 1, e.g. {self.argument}=0.5.")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                or num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds="
                             f"{num_thresholds!r}. Pass e.g. num_thresholds=200 (Keras's default).")
        setattr(self, self.argument, value)
        self.value, self.num_thresholds = value, int(num_thresholds)
        if num_thresholds == 1:
            thresholds = [0.5]
        else:  # 0, 1 and num_thresholds - 2 between them
            thresholds = [0.0, *((i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)), 1.0]
        super().__init__(thresholds=thresholds, class_id=class_id, name=name, dtype=dtype)
        self._evenly = num_thresholds > 1  # Keras's bucket algorithm, for 2 thresholds too

    def _rates(self) -> tuple[Tensor, Tensor]:
        """(constrained rate, rate to maximize) at each threshold."""
        raise NotImplementedError

    def result(self) -> Tensor:
        constrained, dependent = self._rates()
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, 0.0).max().clamp_min(0.0)

    def _recall(self) -> Tensor:
        tp = self._counts["tp"]
        return divide_no_nan(tp, tp + self._counts["fn"])

    def _precision(self) -> Tensor:
        tp = self._counts["tp"]
        return divide_no_nan(tp, tp + self._counts["fp"])

    def _specificity(self) -> Tensor:
        tn = self._counts["tn"]
        return divide_no_nan(tn, tn + self._counts["fp"])

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self.argument: getattr(self, self.argument)}


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (tp / (tp + fn)) at a threshold where the specificity (tn / (tn + fp)) is at
    least `specificity`.

    Args:
        specificity: the required specificity, in [0, 1].
        num_thresholds: how many thresholds to try (evenly spaced over [0, 1]), 200 by default.
        class_id: look at this class (column) of (batch, classes) predictions only.
    """

    argument = "specificity"

    def __init__(self, specificity, num_thresholds: int = 200, class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self):
        return self._specificity(), self._recall()


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity (tn / (tn + fp)) at a threshold where the sensitivity (tp / (tp + fn)) is at
    least `sensitivity`. Arguments as SensitivityAtSpecificity's."""

    argument = "sensitivity"

    def __init__(self, sensitivity, num_thresholds: int = 200, class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self):
        return self._recall(), self._specificity()


class PrecisionAtRecall(_RateAtRate):
    """The best precision (tp / (tp + fp)) at a threshold where the recall (tp / (tp + fn)) is at least
    `recall`. Arguments as SensitivityAtSpecificity's."""

    argument = "recall"

    def __init__(self, recall, num_thresholds: int = 200, class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self):
        return self._recall(), self._precision()


class RecallAtPrecision(_RateAtRate):
    """The best recall (tp / (tp + fn)) at a threshold where the precision (tp / (tp + fp)) is at least
    `precision`; 0 where no threshold reaches it. Arguments as SensitivityAtSpecificity's."""

    argument = "precision"

    def __init__(self, precision, num_thresholds: int = 200, class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self):
        return self._precision(), self._recall()
