"""Keras 3's ScheduleFreeAdamW update rule on torch (keras/src/optimizers/schedule_free_adamw.py;
Defazio et al., 2024).

The weights the model computes with are y, an interpolation between z (state `momentum`, where the
gradient steps land) and x, the running average of the z's. Each step, with t the step and lr warmed
up as lr * min(t / warmup_steps, 1) when warmup_steps > 0:

    v = beta_2 v + (1 - beta_2) g^2                    (state `velocity`)
    z = z - lr g / (sqrt(v / (1 - beta_2^t)) + epsilon)
    x_old = (y - (1 - beta_1) z_old) / beta_1          (x from the weights and the z before this step)
    x = (1 - 1/t) x_old + z / t
    y = (1 - beta_1) z + beta_1 x

z starts at the weights as they are when the optimizer is made (Keras's `build`), before any weight
decay. x_old uses the z of before the step, as Keras's JAX backend computes it (and the paper); Keras's
torch backend reads the already-updated z there (its `momentum.value` is the tensor assign_sub then
changes in place), so it steps slightly differently from Keras on JAX.
"""

from __future__ import annotations

import torch

from ..keras_optimizers import _PerParameter


class ScheduleFreeAdamW(_PerParameter):
    """Keras's ScheduleFreeAdamW; per-parameter state `momentum` (z), `velocity` (v) and `step`."""

    def __init__(self, params, lr=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                                      warmup_steps=warmup_steps))
        for group in self.param_groups:  # z starts at the weights now, as Keras's build copies them
            for p in group["params"]:
                state = self.state[p]
                state["step"] = torch.tensor(0.0)
                self._init_state(p, state, group)

    def _init_state(self, p, state, group):
        state["momentum"] = p.detach().clone(memory_format=torch.preserve_format)
        state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _update(self, p, g, state, group):
        dtype = p.dtype
        t = state["step"].to(dtype=dtype, device=p.device)
        lr, beta_1, beta_2, warmup = (torch.tensor(group[k], dtype=dtype, device=p.device)
                                      for k in ("lr", "beta_1", "beta_2", "warmup_steps"))
        if group["warmup_steps"] > 0:  # Keras casts everything to the weights' dtype first
            lr = lr * torch.clamp(t / warmup, max=1.0)
        z, v = state["momentum"], state["velocity"]
        z_old = z.clone()
        bias_correction_2 = 1 - beta_2 ** t
        v.add_((g * g - v) * (1 - beta_2))
        denom = torch.sqrt(v / bias_correction_2) + group["epsilon"]
        z.sub_((lr * g) / denom)
        weight = 1.0 / t
        x_old = (p - (1 - beta_1) * z_old) / beta_1
        x_new = (1 - weight) * x_old + weight * z
        p.copy_((1 - beta_1) * z + beta_1 * x_new)
