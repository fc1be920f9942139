"""What compile's loss, loss_weights, metrics and weighted_metrics mean for a model's outputs, as Keras's
keras/src/trainers/compile_utils.py resolves them (CompileLoss, CompileMetrics).

One output: every metric applies to it, logged under its own name ("mse"); a weighted metric whose name
is taken is logged as "weighted_<name>". Several outputs (a functional model with a list of outputs,
named after the layers that make them): `loss` is one loss for every output, a list with one per output,
or a dict {output name: loss} naming every output (None: that output has no loss); `loss_weights` a list
or dict the same way; `metrics` / `weighted_metrics` a list with one entry (a metric or a list of them)
per output, or a dict by output name. The total loss is sum(weight * loss of each output); the logs add
"<output>_loss" per output (unweighted) and "<output>_<metric>" per metric, as Keras 3 logs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import losses as losses_module
from .. import metrics as metrics_module


@dataclass(frozen=True)
class OutputLoss:
    """The loss of one output: its index among the outputs, function, name in compile, weight, log name."""
    index: int
    fn: Callable
    name: str
    weight: float | None
    log_name: str


def _by_output(value, output_names: list[str], argument: str, allow_partial_dict: bool) -> list:
    """A list/tuple with one entry per output, or a dict by output name, as a list in the outputs' order."""
    n = len(output_names)
    if isinstance(value, dict):
        keys = set(value)
        if (not allow_partial_dict and keys != set(output_names)) or not keys <= set(output_names):
            raise ValueError(f"Expected keys {output_names} in {argument} dict, but found "
                             f"{argument}.keys()={list(value)}. Name the model's outputs (the layers that "
                             f"make them): {output_names}.")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"`{argument}` must have one entry per output: the model has {n} outputs "
                             f"{output_names}, received {len(value)} entries ({value!r}). Pass a list of {n} "
                             f"(None for an output without one) or a dict {{output name: ...}}.")
        return list(value)
    raise ValueError(f"Expected `{argument}` to be a list or dict for a model with {n} outputs {output_names}, "
                     f"received {value!r} of type {type(value).__name__}.")


def _compiled_loss(loss) -> tuple[Callable, str]:
    """losses.get, refusing a Loss object that does not reduce to one number (reduction None or "none"),
    which fit cannot differentiate (Keras fails later, in backward, with "grad can be implicitly created
    only for scalar outputs")."""
    if isinstance(loss, losses_module.Loss) and loss.reduction in (None, "none"):
        raise ValueError(f"compile's loss must reduce to one number, and {type(loss).__name__}(reduction="
                         f"{loss.reduction!r}) gives one value per sample. Leave reduction at its default "
                         "('sum_over_batch_size'), or pass 'sum' or 'mean'; reduction=None is for calling the loss "
                         "yourself, e.g. in a custom train_step.")
    return losses_module.get(loss)


def single_loss(loss, loss_weights) -> tuple[Callable, str, float | None]:
    """(function, name, weight) of compile's loss for a model with one output; Keras accepts [loss] and
    [weight] for it too."""
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    fn, name = _compiled_loss(loss)
    if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
        loss_weights = loss_weights[0]
    if loss_weights is not None and (isinstance(loss_weights, bool) or not isinstance(loss_weights, (int, float))):
        raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a list, "
                         f"tuple, or dict (multiple output case). Received instead: loss_weights="
                         f"{loss_weights!r} of type {type(loss_weights)}.")
    return fn, name, None if loss_weights is None else float(loss_weights)


def output_losses(loss, loss_weights, output_names: list[str]) -> list[OutputLoss]:
    """Keras's CompileLoss for a model with a list of outputs: one OutputLoss per output that has a loss."""
    if isinstance(loss, (list, tuple, dict)):
        per_output = _by_output(loss, output_names, "loss", allow_partial_dict=False)
    else:
        per_output = [loss] * len(output_names)  # Keras broadcasts one loss to every output
    if loss_weights is None:
        weights = [None] * len(output_names)
    elif isinstance(loss_weights, (int, float)) and not isinstance(loss_weights, bool):
        if len(output_names) != 1:
            raise ValueError(f"`loss_weights` must match the number of losses, got {len(output_names)} losses and 1 "
                             f"weight ({loss_weights!r}). Pass a list of {len(output_names)} weights or a dict "
                             f"{{output name: weight}} for the outputs {output_names}.")
        weights = [float(loss_weights)]
    else:
        weights = _by_output(loss_weights, output_names, "loss_weights", allow_partial_dict=True)
    entries = []
    for i, (name, spec, weight) in enumerate(zip(output_names, per_output, weights)):
        if spec is None:
            continue
        fn, loss_name = _compiled_loss(spec)
        entries.append(OutputLoss(i, fn, loss_name, None if weight is None else float(weight), f"{name}_loss"))
    if not entries:
        raise ValueError(f"compile: every output of {output_names} has loss None, so there is nothing to train. "
                         "Give at least one output a loss.")
    return entries


@dataclass(frozen=True)
class CompiledMetric:
    """A compiled metric: the metric, its name in the logs, the output it reads (None: the only one) and
    whether it is weighted by sample_weight."""
    metric: object
    log_name: str
    output: int | None
    weighted: bool


def _as_list(entry) -> list:
    if entry is None:
        return []
    return list(entry) if isinstance(entry, (list, tuple)) else [entry]


def compiled_metrics(metrics, weighted_metrics, output_names: list[str] | None) -> list[CompiledMetric]:
    """Keras's CompileMetrics: each metric with the output it reads and its log name (see the module)."""
    for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
        if value is not None and not isinstance(value, (list, tuple, dict)):
            raise ValueError(f"Expected `{argument}` argument to be a list, tuple, or dict. Received instead: "
                             f"{argument}={value!r} of type {type(value)}. Write {argument}=[{value!r}].")
    result: list[CompiledMetric] = []
    taken: dict[str, int] = {}
    for weighted, value in ((False, metrics), (True, weighted_metrics)):
        if not value:
            continue
        if output_names is None:  # one output: every metric reads it
            groups = [(None, [m for entry in (value.values() if isinstance(value, dict) else value)
                             for m in _as_list(entry)])]
        else:
            per_output = _by_output(value, output_names, "weighted_metrics" if weighted else "metrics",
                                    allow_partial_dict=True)
            groups = [(i, _as_list(entry)) for i, entry in enumerate(per_output)]
        for output, group in groups:
            prefix = "" if output is None else f"{output_names[output]}_"
            for identifier in group:
                metric, name = metrics_module.compile_metric(identifier)
                log_name = prefix + name
                if log_name in taken and weighted:  # Keras: a weighted metric whose name is taken
                    log_name = f"{prefix}weighted_{name}"
                if log_name in taken:  # then the name's second use is "<name>_1", and so on
                    taken[log_name] += 1
                    log_name = f"{log_name}_{taken[log_name] - 1}"
                else:
                    taken[log_name] = 1
                result.append(CompiledMetric(metric, log_name, output, weighted))
    return result
