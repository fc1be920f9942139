"""Every loss rnnkit names equals Keras 3's on fixed inputs, with and without sample_weight (issue 18).

The goldens (tests/fixtures/keras_losses.npz) are Keras 3.15.1's loss objects on 2-D (B, C) and 3-D
(B, T, C) inputs, reduced as Keras reduces ("sum_over_batch_size", "sum", None), written by
scripts/make_keras_optimizer_loss_goldens.py. Each case's rnnkit loss is the class of the same name
with the same arguments (LossFunctionWrapper's "fn" the function of that name); the names compile takes
are checked against the function Keras resolves. CTC and Circle, whose labels are not shaped like their
predictions, each have their own batch and sample weights ("own_input_cases"), reduced every way Keras
reduces (with "mean_with_sample_weight").
"""

import json
import os

import numpy as np
import pytest
import torch

from rnnkit import losses

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
with open(os.path.join(FIXTURES, "keras_losses.json")) as f:
    META = json.load(f)
GOLDENS = dict(np.load(os.path.join(FIXTURES, "keras_losses.npz")))
RANKS = ["2d", "3d"]
TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def _inputs(case, rank):
    return (torch.tensor(GOLDENS[f"{rank}/{case['inputs']}/y_true"]),
            torch.tensor(GOLDENS[f"{rank}/{case['inputs']}/y_pred"]))


def _loss(case, **extra):
    kwargs = dict(case["kwargs"], **extra)
    if "fn" in kwargs:
        kwargs["fn"] = getattr(losses, kwargs["fn"])
    return getattr(losses, case["class"])(**kwargs)


CASES = [pytest.param(c, r, id=f"{c['id']}-{r}") for c in META["cases"] for r in RANKS]
OWN_CASES = [pytest.param(c, id=c["id"]) for c in META["own_input_cases"]]


@pytest.mark.parametrize("case,rank", CASES)
def test_loss_object_equals_keras(case, rank):
    y_true, y_pred = _inputs(case, rank)
    weight = torch.tensor(GOLDENS[f"{rank}/sample_weight"])
    key = f"{case['id']}/{rank}"
    loss = _loss(case)
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), GOLDENS[f"{key}/value"], **TOLERANCE)
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=weight).numpy(), GOLDENS[f"{key}/weighted"],
                               **TOLERANCE)
    per_sample = _loss(case, reduction=None)
    np.testing.assert_allclose(per_sample(y_true, y_pred).numpy(), GOLDENS[f"{key}/none"], **TOLERANCE)
    summed = _loss(case, reduction="sum")
    np.testing.assert_allclose(summed(y_true, y_pred).numpy(), GOLDENS[f"{key}/sum"], **TOLERANCE)


@pytest.mark.parametrize("case,rank", [p for p in CASES if not p.values[0]["kwargs"]])
def test_loss_by_name_equals_keras(case, rank):
    """compile's path: the function by name, then compute_loss's weighting (built-in losses weigh themselves)."""
    y_true, y_pred = _inputs(case, rank)
    fn, _ = losses.get(case["id"].split("-")[0])
    weight = torch.tensor(GOLDENS[f"{rank}/sample_weight"])
    key = f"{case['id']}/{rank}"
    np.testing.assert_allclose(fn(y_true, y_pred).numpy(), GOLDENS[f"{key}/value"], **TOLERANCE)
    np.testing.assert_allclose(fn(y_true, y_pred, weight).numpy(), GOLDENS[f"{key}/weighted"], **TOLERANCE)


@pytest.mark.parametrize("case,rank", CASES)
def test_loss_object_in_compile_equals_keras(case, rank):
    """compile(loss=<object>): losses.get gives per-sample values, which reduce_weighted weighs."""
    y_true, y_pred = _inputs(case, rank)
    fn, _ = losses.get(_loss(case))
    weight = torch.tensor(GOLDENS[f"{rank}/sample_weight"])
    got = losses.reduce_weighted(fn(y_true, y_pred), weight)
    np.testing.assert_allclose(got.numpy(), GOLDENS[f"{case['id']}/{rank}/weighted"], **TOLERANCE)


def _own_inputs(case):
    return (torch.tensor(GOLDENS[f"{case['inputs']}/{key}"]) for key in ("y_true", "y_pred", "sample_weight"))


@pytest.mark.parametrize("case", OWN_CASES)
def test_own_input_loss_object_equals_keras(case):
    y_true, y_pred, weight = _own_inputs(case)
    key = f"{case['id']}/own"
    loss = _loss(case)
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), GOLDENS[f"{key}/value"], **TOLERANCE)
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=weight).numpy(), GOLDENS[f"{key}/weighted"],
                               **TOLERANCE)
    for reduction in META["own_reductions"]:  # each with the sample weights
        reduced = _loss(case, reduction=None if reduction == "none" else reduction)(y_true, y_pred, weight)
        np.testing.assert_allclose(reduced.numpy(), GOLDENS[f"{key}/{reduction}"], **TOLERANCE, err_msg=reduction)


@pytest.mark.parametrize("case", [p for p in OWN_CASES if not p.values[0]["kwargs"]])
def test_own_input_loss_by_name_equals_keras(case):
    """compile's path by name: the function, given the weights, and on float labels (compile's y)."""
    y_true, y_pred, weight = _own_inputs(case)
    fn, name = losses.get(case["id"].split("-")[0])
    assert name == case["id"].split("-")[0]
    key = f"{case['id']}/own"
    np.testing.assert_allclose(fn(y_true, y_pred).numpy(), GOLDENS[f"{key}/value"], **TOLERANCE)
    np.testing.assert_allclose(fn(y_true.float(), y_pred, weight).numpy(), GOLDENS[f"{key}/weighted"], **TOLERANCE)


@pytest.mark.parametrize("case", OWN_CASES)
def test_own_input_loss_object_in_compile_equals_keras(case):
    y_true, y_pred, weight = _own_inputs(case)
    fn, _ = losses.get(_loss(case))
    got = losses.reduce_weighted(fn(y_true.float(), y_pred), weight)
    np.testing.assert_allclose(got.numpy(), GOLDENS[f"{case['id']}/own/weighted"], **TOLERANCE)


def test_every_keras_name_resolves_to_the_same_loss():
    for name, keras_fn in META["names"].items():
        fn, _ = losses.get(name)
        assert fn.__name__ == keras_fn, name


def test_every_named_loss_has_a_golden():
    covered = {c["id"] for c in META["cases"] + META["own_input_cases"]}
    assert {fn.__name__ for fn in losses.LOSSES.values()} <= covered


def test_configured_loss_is_not_saved_under_the_plain_name():
    """A checkpoint rebuilds a compiled loss from its name: from_logits must not be lost."""
    assert losses.BinaryCrossentropy().name == "binary_crossentropy"
    assert losses.BinaryCrossentropy(from_logits=True).name not in losses.LOSSES


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="unexpected arguments \\['from_logit'\\]"):
        losses.BinaryCrossentropy(from_logit=True)
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.Huber(reduction="avg")
