"""Keras's F-scores (keras/src/metrics/f_score_metrics.py): FBetaScore and F1Score from per-class counts
of true positives, false positives and false negatives over every batch seen.

Inputs are (batch, classes): one-hot or multi-hot labels and scores. Without a threshold each sample's
largest score is its one positive prediction (Keras: scores equal to the row's maximum and not zero);
with one, every score above it is positive. `average`: None (one score per class), "micro" (from the
counts pooled over classes), "macro" (the mean of the classes' scores) or "weighted" (weighted by each
class's number of true labels).

>>> m = F1Score(average="micro", threshold=0.5)
>>> m.update_state([[1, 1, 0], [0, 0, 1]], [[0.9, 0.2, 0.1], [0.1, 0.3, 0.8]])
>>> round(float(m.result()), 4)  # tp 2, fp 0, fn 1: precision 1, recall 2/3
0.8
"""

from __future__ import annotations

import torch

from .reduction import EPSILON, Metric, as_tensor, float_dtype

Tensor = torch.Tensor
AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """(1 + beta^2) * precision * recall / (beta^2 * precision + recall), per class or averaged.

    Args:
        average: None, "micro", "macro" or "weighted" (see the module).
        beta: how many times more recall counts than precision (a float > 0).
        threshold: a float in (0, 1]: scores above it are positive; None: each sample's largest score.
    """

    _direction = "up"
    summed_state = True

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype: str | None = None):
        if average not in AVERAGES:
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average!r}. Pass e.g. average='macro'.")
        if not isinstance(beta, float):
            example = float(beta) if isinstance(beta, int) and beta > 0 else 1.0
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta!r} "
                             f"of type '{type(beta).__name__}'. Write e.g. beta={example}.")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}. Pass e.g. "
                             "beta=1.0 (F1) or beta=2.0 (recall weighs more).")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python float. Received: "
                                 f"threshold={threshold!r} of type '{type(threshold).__name__}'. Write e.g. "
                                 "threshold=0.5.")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                                 f"Received: threshold={threshold}. Pass e.g. threshold=0.5, or None for each "
                                 "sample's largest score.")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0  # the axis the counts sum over
        self._shape: tuple[int, ...] | None = None  # per class, or () for micro; known at the first batch
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        compute = float_dtype(self._dtype)
        self._counts = {} if self._shape is None else \
            {key: torch.zeros(self._shape, dtype=compute) for key in ("tp", "fp", "fn", "weights")}

    @property
    def variables(self) -> list[Tensor]:
        return list(self._counts.values())

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        compute = float_dtype(self._dtype)
        y_true, y_pred = as_tensor(y_true, compute), as_tensor(y_pred, compute)
        if self._shape is None:
            if y_pred.dim() != 2 or y_true.dim() != 2:
                raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                                 f"shapes: y_pred.shape={tuple(y_pred.shape)} and y_true.shape="
                                 f"{tuple(y_true.shape)}. Give one-hot (or multi-hot) labels and one score per "
                                 "class (for a sequence output, reshape to (batch * time_steps, classes)).")
            self._shape = () if self.average == "micro" else (y_pred.shape[-1],)
            self.reset_state()
        y_true = y_true.to(y_pred.device)
        if self.threshold is None:  # the row's largest score, unless it is zero ([0, 0, 0] stays all negative)
            y_pred = (y_pred >= y_pred.max(-1, keepdim=True).values) & (y_pred.abs() > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(compute)
        if sample_weight is not None:
            sample_weight = as_tensor(sample_weight, compute, y_pred.device)

        def weighted_sum(value: Tensor) -> Tensor:
            if sample_weight is not None:
                value = value * sample_weight.unsqueeze(1)
            return value.sum() if self.axis is None else value.sum(self.axis)

        for key, value in (("tp", y_pred * y_true), ("fp", y_pred * (1 - y_true)), ("fn", (1 - y_pred) * y_true),
                           ("weights", y_true)):
            self._counts[key] += weighted_sum(value).cpu()

    def result(self) -> Tensor:
        if not self._counts:
            return torch.zeros((), dtype=float_dtype(self._dtype))
        tp, fp, fn = self._counts["tp"], self._counts["fp"], self._counts["fn"]
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        mean = (precision * recall) / ((self.beta ** 2) * precision + recall + EPSILON)
        score = mean * (1 + self.beta ** 2)
        if self.average == "weighted":
            weights = self._counts["weights"] / (self._counts["weights"].sum() + EPSILON)
            return (score * weights).sum()
        if self.average is not None:  # micro (one score already) or macro
            return score.mean()
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall: FBetaScore with beta 1.

    >>> m = F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 0], [0, 0, 1]], [[0.9, 0.2, 0.1], [0.1, 0.3, 0.8]])
    >>> [round(v, 4) for v in m.result().tolist()]  # per class (average=None)
    [1.0, 0.0, 1.0]
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype: str | None = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
