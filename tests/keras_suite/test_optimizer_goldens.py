"""Every optimizer rnnkit names, after five steps, holds Keras 3's weights (issue 18).

The goldens (tests/fixtures/keras_optimizers.npz) are Keras 3.15.1's own `apply_gradients` on the same
float32 weights and gradients (scripts/make_keras_optimizer_loss_goldens.py); each case's rnnkit spec is
built from the Keras class name and arguments the fixture records. The updates run through
`apply_gradients` of a model's optimizer step, so clipping is rnnkit's as fit applies it.
"""

import json
import os

import numpy as np
import pytest
import torch

from rnnkit import optimizers
from rnnkit.training.optimizer_step import OptimizerStep

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
with open(os.path.join(FIXTURES, "keras_optimizers.json")) as f:
    META = json.load(f)
GOLDENS = dict(np.load(os.path.join(FIXTURES, "keras_optimizers.npz")))
N = len(META["shapes"])
TOLERANCE = 1e-5  # float32 on both sides

# Keras's clipnorm clips each gradient tensor by its own norm (keras/src/optimizers/base_optimizer.py
# `_clip_by_norm` per variable; global_clipnorm is the global one), and so does rnnkit's apply_gradients.
XFAIL = {}


class _Weights(OptimizerStep, torch.nn.Module):
    """Bare weights with a model's optimizer step (apply_gradients: clipping, then optimizer.step())."""

    def __init__(self, arrays, spec):
        torch.nn.Module.__init__(self)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)) for a in arrays])
        self.optimizer_config, self._optimizer, self._loss_scaler = spec, None, None
        self.auto_scale_loss, self.name = False, "weights"


def rnnkit_weights(case):
    spec = getattr(optimizers, case["class"])(**case["kwargs"])
    model = _Weights([GOLDENS[f"w0/{i}"] for i in range(N)], spec)
    for t in range(META["steps"]):
        for i, p in enumerate(model.weights):
            p.grad = torch.tensor(GOLDENS[f"grad/{t}/{i}"])
        model.apply_gradients()
    return [p.detach().numpy() for p in model.weights]


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
