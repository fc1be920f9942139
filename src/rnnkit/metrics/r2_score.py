"""Keras's R2Score (keras/src/metrics/regression_metrics.py): the coefficient of determination over every
batch seen, 1 - (residual sum of squares) / (total sum of squares), per output column.

The state is sums (of y, y^2, squared residuals, weights, and the number of values), so the epoch's R2
is computed from all its samples, not averaged over batches.

>>> m = R2Score()
>>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [2.0], [3.0]])
>>> round(float(m.result()), 4)  # 1 - 5 / (26 - 64 / 3)
-0.0714
"""

from __future__ import annotations

import warnings

import torch

from .reduction import Metric, as_tensor, float_dtype, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor
AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """R2 (coefficient of determination) of (batch, outputs) predictions.

    Args:
        class_aggregation: "uniform_average" (the mean of the columns' R2), "variance_weighted_average"
            (weighted by each column's variance) or None (one R2 per column).
        num_regressors: p > 0 gives the adjusted R2, 1 - (1 - R2) (n - 1) / (n - p - 1).
    """

    _direction = "up"
    summed_state = True

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: str | None = None):
        if class_aggregation not in AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {AGGREGATIONS}. "
                             f"Received: class_aggregation={class_aggregation!r}. Pass e.g. "
                             "class_aggregation='uniform_average'.")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}. Pass the number of independent variables, or 0 "
                             "for the plain R2.")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self._outputs: int | None = None  # the number of output columns, known at the first batch
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        compute = float_dtype(self._dtype)
        self._sums = {"num_samples": torch.zeros((), dtype=compute)}
        if self._outputs is not None:
            self._sums.update({key: torch.zeros(self._outputs, dtype=compute)
                               for key in ("squared_sum", "sum", "residual", "count")})

    @property
    def variables(self) -> list[Tensor]:
        return list(self._sums.values())

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        compute = float_dtype(self._dtype)
        y_true, y_pred = as_tensor(y_true, compute), as_tensor(y_pred, compute)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.device), y_pred)
        if self._outputs is None:
            if y_pred.dim() != 2 or y_true.dim() != 2:
                raise ValueError(f"R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                                 f"shapes: y_pred.shape={tuple(y_pred.shape)} and y_true.shape="
                                 f"{tuple(y_true.shape)}. For a sequence output, reshape to (batch * time_steps, "
                                 "outputs).")
            self._outputs = y_pred.shape[-1]
            self.reset_state()
        weight = torch.ones((), dtype=compute) if sample_weight is None else as_tensor(sample_weight, compute)
        if weight.dim() == 1:
            weight = weight.unsqueeze(1)  # one weight per sample, for every output
        weight = torch.broadcast_to(weight.to(y_true.device), y_true.shape)
        weighted_y_true = y_true * weight
        for key, value in (("sum", weighted_y_true.sum(0)), ("squared_sum", (y_true * weighted_y_true).sum(0)),
                           ("residual", ((y_true - y_pred) ** 2 * weight).sum(0)), ("count", weight.sum(0))):
            self._sums[key] += value.cpu()
        self._sums["num_samples"] += y_true.numel()

    def result(self) -> Tensor:
        if self._outputs is None:
            return torch.zeros((), dtype=float_dtype(self._dtype))
        s = self._sums
        mean = s["sum"] / s["count"]
        total = s["squared_sum"] - s["sum"] * mean
        raw_scores = 1 - (s["residual"] / total)
        raw_scores = torch.where(torch.isinf(raw_scores), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            r2 = raw_scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = (total * raw_scores).sum() / total.sum()
        else:
            r2 = raw_scores
        if self.num_regressors != 0:
            n, p = s["num_samples"].to(torch.float32), float(self.num_regressors)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                              stacklevel=2)
            else:
                r2 = 1.0 - ((1.0 - r2) * (n - 1.0)) / ((n - p) - 1.0)
        return r2

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
