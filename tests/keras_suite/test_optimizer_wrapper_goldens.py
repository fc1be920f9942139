"""LossScaleOptimizer and MultiOptimizer hold Keras 3's weights after seven steps, and Keras's counts.

The goldens ("wrapper_cases" of tests/fixtures/keras_optimizers.json, scripts/keras_optimizer_goldens_more.py)
are Keras 3.15.1's (JAX backend, `stateless_apply`, as its tests do) on the five tensors of the later cases
under Keras paths ("dense/kernel", "embedding/embeddings", ...). A LossScaleOptimizer's gradients come
multiplied by `grad_scale`, and at `inf_steps` one is infinite: Keras skips those steps and halves the
scale. Each case records the weights, every optimizer's `iterations` (a MultiOptimizer's inner ones, then
its own) and a LossScaleOptimizer's final scale.
"""

import json
import os

import numpy as np
import pytest
import torch

from rnnkit import optimizers

from optimizer_helpers import Weights, spec_of

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
with open(os.path.join(FIXTURES, "keras_optimizers.json")) as f:
    META = json.load(f)
GOLDENS = dict(np.load(os.path.join(FIXTURES, "keras_optimizers.npz")))
CASES = [pytest.param(c, id=c["id"]) for c in META["wrapper_cases"]]
TOLERANCE = 2e-6  # as test_optimizer_goldens.py


def _inner(cls, kwargs):
    if cls == "MultiOptimizer":
        return _multi(kwargs)
    return spec_of({"class": cls, "kwargs": kwargs})


def _multi(case):
    chosen = {pattern: _inner(*inner) for pattern, inner in case["map"].items()}
    return optimizers.MultiOptimizer(optimizers.OptimizerMap(_inner(*case["default"]), chosen), **case["kwargs"])


def spec(case):
    if case["class"] == "LossScaleOptimizer":
        return optimizers.LossScaleOptimizer(_inner(*case["inner"]), **case["kwargs"])
    return _multi(case)


def run(case) -> Weights:
    weights = Weights([GOLDENS[f"w0/{i}"] for i in range(case["tensors"])], spec(case), case["paths"])
    for t in range(case["steps"]):
        for i, p in enumerate(weights.weights):
            g = GOLDENS[f"grad/{t}/{i}"] * np.float32(case.get("grad_scale", 1.0))
            if t in case.get("inf_steps", []) and i == 1:
                g = g.copy()
                g[0] = np.inf
            p.grad = torch.tensor(g)
        weights.apply_gradients()
    return weights


@pytest.mark.parametrize("case", CASES)
def test_seven_steps_equal_keras(case):
    weights = run(case)
    for i, w in enumerate(weights.values()):
        want, start = GOLDENS[f"{case['id']}/{i}"], GOLDENS[f"w0/{i}"]
        assert np.abs(want - start).max() > 0  # every tensor moved
        np.testing.assert_allclose(w, want, rtol=0, atol=TOLERANCE, err_msg=f"{case['id']} tensor {i}")


@pytest.mark.parametrize("case", CASES)
def test_iteration_counts_and_loss_scale_equal_keras(case):
    weights = run(case)
    optimizer = weights.optimizer
    counts = [o.iterations for o in getattr(optimizer, "optimizers", [])] + [optimizer.iterations]
    assert counts == GOLDENS[f"{case['id']}/iterations"].tolist()
    if case["class"] == "LossScaleOptimizer":
        assert weights.loss_scaler.get_scale() == float(GOLDENS[f"{case['id']}/scale"])
        assert len(case["inf_steps"]) == 0 or counts[-1] < case["steps"]  # the non-finite steps were skipped


def _same_config(ours, keras):
    """Keras's config: its automatic names are numbered ("adam_3"), its rates float32."""
    if isinstance(keras, dict):
        assert set(ours) == set(keras)
        for key, want in keras.items():
            if key == "name" and isinstance(want, str) and ours[key] != want:
                assert ours[key] == want.rsplit("_", 1)[0]
            else:
                _same_config(ours[key], want)
    elif isinstance(keras, float):
        assert ours == pytest.approx(keras, rel=1e-7)
    else:
        assert ours == keras


@pytest.mark.parametrize("case", CASES)
def test_get_config_equals_keras(case):
    ours = spec(case)
    _same_config(ours.get_config(), META["configs"][case["id"]])
    _same_config(optimizers.deserialize({"class_name": case["class"], "config": META["configs"][case["id"]]})
                 .get_config(), META["configs"][case["id"]])
