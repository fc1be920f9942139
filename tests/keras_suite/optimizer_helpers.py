"""Bare weights with a model's optimizer step, for the optimizer ports in this folder.

Keras's optimizer tests call `optimizer.apply_gradients(zip(grads, variables))`; here `apply(weights, grads)`
gives each weight its gradient and calls `apply_gradients` of a model's optimizer step, where rnnkit clips,
accumulates, updates and keeps the moving average as fit does.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit import optimizers, schedules
from rnnkit.training.optimizer_step import OptimizerStep


class Weights(OptimizerStep, torch.nn.Module):
    """Weights (float32 arrays) and an optimizer spec, as a compiled model holds them."""

    def __init__(self, arrays, spec):
        torch.nn.Module.__init__(self)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(np.asarray(a, np.float32)))
                                               for a in arrays])
        self.optimizer_config, self._optimizer, self._loss_scaler = spec, None, None
        self.auto_scale_loss, self.name = False, "weights"

    def values(self) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in self.weights]


def apply(weights: Weights, grads) -> None:
    """One apply_gradients call with these gradients (one per weight)."""
    for p, g in zip(weights.weights, grads):
        p.grad = torch.tensor(np.asarray(g, np.float32))
    weights.apply_gradients()


def spec_of(case: dict) -> optimizers.OptimizerSpec:
    """The rnnkit spec for a golden case of tests/fixtures/keras_optimizers.json: its Keras class name and
    arguments, a learning-rate schedule given as Keras's serialized dict."""
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.deserialize(kwargs["learning_rate"])
    return getattr(optimizers, case["class"])(**kwargs)
