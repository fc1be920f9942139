"""Keras's optimizer variables beside the update rule: the moving average of the weights (`use_ema`) and
the gradient accumulators (`gradient_accumulation_steps`), as keras/src/optimizers/base_optimizer.py and
the JAX backend's `_backend_apply_gradients` (keras/src/backend/jax/optimizer.py) keep them.

One apply_gradients call (`training.optimizer_step`), in Keras's order:

1. `accumulate`: with n accumulation steps, every call but each n-th adds the gradients to the
   accumulators and updates nothing; the n-th replaces each gradient by (g + accumulator) / n, zeroes the
   accumulator and updates (clipping, weight decay and the step see the mean gradient).
2. the update, if any: clipping, then optimizer.step() (schedule, weight decay, update rule).
3. `after_apply`: counts the accumulated gradient, then the EMA: average = m * average + (1 - m) * w with
   m = ema_momentum, except m = 0 while Keras's `iterations` (the updates before this call) is 0, so the
   average starts at the weights; every ema_overwrite_frequency-th call (by iterations + 1) the weights
   become the average. The EMA moves on every call, also on calls that only accumulate.

`finalize_variable_values` writes the averages into the weights, as Keras's fit does at its end.

The tensors live in `optimizer.keras_slots` ({param: {"ema_average": ..., "gradient_accumulator": ...}}),
not in `optimizer.state`: torch's optimizers start a parameter's state when they find it empty, and an
accumulator exists before the first update. state_dict() writes them into each parameter's state under
those keys and load_state_dict() takes them out again, so checkpoints carry them. The settings are in each
param group (saved with it): "ema_momentum", "ema_overwrite_frequency", "gradient_accumulation_steps" and
"accumulated_steps", the gradients accumulated since the last update.
"""

from __future__ import annotations

import torch

EMA, ACCUMULATOR = "ema_average", "gradient_accumulator"


def add_slots(optimizer: torch.optim.Optimizer, use_ema: bool, ema_momentum: float,
              ema_overwrite_frequency: int | None, gradient_accumulation_steps: int | None) -> None:
    """Give `optimizer` Keras's EMA and/or gradient accumulation (nothing when both are off)."""
    if not (use_ema or gradient_accumulation_steps):
        return
    optimizer.keras_slots = {}
    for group in optimizer.param_groups:
        if use_ema:
            group["ema_momentum"], group["ema_overwrite_frequency"] = ema_momentum, ema_overwrite_frequency
        if gradient_accumulation_steps:
            group["gradient_accumulation_steps"], group["accumulated_steps"] = gradient_accumulation_steps, 0
    optimizer.register_state_dict_post_hook(_saved_slots)
    optimizer.register_load_state_dict_pre_hook(_loaded_slots)


def apply_count(group: dict) -> int:
    """Keras's `optimizer._iterations`: apply_gradients calls so far (the updates times the accumulation
    steps, plus the gradients accumulated since). A learning-rate schedule reads it."""
    return group.get("iterations", 0) * group.get("gradient_accumulation_steps", 1) + group.get("accumulated_steps", 0)


def _slot(optimizer, p: torch.Tensor, key: str) -> torch.Tensor:
    slots = optimizer.keras_slots.setdefault(p, {})
    if key not in slots:
        slots[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return slots[key]


@torch.no_grad()
def accumulate(optimizer: torch.optim.Optimizer) -> bool:
    """Step 1 of a call: whether this call updates the weights (always, without accumulation)."""
    group = optimizer.param_groups[0]
    n = group.get("gradient_accumulation_steps")
    if not n:
        return True
    update = group["accumulated_steps"] + 1 == n
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is None:
                continue
            acc = _slot(optimizer, p, ACCUMULATOR)
            if update:
                p.grad.add_(acc).div_(n)
                acc.zero_()
            else:
                acc.add_(p.grad)
    return update


@torch.no_grad()
def after_apply(optimizer: torch.optim.Optimizer, updated: bool, iterations: int) -> None:
    """Step 3 of a call; `iterations` is Keras's `optimizer.iterations` before the call (its updates)."""
    for group in optimizer.param_groups:
        if "gradient_accumulation_steps" in group:
            group["accumulated_steps"] = 0 if updated else group["accumulated_steps"] + 1
        if "ema_momentum" not in group:
            continue
        for p in group["params"]:
            average = _slot(optimizer, p, EMA)
            # Keras's float32: m * average + (1 - m) * w, with 1 - m taken in the weights' precision
            m = torch.tensor(group["ema_momentum"] if iterations else 0.0, dtype=p.dtype, device=p.device)
            average.copy_(m * average + (1 - m) * p)
        frequency = group["ema_overwrite_frequency"]
        if frequency and (iterations + 1) % frequency == 0:
            for p in group["params"]:
                p.copy_(optimizer.keras_slots[p][EMA])


@torch.no_grad()
def finalize_variable_values(optimizer: torch.optim.Optimizer) -> None:
    """Keras's `optimizer.finalize_variable_values`: with use_ema, each weight becomes its moving average."""
    for group in optimizer.param_groups:
        if "ema_momentum" in group:
            for p in group["params"]:
                average = optimizer.keras_slots.get(p, {}).get(EMA)
                if average is not None:
                    p.copy_(average)


def _params(groups: list[dict]) -> list:
    return [p for group in groups for p in group["params"]]


def _saved_slots(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    """state_dict post-hook: each parameter's slots beside its state (copies: the state dicts are the live ones)."""
    states = dict(state_dict["state"])
    saved_ids = _params(state_dict["param_groups"])
    for pid, p in zip(saved_ids, _params(optimizer.param_groups)):
        slots = optimizer.keras_slots.get(p)
        if slots:
            states[pid] = {**states.get(pid, {}), **slots}
    state_dict["state"] = states
    return state_dict


def _loaded_slots(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    """load_state_dict pre-hook: the slots back into keras_slots; the rest is torch's state."""
    by_id = dict(zip(_params(state_dict["param_groups"]), _params(optimizer.param_groups)))
    optimizer.keras_slots, states = {}, {}
    for pid, values in state_dict["state"].items():
        p = by_id[pid]
        slots = {k: v.to(device=p.device, dtype=p.dtype).clone() for k, v in values.items() if k in (EMA, ACCUMULATOR)}
        if slots:
            optimizer.keras_slots[p] = slots
        rest = {k: v for k, v in values.items() if k not in (EMA, ACCUMULATOR)}
        if rest:
            states[pid] = rest
    return {**state_dict, "state": states}
