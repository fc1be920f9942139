"""Keras's AUC (keras/src/metrics/confusion_metrics.py): the area under the ROC or precision-recall curve,
from confusion counts at `num_thresholds` thresholds accumulated over every batch seen.

Thresholds: num_thresholds - 2 evenly spaced in (0, 1), plus one just below 0 and one just above 1
(or the given `thresholds` between those two). Summation: "interpolation" (trapezoids; for PR, Davis
and Goadrich's interpolation), "minoring" (lower rectangles) or "majoring" (upper rectangles). With
multi_label=True each label (column of a (B, L) prediction) has its own curve and the result is their
mean (weighted by label_weights); otherwise every prediction counts as one binary decision.

>>> m = AUC(num_thresholds=3)
>>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
>>> float(m.result())  # ROC points (0, 0), (0.5, 0.5), (1, 1) with thresholds [-1e-7, 0.5, 1 + 1e-7]
0.75
"""

from __future__ import annotations

import numpy as np
import torch

from .confusion_matrix import COUNTS, evenly_distributed, update_confusion_counts
from .confusion_metrics import divide_no_nan
from .reduction import EPSILON, Metric, as_tensor, float_dtype

Tensor = torch.Tensor
# each accepted spelling -> the canonical one (Keras's AUCCurve.from_str and AUCSummationMethod.from_str)
CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN", "prgain": "PRGAIN"}
SUMMATION_METHODS = {spelling: m for m in ("interpolation", "majoring", "minoring") for spelling in (m, m.capitalize())}


def _choice(argument: str, value, valid: dict[str, str]) -> str:
    if not isinstance(value, str) or value not in valid:
        options = sorted(set(valid.values()))
        raise ValueError(f'Invalid AUC {argument} value: {value!r}. Expected values are {options}; pass e.g. '
                         f'{argument}="{options[0]}".')
    return valid[value]


class AUC(Metric):
    """The area under the ROC (default) or PR curve, from counts at thresholds over all batches.

    Args:
        num_thresholds: thresholds to count at (> 1), 200 by default; more give a finer curve.
        curve: "ROC", "PR" (precision-recall) or "PRGAIN".
        summation_method: "interpolation", "minoring" or "majoring".
        thresholds: explicit thresholds in [0, 1] (num_thresholds becomes len(thresholds) + 2).
        multi_label: a curve per label (column) of (B, L) predictions, averaged; else all predictions pooled.
        num_labels: the number of labels, to build at once (multi_label only; else from the first batch).
        label_weights: per-label weights: of the pooled counts, or of the per-label AUCs' mean.
        from_logits: predictions are logits (a sigmoid is applied first).
    """

    _direction = "up"
    summed_state = True

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: str | None = None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        self.curve = _choice("curve", curve, CURVES)
        self.summation_method = _choice("summation_method", summation_method, SUMMATION_METHODS)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            thresholds = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(thresholds) + 2
            self._evenly = evenly_distributed(np.array([0.0, *thresholds, 1.0]))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds="
                                 f"{num_thresholds!r}. Pass e.g. num_thresholds=200 (Keras's default).")
            self.num_thresholds = int(num_thresholds)
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        # the end points lie just outside [0, 1], so predictions of exactly 0 or 1 fall inside the curve
        self._thresholds = np.array([0.0 - EPSILON, *thresholds, 1.0 + EPSILON])
        if not multi_label and num_labels:
            raise ValueError(f"`num_labels` is needed only when `multi_label` is True. Received num_labels="
                             f"{num_labels!r} with multi_label=False: pass multi_label=True, or leave num_labels out.")
        self.multi_label, self.num_labels, self._from_logits = bool(multi_label), num_labels, bool(from_logits)
        self._label_weights_config = None if label_weights is None else \
            np.asarray(label_weights, dtype=np.float32).tolist()  # Keras keeps (and writes) them as float32
        self._num_labels: int | None = num_labels if multi_label else None
        super().__init__(name=name, dtype=dtype)
        self.label_weights = None if label_weights is None else \
            torch.as_tensor(np.asarray(label_weights), dtype=float_dtype(self._dtype))

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _variable_shape(self) -> tuple[int, ...] | None:
        if not self.multi_label:
            return (self.num_thresholds,)
        return None if self._num_labels is None else (self.num_thresholds, self._num_labels)

    def reset_state(self) -> None:
        shape = self._variable_shape()
        self._counts = {} if shape is None else \
            {key: torch.zeros(shape, dtype=float_dtype(self._dtype)) for key in COUNTS}

    @property
    def variables(self) -> list[Tensor]:
        return [self._counts[key] for key in COUNTS] if self._counts else []

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_tensor(y_pred)
        if self.multi_label and not self._counts:  # built on the first batch, as Keras's _build
            if y_pred.dim() != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.dim()}. "
                                 f"Full shape received for `y_pred`: {tuple(y_pred.shape)}. Give (batch, labels) "
                                 "predictions, or use multi_label=False to pool every prediction.")
            self._num_labels = y_pred.shape[1]
            self.reset_state()
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred.to(float_dtype(self._dtype)))
        update_confusion_counts(self._counts, y_true, y_pred, self._thresholds, evenly=self._evenly,
                                sample_weight=sample_weight, multi_label=self.multi_label,
                                label_weights=None if self.multi_label else self.label_weights)

    def _average(self, by_threshold: Tensor) -> Tensor:
        """Sum over thresholds; with multi_label, the (weighted) mean of the labels' areas."""
        if not self.multi_label:
            return by_threshold.sum()
        by_label = by_threshold.sum(0)
        if self.label_weights is None:
            return by_label.mean()
        return divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum())

    def _interpolate_pr_auc(self) -> Tensor:
        """Davis & Goadrich's interpolation of the PR curve between thresholds (Keras's interpolate_pr_auc)."""
        tp, fp, fn = self._counts["tp"], self._counts["fp"], self._counts["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], p[1:].clamp_min(0)),
                                   torch.ones_like(p[1:]))
        increment = divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                  (tp[1:] + fn[1:]).clamp_min(0))
        return self._average(increment)

    def result(self) -> Tensor:
        if not self._counts:
            return torch.zeros((), dtype=float_dtype(self._dtype))
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self._counts[key] for key in COUNTS)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN: gains scaled by positives / negatives; no true positives: recall gain 0, precision gain 1
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = torch.where(tp == 0, 0.0, 1.0 - scaling * divide_no_nan(fn, tp)).clamp_min(0.0)
            precision_gain = torch.where(tp == 0, 1.0, 1.0 - scaling * divide_no_nan(fp, tp))
            x, y = recall_gain, precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self._label_weights_config,
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:  # without the two end points, so from_config rebuilds the same ones
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return config
