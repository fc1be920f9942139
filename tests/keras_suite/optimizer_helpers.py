"""Bare weights with a model's optimizer step, for the optimizer ports in this folder.

Keras's optimizer tests call `optimizer.apply_gradients(zip(grads, variables))`; here `apply(weights, grads)`
gives each weight its gradient and calls `apply_gradients` of a model's optimizer step, where rnnkit clips,
accumulates, updates and keeps the moving average as fit does.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, optimizers, schedules
from rnnkit.training.optimizer_step import OptimizerStep, _clip


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


# Keras's test_clip_norm / test_clip_value (one case each in every *_test.py): a gradient of [100, 100].
CLIPPING = pytest.mark.parametrize("kwargs, clipped", [(dict(clipnorm=1), [2**0.5 / 2, 2**0.5 / 2]),
                                                       (dict(clipvalue=1), [1.0, 1.0])],
                                   ids=["clip_norm", "clip_value"])


def assert_clips(spec, clipped) -> None:
    """The gradient [100, 100] after `spec`'s clipping equals `clipped` (Keras's numbers)."""
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([100.0, 100.0])
    _clip(spec, [p])
    np.testing.assert_allclose(p.grad.numpy(), clipped, rtol=1e-6)


def assert_golden_run(spec, golden) -> None:
    """Keras's test_correctness_with_golden: ten weights at 1, one step with gradient 0.01, then before
    each further step with gradients 0.1 ... 1.0 the weights equal the next row of `golden` (Keras's
    tolerance, 5e-4)."""
    weights = Weights([np.ones(10)], spec)
    apply(weights, [np.full((10,), 0.01)])
    for expected in np.asarray(golden):
        np.testing.assert_allclose(weights.values()[0], expected, rtol=5e-4, atol=5e-4)
        apply(weights, [np.arange(0.1, 1.1, 0.1)])


def lstm_data(n=20):
    """A small sequence regression set (n, 4, 2) -> (n, 1) for the model-level optimizer tests."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4, 2)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def lstm_model(optimizer):
    """LSTM(3) -> Dense(1) on lstm_data, the same weights every time, compiled with `optimizer` and mse."""
    torch.manual_seed(0)
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1)])
    model.compile(optimizer, "mse")
    return model
