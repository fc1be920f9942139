"""The update half of a train step: the optimizer over the trainable weights, the loss scale of
"mixed_float16" (Keras's LossScaleOptimizer, `rnnkit.mixed_precision`) and `apply_gradients`, which
clips, steps and applies the weights' constraints.

A custom train_step calls `self.scale_loss(loss).backward()` and then `self.apply_gradients()`.
"""

from __future__ import annotations

import torch

from .. import mixed_precision, optimizers
from ..layers.regularization import apply_constraints
from ..optimizers import slots as optimizer_slots
from .loss_scale_state import keep_loss_scale
from .variable_paths import variable_paths

Tensor = torch.Tensor


class OptimizerStep:
    """The optimizer, the loss scale and apply_gradients; Steps inherits it."""

    @property
    def trainable_weights(self) -> list[torch.nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer over the trainable weights, made on first use (after the weights exist)."""
        if self._optimizer is None and self.optimizer_config is not None:
            if any(getattr(m, "built", True) is False for m in self.modules()):
                raise RuntimeError("The optimizer is made over the model's weights, and some are not created yet. "
                                   "Call the model on a batch first (train_step does: forward, then optimizer), "
                                   "or give Input a shape.")
            weights = self.trainable_weights
            if not weights:
                raise ValueError(f"{self.name} has no trainable weights, so there is nothing to fit.")
            self._optimizer = optimizers.build(self.optimizer_config, weights, self.variable_paths())
            keep_loss_scale(self, self._optimizer)
        return self._optimizer

    def variable_paths(self) -> dict[torch.nn.Parameter, str]:
        """Each weight's Keras-style path ("sequential/dense_1/kernel", `training.variable_paths`), which
        Muon's exclude_layers, MultiOptimizer's OptimizerMap and exclude_from_weight_decay match."""
        return variable_paths(self)

    def keras_root_scope(self) -> str | None:
        """The first part of the Keras paths of this model's weights when it is the root: none for a
        functional model (a weight's path starts at its layer, as in Keras); Sequential gives its name."""
        return None

    @property
    def optimizer_built(self) -> bool:
        return self._optimizer is not None

    @property
    def loss_scaler(self) -> torch.amp.GradScaler | None:
        """The dynamic loss scale (a torch.amp.GradScaler): with a LossScaleOptimizer its initial_scale and
        dynamic_growth_steps, under any policy; else Keras's defaults while the policy is "mixed_float16"
        and compile's auto_scale_loss is True (Keras wraps the optimizer in a LossScaleOptimizer then);
        None otherwise."""
        settings = optimizers.loss_scale_settings(self.optimizer_config)
        if settings is None:
            if not (self.auto_scale_loss and mixed_precision.needs_loss_scaling(self.dtype_policy)):
                return None
            settings = (mixed_precision.INITIAL_LOSS_SCALE, mixed_precision.LOSS_SCALE_GROWTH_STEPS)
        kind = self.data_device().type
        made = self._loss_scaler  # (device type, scaler)
        if made is None or made[0] != kind:  # new, or the model moved to another kind of device: same scale
            scale = settings[0] if made is None else made[1].get_scale()
            made = self._loss_scaler = (kind, mixed_precision.loss_scaler(kind, scale, settings[1]))
        return made[1]

    def scale_loss(self, loss: Tensor) -> Tensor:
        """The loss to call backward() on (Keras's `optimizer.scale_loss`): multiplied by the dynamic loss
        scale (LossScaleOptimizer, or "mixed_float16"), else by the optimizer's loss_scale_factor if it has
        one, else as it is. A custom train_step calls `self.scale_loss(loss).backward()` and then
        `self.apply_gradients()`, which divides the gradients again."""
        scaler = self.loss_scaler
        if scaler is not None:
            return scaler.scale(loss)
        factor = getattr(self.optimizer_config, "loss_scale_factor", None)
        return loss if factor is None else loss * factor

    def apply_gradients(self) -> None:
        """Keras's `optimizer.apply_gradients` on the gradients backward left: clip them as compiled
        (clipnorm, global_clipnorm, clipvalue), take one optimizer step, apply the weights' constraints.
        With gradient_accumulation_steps=n the step is taken every n-th call with the mean of the last n
        gradients (the other calls only accumulate); with use_ema the moving average of the weights moves
        on every call (`optimizers.slots`). In a distributed fit the gradients are first averaged across
        ranks (training.distributed). Under a dynamic loss scale they are divided by it first, and nothing
        is applied if one is not finite (the scale halves); under a loss_scale_factor they are divided by
        that. A MultiOptimizer's inner optimizers each do all this for their own weights."""
        spec, optimizer, scaler = self.optimizer_config, self.optimizer, self.loss_scaler
        weights = self.trainable_weights
        shard = self.__dict__.get("_shard")
        if shard is not None:  # scaled gradients: a rank's inf reaches every rank, so all skip together
            shard.average_gradients(weights)
        if scaler is not None:
            scaler.unscale_(optimizer)  # clipping sees the true gradients
            if not _finite(weights):  # Keras's LossScaleOptimizer skips the whole apply
                scaler.update()
                return
        else:
            _unscale(weights, getattr(spec, "loss_scale_factor", None))
        parts = optimizers.update_parts(spec, optimizer)
        for part_spec, part in parts:
            _apply_part(part_spec, part, weights if len(parts) == 1 else _weights_of(part, weights))
        if hasattr(optimizer, "counted"):
            optimizer.counted()
        if scaler is not None:
            scaler.update()
        apply_constraints(self)  # kernel_constraint=... projects the updated weights, as Keras's optimizer


def _apply_part(spec, optimizer: torch.optim.Optimizer, weights: list[torch.nn.Parameter]) -> None:
    """One optimizer's share of apply_gradients: accumulate, clip, step, move the EMA."""
    slots = getattr(optimizer, "keras_slots", None) is not None  # use_ema or gradient_accumulation_steps
    iterations = getattr(optimizer, "iterations", 0)
    update = optimizer_slots.accumulate(optimizer) if slots else True
    if update:
        _clip(spec, weights)
        optimizer.step()
    if slots:
        optimizer_slots.after_apply(optimizer, update, iterations)


def _weights_of(optimizer: torch.optim.Optimizer, weights: list[torch.nn.Parameter]) -> list[torch.nn.Parameter]:
    """The weights `optimizer` updates, in the model's order."""
    mine = {id(p) for group in optimizer.param_groups for p in group["params"]}
    return [p for p in weights if id(p) in mine]


@torch.no_grad()
def _unscale(weights: list[torch.nn.Parameter], factor: float | None) -> None:
    """Keras's `loss_scale_factor`: the gradients of a loss multiplied by it, divided by it again."""
    if factor is not None:
        for p in weights:
            if p.grad is not None:
                p.grad.div_(factor)


def _finite(weights: list[torch.nn.Parameter]) -> bool:
    grads = [p.grad for p in weights if p.grad is not None]
    return not grads or bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())


def _clip(spec, weights: list[torch.nn.Parameter]) -> None:
    """Keras's `_clip_gradients`: clipnorm, global_clipnorm or clipvalue (at most one is set)."""
    if getattr(spec, "clipnorm", None):
        # As Keras: each weight's gradient by its own norm, g * c / max(|g|, c) (not one global norm).
        # rnnkit keeps a GRU's one Keras bias as two tensors, each clipped by its own norm.
        for p in weights:
            if p.grad is not None:
                p.grad.mul_(spec.clipnorm / torch.linalg.vector_norm(p.grad).clamp(min=spec.clipnorm))
    if getattr(spec, "global_clipnorm", None):
        # Keras's clip_by_global_norm: every gradient times c / max(global norm, c); NaN if the norm is not finite
        grads = [p.grad for p in weights if p.grad is not None]
        if grads:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
            scale = spec.global_clipnorm / norm.clamp(min=spec.global_clipnorm) + (norm - norm)
            torch._foreach_mul_(grads, scale)
    if getattr(spec, "clipvalue", None):
        torch.nn.utils.clip_grad_value_(weights, spec.clipvalue)
