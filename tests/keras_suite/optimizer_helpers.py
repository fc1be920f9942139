"""Bare weights with a model's optimizer step, for the optimizer ports in this folder.

Keras's optimizer tests call `optimizer.apply_gradients(zip(grads, variables))`; here `apply(weights, grads)`
gives each weight its gradient and calls `apply_gradients` of a model's optimizer step, where rnnkit clips,
accumulates, updates and keeps the moving average as fit does.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, mixed_precision, optimizers, schedules
from rnnkit.training.optimizer_step import OptimizerStep, _clip


class Weights(OptimizerStep, torch.nn.Module):
    """Weights (float32 arrays) and an optimizer spec, as a compiled model holds them. `paths` are the
    weights' Keras paths (Keras's test variables: "variable", or "dense/kernel" under a name scope)."""

    def __init__(self, arrays, spec, paths=None):
        torch.nn.Module.__init__(self)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(np.asarray(a, np.float32)))
                                               for a in arrays])
        self.optimizer_config, self._optimizer, self._loss_scaler = spec, None, None
        self.auto_scale_loss, self.name, self.dtype_policy = False, "weights", mixed_precision.Policy("float32")
        self._paths = list(paths) if paths is not None else ["variable"] * len(self.weights)

    def variable_paths(self):
        return dict(zip(self.weights, self._paths))

    def data_device(self):
        return torch.device("cpu")

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


def golden_weights(case: dict, arrays) -> Weights:
    """The weights of a golden case with its spec (`spec_of`), under the case's Keras paths if it names
    them, and its `exclude_from_weight_decay` (var_names, and var_list as tensor indices) if it has one."""
    spec = spec_of(case)
    weights = Weights(arrays, spec, case.get("paths"))
    exclude = case.get("exclude") or {}
    if exclude.get("var_names") or exclude.get("tensors"):
        spec.exclude_from_weight_decay(var_list=[weights.weights[i] for i in exclude.get("tensors") or []],
                                       var_names=exclude.get("var_names"))
    return weights


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


def assert_weight_decay(make, check_first: bool = True) -> None:
    """Keras's test_weight_decay (in most *_test.py): three optimizers made by `make()` (learning rate 1,
    weight_decay 0.004) apply a zero gradient. var1 goes through all three (0.996 ** 3 of its 2.0 with
    `check_first`); var2, named "exclude", is left out of the second's decay by var_names, var3 out of the
    third's by var_list: both stay 2.0."""
    first = Weights([2.0], make())
    apply(first, [0.0])
    spec = make()
    spec.exclude_from_weight_decay(var_names=["exclude"])
    second = Weights([first.values()[0], 2.0], spec, ["variable", "exclude"])
    apply(second, [0.0, 0.0])
    spec = make()
    third = Weights([second.values()[0], 2.0], spec)
    spec.exclude_from_weight_decay(var_list=[third.weights[1]])
    apply(third, [0.0, 0.0])
    var1, var3 = third.values()
    if check_first:
        assert float(var1) == pytest.approx(1.9760959, abs=1e-6)
    assert float(second.values()[1]) == pytest.approx(2.0, abs=1e-6)
    assert float(var3) == pytest.approx(2.0, abs=1e-6)


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
