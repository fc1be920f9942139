"""What `compile` set, and the optimizer's state, as a checkpoint keeps them (`io.checkpoint`).

The header's "compile" entry holds compile's arguments by name, so `load` compiles the model again as it
was: the loss, loss_weights, metrics and weighted_metrics (for a model with several outputs a dict by
output name for each, as Keras's compile takes them), the optimizer's spec, jit_compile and
auto_scale_loss. The metrics are stored by the names they were given, so the logs after `load` carry the
same names ("out_mse", "weighted_mse", "mse_1"); a metric whose name alone would not rebuild it (one
with arguments: TopKCategoricalAccuracy(k=3), AUC(curve="PR"), a renamed Precision) is stored as
Keras serializes it, {"class_name": ..., "config": ...}, which compile takes back. A model compiled
with something that has no name to find it again by (a custom loss or metric function, a torch loss
module, a torch optimizer, a MultiOptimizer choosing by a function, a learning rate given as a function) is stored without a loss and loads
uncompiled: compile it again.

The optimizer's tensors travel as ``optimizer/<param>/<key>`` tensors beside the weights, the rest of its
state_dict in the header.
"""

from __future__ import annotations

import dataclasses
import json

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module
from ..optimizers import revive as revive_optimizer


def compile_config(model) -> dict | None:
    """The header's "compile" entry for `model` (None when it is not compiled)."""
    if model.loss_fn is None:
        return None
    spec = model.optimizer_config
    optimizer = dataclasses.asdict(spec) if dataclasses.is_dataclass(spec) else None
    try:
        json.dumps(optimizer)
    except TypeError:  # a MultiOptimizer choosing by a function: the model loads uncompiled, as with a torch optimizer
        optimizer = None
    if optimizer is not None and spec.uses_rate_function():  # a function as learning rate: the same
        optimizer = None
    config = {"optimizer": optimizer, "jit_compile": model.jit_compile, "auto_scale_loss": model.auto_scale_loss}
    names = model.output_names_for_compile()
    if names is None:
        config.update(loss=model.loss_name, loss_weights=model.loss_weight,
                      metrics=_metric_names(model, weighted=False), weighted_metrics=_metric_names(model, weighted=True))
        losses = [model.loss_name]
    else:
        entries = model._output_losses
        config.update(loss={name: None for name in names}, loss_weights=None,
                      metrics=_metric_names(model, False, names), weighted_metrics=_metric_names(model, True, names))
        for entry in entries:
            config["loss"][names[entry.index]] = entry.name
        weights = {names[e.index]: e.weight for e in entries if e.weight is not None}
        config["loss_weights"] = weights or None
        losses = [entry.name for entry in entries]
    metrics = [_metric_entry(c.metric) for c in model._compiled_metrics]
    if not (all(name in losses_module.LOSSES for name in losses) and all(map(_known_metric, metrics))):
        config["loss"] = None  # a custom loss or metric: `load` leaves the model for the user to compile
    return config


def _metric_names(model, weighted: bool, output_names: list[str] | None = None):
    """What compile was given for the (weighted) metrics (`_metric_entry`): a list, or a dict
    {output name: list}."""
    chosen = [c for c in model._compiled_metrics if c.weighted == weighted]
    if output_names is None:
        return [_metric_entry(c.metric) for c in chosen]
    by_output: dict[str, list] = {}
    for c in chosen:
        by_output.setdefault(output_names[c.output], []).append(_metric_entry(c.metric))
    return by_output


def _metric_entry(metric):
    """A metric as compile takes it back: its name where the name rebuilds the same metric ("mse",
    "acc", AUC()), else Keras's serialized form with its arguments (AUC(num_thresholds=50)); a metric
    of no known class (a custom function) by its name, which `_known_metric` refuses."""
    try:
        again, _ = metrics_module.compile_metric(metric.name)
    except (ValueError, TypeError):
        again = None
    if again is not None and type(again) is type(metric) and again.get_config() == metric.get_config():
        return metric.name
    if type(metric) in metrics_module.NAMES.values():
        return metrics_module.serialize(metric)
    return metric.name


def _known_metric(entry) -> bool:
    try:
        metrics_module.compile_metric(entry)
    except (ValueError, TypeError):
        return False
    return True


def optimizer_state(optimizer: torch.optim.Optimizer, tensors: dict) -> dict:
    """The header's "optimizer" entry; the state's tensors are added to `tensors`."""
    state = optimizer.state_dict()
    plain = {}
    for pid, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{pid}/{key}"] = value
            else:
                plain.setdefault(str(pid), {})[key] = value
    return {"param_groups": state["param_groups"], "plain": plain}


def restore_compile(model, header: dict, tensors: dict) -> None:
    """Compile `model` as the header's "compile" entry says and give its optimizer the saved state."""
    compiled = header["compile"]
    spec = compiled.get("optimizer")
    if compiled.get("loss") is None or spec is None:
        return  # custom loss or metric, or a torch optimizer: the user compiles again
    model.compile(optimizer=revive_optimizer(spec), loss=compiled["loss"], metrics=compiled["metrics"],
                  jit_compile=compiled.get("jit_compile", False), auto_scale_loss=compiled.get("auto_scale_loss", True),
                  loss_weights=compiled.get("loss_weights"), weighted_metrics=compiled.get("weighted_metrics"))
    saved = header.get("optimizer")
    if saved is None:
        return
    state: dict = {}
    for name, value in tensors.items():
        if name.startswith("optimizer/"):
            _, pid, key = name.split("/", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in saved["plain"].items():
        state.setdefault(int(pid), {}).update(values)
    model.optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
