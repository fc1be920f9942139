"""The loss and the metrics of a batch, as Keras's `compute_loss` and `compute_metrics` make them.

One output: the compiled loss of y_pred against y, times loss_weights. Several outputs (Keras's
CompileLoss, `training.compile_utils`): the sum of weight * loss over the outputs with a loss. Either way
plus `model.losses`, the regularization penalties. The metrics' batch values are what the loops average
over the epoch; `metrics_result` turns those means into the logs.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import convert, keras_mask, losses
from .. import metrics as metrics_module
from ..layers.regularization import collect_losses

Tensor = torch.Tensor
_BUILT_IN_LOSSES = set(losses.LOSSES.values())
_WEIGHT = "/weight"  # a weighted metric's companion value (its batch's weight per row), never logged
_STATE = "/state"  # a summed-state metric's batch state per row (an array), logged as the metric's result


def _check_class_ids(y: Tensor, classes: int) -> None:
    """Refuse sparse targets that are not class ids in [0, classes): NLL would fail with an IndexError deep
    inside torch (or, for 1.5, silently train on class 1)."""
    if y.numel() == 0:
        return
    if y.is_floating_point():
        fractional = y != y.round()
        if bool(fractional.any()):
            index = tuple(int(i) for i in fractional.nonzero()[0])
            raise ValueError(f"sparse_categorical_crossentropy needs whole-number class ids, received "
                             f"{float(y[index])} in y (first at index {index}). Give each sample the number of "
                             "its class (0, 1, 2, ...), or use categorical_crossentropy for one-hot or soft targets.")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        index = tuple(int(i) for i in (y == bad).nonzero()[0])
        raise ValueError(f"sparse_categorical_crossentropy needs class ids in [0, {classes}), received {bad} in y "
                         f"(first at index {index}): the model's output has {classes} units, one per class. Fix "
                         f"the labels (they count from 0), or give the last layer one unit per class "
                         f"({max(high + 1, classes)} for these labels).")


class LossAndMetrics:
    """compute_loss, compute_metrics and metrics_result, with the target checks they use; Steps inherits it."""

    def _targets(self, y: Tensor, y_pred, loss_name: str | None = "compiled") -> Tensor:
        """y shaped and typed for the loss (`loss_name`, by default the compiled one) against y_pred, or a
        clear error."""
        self._require_compiled()
        loss_name = self.loss_name if loss_name == "compiled" else loss_name
        if isinstance(y_pred, (list, tuple)):
            raise ValueError(f"{self.name} has {len(y_pred)} outputs, and training a model with several outputs "
                             "is not supported yet. Train a model with one output (e.g. concatenate the "
                             "outputs into one), or train each output's model separately.")
        y = convert.to_tensor(y, y_pred.device, integers_as_float=loss_name != "sparse_categorical_crossentropy")
        if loss_name == "sparse_categorical_crossentropy":
            if not torch.compiler.is_compiling():  # the compiled step's first batch runs eagerly and checks
                _check_class_ids(y, y_pred.shape[-1])
            if y.is_floating_point():
                y = y.long()
        if y.dim() == 1 and y_pred.dim() == 2 and y_pred.shape[1] == 1:
            y = y[:, None]  # Keras accepts (N,) targets for (N, 1) outputs, for any loss (no broadcasting)
        if loss_name in losses.LOSSES:  # built-in losses: refuse shapes that would broadcast
            losses.check_targets(loss_name, tuple(y.shape), tuple(y_pred.shape), None)
        return y

    def _output_targets(self, y, y_pred_i: Tensor, index: int) -> Tensor:
        """`_targets` for output `index` of a model with several: shaped for that output's built-in loss."""
        name = next((e.name for e in self._output_losses if e.index == index), None)
        return self._targets(y, y_pred_i, name if name in losses.LOSSES else None)

    def _targets_and_weights(self, y, sample_weight) -> tuple[list, list]:
        """y and sample_weight of a model with several outputs, one entry per output (None: not given)."""
        targets = self._per_output(y, "y")
        if sample_weight is None:
            return targets, [None] * len(targets)
        return targets, self._per_output(sample_weight, "sample_weight")

    @property
    def losses(self) -> list[Tensor]:
        """Keras's `model.losses`: activity penalties of the last forward pass and weight penalties
        (regularizers), which `compute_loss` adds to the compiled loss (rnnkit.layers.regularization)."""
        return collect_losses(self)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None) -> Tensor:
        """The compiled loss of y_pred against y (Keras's signature), weighted as Keras weighs it:
        sum(loss * sample_weight) / number of loss values (see `losses.reduce_weighted`), plus the sum
        of `self.losses` (regularization), as Keras's compute_loss."""
        if self._output_losses is not None:  # Keras's CompileLoss: sum of weight * loss over the outputs
            loss = None
            for entry, value in self._output_loss_values(y, y_pred, sample_weight):
                value = value if entry.weight is None else value * entry.weight
                loss = value if loss is None else loss + value
        else:
            loss = self._loss_value(self.loss_fn, self._targets(y, y_pred), y_pred, sample_weight)
            loss = loss if self.loss_weight is None else loss * self.loss_weight
        penalties = self.losses
        return loss + sum(penalties) if penalties else loss

    @staticmethod
    def _loss_value(fn, y: Tensor, y_pred: Tensor, sample_weight) -> Tensor:
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, losses.Loss):  # a Loss object: called whole, as Keras's CompileLoss calls it, so
            return owner(y, y_pred, sample_weight)  # its own reduction and y_pred's mask apply
        # y_pred's mask (Embedding(mask_zero) or Masking upstream): the loss averages over the valid steps
        sample_weight = losses.apply_mask(sample_weight, keras_mask.get(y_pred))
        if fn in _BUILT_IN_LOSSES:  # these reduce per sample and take the weights themselves
            return fn(y, y_pred, sample_weight)
        return losses.reduce_weighted(fn(y, y_pred), sample_weight)

    def _output_loss_values(self, y, y_pred, sample_weight):
        """(OutputLoss, its unweighted loss) for each output with a loss."""
        if not isinstance(y_pred, (list, tuple)):
            y_pred = [y_pred]
        targets, weights = self._targets_and_weights(y, sample_weight)
        for entry in self._output_losses:
            i = entry.index
            if targets[i] is None:
                raise ValueError(f"Output {self.output_names_for_compile()[i]!r} has loss {entry.name!r} but y gives "
                                 "it no targets. Pass a target array for every output with a loss.")
            y_i = self._output_targets(targets[i], y_pred[i], i)
            yield entry, self._loss_value(entry.fn, y_i, y_pred[i], weights[i])

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict[str, float]:
        """The compiled metrics' values on one batch, in the form the epoch averages: fit and evaluate
        average them over the batches weighted by rows, then `metrics_result` gives the logs (Keras's
        running metrics, e.g. for RMSE the root of the epoch's mean squared error). A model with several
        outputs logs each output's unweighted loss too ("<output>_loss"). A weighted metric under sample
        weights gives sum(value * weight) / rows and sum(weight) / rows, whose ratio is Keras's."""
        values: dict[str, float] = {}
        with torch.no_grad():
            if self._output_losses is not None:
                if len(self._output_losses) > 1:  # Keras tracks them when there are several
                    for entry, value in self._output_loss_values(y, y_pred, sample_weight):
                        values[entry.log_name] = float(value)
                targets, weights = self._targets_and_weights(y, sample_weight)
            for c in self._compiled_metrics:
                if c.output is None:
                    y_t, y_p, w = self._targets(y, y_pred), y_pred, sample_weight
                else:
                    if targets[c.output] is None:
                        continue
                    y_p, w = y_pred[c.output], weights[c.output]
                    y_t = self._output_targets(targets[c.output], y_p, c.output)
                w = w if c.weighted else None
                if isinstance(c.metric, metrics_module.MeanMetricWrapper):
                    # Keras's MeanMetricWrapper weighs masked steps 0 whether or not it is a weighted metric
                    w = losses.apply_mask(w, keras_mask.get(y_p), "sum")
                if c.metric.summed_state:  # its batch's state per row; the epoch's mean times rows is the sum
                    state = c.metric.batch_state(y_t, y_p, w)
                    values[c.log_name + _STATE] = state / max(y_p.shape[0] if y_p.dim() else 1, 1)
                elif w is not None:
                    value, weight = metrics_module.weighted_batch_value(c.metric, y_t, y_p, w)
                    values[c.log_name], values[c.log_name + _WEIGHT] = float(value), float(weight)
                else:
                    values[c.log_name] = float(c.metric.batch_value(y_t, y_p))
        return values

    def metrics_result(self, means: dict, rows: int | None = None) -> dict:
        """The logs from the row-weighted means of the step values over the `rows` rows seen
        (`compute_metrics`): each compiled metric's result from its mean; a summed-state metric's (AUC,
        Precision, R2Score, ...) from its mean state times rows, the sum of its batches' states, as Keras's
        running state; the loss and other values as they are. A metric with several values (Precision at
        several thresholds, F1Score per class) logs a float32 array, as Keras does."""
        finish = {name: metric.result_of_mean for metric, name in self.metric_fns}
        summed = {name: metric for metric, name in self.metric_fns if metric.summed_state}
        logs = {}
        for k, v in means.items():
            if k.endswith(_WEIGHT):
                continue
            if k.endswith(_STATE):
                name = k[:-len(_STATE)]
                if rows is None:
                    raise ValueError(f"metrics_result needs the rows seen to read {name!r} (a metric whose state "
                                     "is summed over batches): pass rows=<number of samples the means cover>.")
                logs[name] = _logged(summed[name].result_of_state(np.asarray(v) * rows))
                continue
            if k + _WEIGHT in means:  # a weighted metric: sum(value * weight) over sum(weight)
                weight = means[k + _WEIGHT]
                v = v / weight if weight else 0.0
            logs[k] = finish[k](v) if k in finish else v
        return logs

    def idle_metric_values(self) -> dict:
        """What a distributed rank with no rows in a batch adds: zeros under the keys `compute_metrics`
        gives (a summed-state metric's zero state, once the metric has seen a batch and knows its size)."""
        values = {}
        for metric, name in self.metric_fns:
            if metric.summed_state:
                values[name + _STATE] = np.zeros_like(metric.state_vector())
            else:
                values[name] = 0.0
        return values


def _logged(value: Tensor):
    """A metric's result as the logs keep it: a float, or a float32 array for several values."""
    value = value.detach().cpu() if isinstance(value, Tensor) else torch.as_tensor(value)
    return float(value) if value.dim() == 0 else value.numpy().astype(np.float32)
