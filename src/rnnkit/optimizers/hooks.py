"""What rnnkit adds to a torch optimizer to make it behave as Keras's: the learning rate a schedule gives
each iteration, the iteration count, Keras's epsilon for Adam, decoupled weight decay, and Keras's
attributes (`learning_rate`, `iterations`, `finalize_variable_values`)."""

from __future__ import annotations

import re

import torch

from .. import schedules
from .keras_variable import tensor_name
from .slots import apply_count, finalize_variable_values

FUNCTION_FIXED = ("This optimizer was created with a function as its `learning_rate`, which gives each update its "
                  "rate, hence its learning rate is not settable. Make the function return the rate you want, "
                  "or instantiate the optimizer with a float `learning_rate` argument.")
SCHEDULE_FIXED = ("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                  "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                  "to be settable, you should instantiate the optimizer with a float `learning_rate` argument.")


class CalledEachStep:
    """A learning rate given as a function of no arguments (Keras takes one: `SGD(learning_rate=lambda: 0.1)`),
    as a schedule: each update's rate is what the function returns when the update is made."""

    def __init__(self, function):
        self.function = function

    def __call__(self, step=None) -> float:
        value = self.function()
        try:
            return float(value)
        except (TypeError, ValueError):
            raise TypeError(f"The learning-rate function {self.function!r} returned {value!r}; it must return a "
                            "number (the rate of the update about to be made).") from None


# -- learning-rate schedules on torch optimizers --------------------------------------------------------------
def follow_schedule(optimizer: torch.optim.Optimizer, schedule: schedules.LearningRateSchedule) -> None:
    """Make `optimizer` take schedule(calls) as its learning rate before every step, as Keras's optimizer
    does (with `count_iterations`, which counts the steps): `slots.apply_count`, the apply_gradients calls
    so far, which are the updates unless gradients are accumulated."""
    optimizer.learning_rate_schedule = schedule
    for group in optimizer.param_groups:
        group["lr"] = float(schedule(apply_count(group)))


def count_iterations(optimizer: torch.optim.Optimizer) -> None:
    """Count the updates in each param group ("iterations"), as Keras's optimizer.iterations does; the
    count is in the optimizer's state_dict, so a checkpoint resumes it (and a schedule) where it was."""
    for group in optimizer.param_groups:
        group.setdefault("iterations", 0)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: _before_step(opt))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: _rest_epsilon(opt))
    optimizer.register_state_dict_post_hook(_saved_epsilon)


# Keras's Adam adds epsilon to sqrt(v) before the bias correction (keras/src/optimizers/adam.py: the step
# is lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)); torch's Adam divides by
# sqrt(v / (1 - b2^t)) + eps, which is Keras's with eps = epsilon / sqrt(1 - b2^t). A param group rnnkit
# built keeps Keras's epsilon as "keras_epsilon"; before each update "eps" becomes that step's value: a
# float for torch's step (the fused kernel takes floats), a 0-dim tensor for the compiled step
# (training/compiled.py passes it into the graph, where a new float each step would recompile). At rest
# (and in state_dict) "eps" is Keras's epsilon.
def _step_epsilon(group: dict) -> float:
    return group["keras_epsilon"] / (1.0 - group["betas"][1] ** group["iterations"]) ** 0.5


def _before_step(optimizer: torch.optim.Optimizer) -> None:
    advance_schedule(optimizer)
    for group in optimizer.param_groups:
        if "keras_epsilon" in group:
            group["eps"] = _step_epsilon(group)


def _rest_epsilon(optimizer: torch.optim.Optimizer) -> None:
    for group in optimizer.param_groups:
        if "keras_epsilon" in group:
            group["eps"] = group["keras_epsilon"]


def _saved_epsilon(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    for group in state_dict["param_groups"]:  # copies of the groups: after a compiled step "eps" is a tensor
        if "keras_epsilon" in group:
            group["eps"] = group["keras_epsilon"]
    return state_dict


def decay_weights(optimizer: torch.optim.Optimizer, weight_decay: float | None) -> None:
    """Keras's weight decay (keras/src/optimizers/base_optimizer.py `_apply_weight_decay`): before each update,
    every weight with a gradient becomes w - w * weight_decay * lr, lr the rate of this step (the hook runs
    after count_iterations's, which sets a schedule's rate). The group keeps it as "keras_weight_decay"
    (a group that set its own, as Muon's two do, keeps that); "keras_no_decay" lists the positions in the
    group of the weights `exclude_from_decay` leaves out."""
    if weight_decay:
        for group in optimizer.param_groups:
            group.setdefault("keras_weight_decay", weight_decay)
    if any(group.get("keras_weight_decay") for group in optimizer.param_groups):
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: _decay(opt))


def exclude_from_decay(optimizer: torch.optim.Optimizer, paths: dict, names: list[str] | None,
                       tensors: set[int] | None) -> None:
    """Keras's `exclude_from_weight_decay`: the tensors whose id is in `tensors`, and those whose Keras name
    (the last part of their path) one of the `names` patterns finds, are not decayed."""
    pattern = re.compile("|".join(sorted(set(names)))) if names else None
    for group in optimizer.param_groups:
        skip = [i for i, p in enumerate(group["params"])
                if id(p) in (tensors or ()) or (pattern is not None and pattern.search(tensor_name(paths[p])))]
        if skip:
            group["keras_no_decay"] = skip


@torch.no_grad()
def _decay(optimizer: torch.optim.Optimizer) -> None:
    for group in optimizer.param_groups:
        wd = group.get("keras_weight_decay")
        if wd:
            factor = wd * float(group["lr"])
            skip = group.get("keras_no_decay", ())
            for i, p in enumerate(group["params"]):
                if p.grad is not None and i not in skip:
                    p.sub_(p * factor)


def advance_schedule(optimizer: torch.optim.Optimizer) -> None:
    """Before one update: the learning rate for this iteration (with a schedule), and the iteration
    counted where the optimizer counts them (those rnnkit built). The compiled step, which updates
    without optimizer.step(), calls it."""
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    for group in optimizer.param_groups:
        if schedule is not None:  # Keras's schedule reads apply_gradients calls, accumulating ones too
            group["lr"] = float(schedule(apply_count(group)))
        if schedule is not None or "iterations" in group:
            group["iterations"] = group.get("iterations", 0) + 1
        if "keras_epsilon" in group and "iterations" in group:  # the compiled step's eps, see _step_epsilon
            group["eps"] = torch.tensor(_step_epsilon(group))


def step_undone(optimizer: torch.optim.Optimizer) -> None:
    """Take back the count advance_schedule made for an update that did not happen."""
    for group in optimizer.param_groups:
        if "iterations" in group:
            group["iterations"] -= 1


class KerasAttributes:
    """Keras's optimizer attributes on a torch optimizer: `learning_rate` (also `lr`), read and set as
    Keras's are (a schedule's current value; setting it under a schedule is a TypeError), `iterations`,
    the number of updates applied, and `finalize_variable_values`."""

    @property
    def learning_rate(self) -> float:
        return current_learning_rate(self)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        assign_learning_rate(self, float(value))

    lr = learning_rate

    @property
    def iterations(self) -> int:
        return int(self.param_groups[0].get("iterations", 0))

    def finalize_variable_values(self, var_list=None) -> None:
        """Keras's: with use_ema, the weights become their moving averages (fit calls it at its end).
        `var_list`, if given, is the weights this optimizer updates (Keras passes the trainable weights)."""
        params = [p for group in self.param_groups for p in group["params"]]
        if var_list is not None and len(list(var_list)) != len(params):
            raise ValueError(f"The length of model variables ({len(list(var_list))}) to override does not match "
                             f"the length of model variables stored in the optimizer ({len(params)}). Please "
                             "check if the optimizer was called on your model.")
        finalize_variable_values(self)


_FLAVOURED: dict[type, type] = {}


def torch_class(optimizer: torch.optim.Optimizer) -> type:
    """The torch class of `optimizer` (torch.optim.Adam for rnnkit's Keras-flavoured Adam)."""
    return getattr(type(optimizer), "torch_class", type(optimizer))


def keras_flavoured(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """`optimizer`, now also an instance of a subclass of its own class with `KerasAttributes`; its
    arithmetic, state_dict and isinstance checks are unchanged."""
    cls = type(optimizer)
    if not isinstance(optimizer, KerasAttributes):
        if cls not in _FLAVOURED:
            _FLAVOURED[cls] = type(cls.__name__, (KerasAttributes, cls), {
                "__module__": cls.__module__, "__qualname__": cls.__qualname__, "torch_class": cls})
        optimizer.__class__ = _FLAVOURED[cls]
    return optimizer


def current_learning_rate(optimizer: torch.optim.Optimizer) -> float:
    """The learning rate a torch optimizer takes next, as Keras's `optimizer.learning_rate` reads it (a
    schedule's value at the current iteration)."""
    group = optimizer.param_groups[0]
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    return float(schedule(apply_count(group))) if schedule is not None else float(group["lr"])


def assign_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Keras's `optimizer.learning_rate = value` on every param group; a TypeError under a schedule."""
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    if schedule is not None:
        raise TypeError(FUNCTION_FIXED if isinstance(schedule, CalledEachStep) else SCHEDULE_FIXED)
    for group in optimizer.param_groups:
        group["lr"] = float(value)
