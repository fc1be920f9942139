"""Every optimizer rnnkit names, after five (later cases: seven) steps, holds Keras 3's weights (issue 18),
and with use_ema and gradient_accumulation_steps Keras's moving averages and accumulators too.

The goldens (tests/fixtures/keras_optimizers.npz) are Keras 3.15.1's own `apply_gradients` on the same
float32 weights and gradients (scripts/make_keras_optimizer_loss_goldens.py); each case's rnnkit spec is
built from the Keras class name and arguments the fixture records (a learning-rate schedule as Keras's
serialized dict), over the Keras paths and with the `exclude_from_weight_decay` the case names, if any.
The wrappers' goldens (LossScaleOptimizer, MultiOptimizer) are test_optimizer_wrapper_goldens.py's. The updates run through `apply_gradients` of a model's optimizer step, so clipping,
accumulation and the EMA are rnnkit's as fit applies them.
"""

import json
import os

import numpy as np
import pytest
import torch

from rnnkit import optimizers
from rnnkit.optimizers.slots import ACCUMULATOR, EMA

from optimizer_helpers import Weights, golden_weights

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
with open(os.path.join(FIXTURES, "keras_optimizers.json")) as f:
    META = json.load(f)
GOLDENS = dict(np.load(os.path.join(FIXTURES, "keras_optimizers.npz")))
N = len(META["shapes"])
TOLERANCE = 2e-6  # float32 on both sides: the largest gap measured is 1.9e-6 (adamw-options)

# Keras's clipnorm clips each gradient tensor by its own norm (keras/src/optimizers/base_optimizer.py
# `_clip_by_norm` per variable; global_clipnorm is the global one), and so does rnnkit's apply_gradients.
XFAIL = {}


def run(case) -> Weights:
    """The case's steps through apply_gradients; the weights holder, with its optimizer."""
    tensors = case.get("tensors", N)
    model = golden_weights(case, [GOLDENS[f"w0/{i}"] for i in range(tensors)])
    for t in range(case.get("steps", META["steps"])):
        for i, p in enumerate(model.weights):
            p.grad = torch.tensor(GOLDENS[f"grad/{t}/{i}"])
        model.apply_gradients()
    return model


def rnnkit_weights(case):
    return [p.detach().numpy() for p in run(case).weights]


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=XFAIL[case["id"]])] if case["id"] in XFAIL else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in META["cases"]])
def test_five_steps_equal_keras(case):
    got = rnnkit_weights(case)
    for i, w in enumerate(got):
        want, start = GOLDENS[f"{case['id']}/{i}"], GOLDENS[f"w0/{i}"]
        assert np.abs(want - start).max() > 0  # every tensor moved
        np.testing.assert_allclose(w, want, rtol=0, atol=TOLERANCE, err_msg=f"{case['id']} tensor {i}")


def test_fixture_covers_every_named_optimizer():
    named = {optimizers.get(n).kind for n in optimizers._BY_NAME}
    covered = {getattr(optimizers, c["class"])().kind for c in META["cases"]}
    assert named <= covered
    accumulating = {getattr(optimizers, c["class"])().kind for c in META["cases"]
                    if c["kwargs"].get("gradient_accumulation_steps")}
    assert named <= accumulating  # each update rule under Keras's iteration count with accumulation


def _slots(key: str):
    return [pytest.param(c, id=c["id"]) for c in META["cases"] if c["kwargs"].get(key)]


@pytest.mark.parametrize("case", _slots("use_ema"))
def test_moving_averages_and_finalized_weights_equal_keras(case):
    model = run(case)
    opt = model.optimizer
    for i, p in enumerate(model.weights):
        np.testing.assert_allclose(opt.keras_slots[p][EMA].numpy(), GOLDENS[f"{case['id']}/average/{i}"],
                                   rtol=0, atol=TOLERANCE, err_msg=f"{case['id']} average {i}")
    # Keras overwrites the weights with the averages on the calls where (iterations + 1) % frequency == 0
    frequency, n = case["kwargs"].get("ema_overwrite_frequency"), case["kwargs"].get("gradient_accumulation_steps", 1)
    last_overwrote = bool(frequency) and ((case["steps"] - 1) // n + 1) % frequency == 0
    opt.finalize_variable_values([p for p in model.weights])
    for i, p in enumerate(model.weights):
        want = GOLDENS[f"{case['id']}/finalized/{i}"]
        assert (np.abs(want - GOLDENS[f"{case['id']}/{i}"]).max() > 0) != last_overwrote
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=0, atol=TOLERANCE, err_msg=f"{case['id']} {i}")


@pytest.mark.parametrize("case", _slots("gradient_accumulation_steps"))
def test_gradient_accumulators_equal_keras(case):
    model = run(case)
    n = case["kwargs"]["gradient_accumulation_steps"]
    pending = case["steps"] % n  # gradients added since the last update
    assert model.optimizer.iterations == case["steps"] // n
    for i, p in enumerate(model.weights):
        want = GOLDENS[f"{case['id']}/accumulator/{i}"]
        assert (np.abs(want).max() > 0) == (pending > 0)
        np.testing.assert_allclose(model.optimizer.keras_slots[p][ACCUMULATOR].numpy(), want, rtol=0,
                                   atol=TOLERANCE, err_msg=f"{case['id']} accumulator {i}")
