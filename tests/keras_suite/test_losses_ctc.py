"""Keras 3's CTCTest (keras/src/losses/losses_test.py), ported to rnnkit.losses.CTC with Keras's expected
values and tolerances, then rnnkit's: the function and compile names, Keras's conventions (labels padded
with 0, the blank; y_pred taken as logits), the errors, and training with compile(loss="ctc") against
Keras (torch backend) step by step from the same weights.

Ported: test_config (the get_config / from_config round trip; Keras's serialize_keras_object half is
not applicable: rnnkit.losses has no serialize, checkpoints keep a loss by its name), test_correctness,
test_dtype_arg. All of CTCTest is ported.

The end-to-end goldens (tests/fixtures/keras_ctc, scripts/make_keras_ctc_goldens.py) are Keras's
train_on_batch losses under Adam for the LSTM -> Dense(softmax) model of ctc_case.py, with and without
per-sample weights, evaluate before and after, and predictions after training.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import keras_mask, losses

from ctc_case import BATCH, BATCHES, CLASSES, STEPS, data, model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras_ctc"
LOGITS = (np.arange(24).reshape((2, 4, 3)).astype("float32") - 12) / 100  # Keras's test inputs
Y_TRUE = np.array(([[1, 2, 1, 0], [1, 2, 0, 2]]))


def _close(actual, expected, atol=1e-6, rtol=1e-6):  # Keras's assertAllClose
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), expected, atol=atol, rtol=rtol)


# Keras: CTCTest.test_config
def test_config():
    loss = losses.CTC(name="myctc")
    config = loss.get_config()
    assert config == {"name": "myctc", "reduction": "sum_over_batch_size"}  # Keras's config of CTC(name="myctc")
    revived = losses.CTC.from_config(config)
    assert type(revived) is losses.CTC and revived.get_config() == config
    assert set(dir(revived)) == set(dir(loss))


# Keras: CTCTest.test_correctness
def test_correctness():
    output = losses.CTC()(Y_TRUE, LOGITS)
    _close(output, 2.448645)


# Keras: CTCTest.test_dtype_arg
def test_dtype_arg():
    output = losses.CTC(dtype="bfloat16")(Y_TRUE, LOGITS)
    assert output.dtype == torch.bfloat16


# ---- rnnkit: the function, the names, Keras's conventions ----------------------------------------------
def test_the_function_and_the_compile_name_give_the_class_value():
    expected = float(losses.CTC()(Y_TRUE, LOGITS))
    fn, name = losses.get("ctc")
    assert fn is losses.ctc and name == "ctc"
    _close(fn(torch.tensor(Y_TRUE), torch.tensor(LOGITS)), expected)
    _close(losses.ctc(Y_TRUE.astype("float32"), LOGITS), expected)  # compile's y: labels as floats
    assert losses.CTC().name == "ctc" and losses.CTC().name in losses.LOSSES  # a checkpoint rebuilds it by name


def test_values_are_per_sample_and_match_torch_ctc_on_log_softmax():
    """Keras's conventions: blank 0, label length = the non-zero ids, every step scored, no division by
    the label's length. Sample 2's label [1, 2, 0, 2] has 3 non-zero ids, so it is read as [1, 2, 0]."""
    values = losses.CTC(reduction=None)(Y_TRUE, LOGITS)
    assert values.shape == (2,)
    log_probs = torch.log_softmax(torch.tensor(LOGITS), -1).transpose(0, 1)
    expected = torch.nn.functional.ctc_loss(log_probs, torch.tensor([[1, 2, 1], [1, 2, 0]]), torch.tensor([4, 4]),
                                            torch.tensor([3, 3]), blank=0, reduction="none")
    _close(values, expected.numpy())
    _close(values, [2.4429314, 2.4543598], rtol=1e-5)  # Keras 3.15.1 (jax and torch) per sample


def test_softmax_outputs_are_taken_as_logits_as_keras_does():
    probabilities = torch.softmax(torch.tensor(LOGITS), -1)
    as_logits = losses.CTC(reduction=None)(Y_TRUE, probabilities)
    as_probabilities = losses.CTC(reduction=None)(Y_TRUE, probabilities.log())  # log p: log_softmax(log p) = log p
    assert not torch.allclose(as_logits, as_probabilities)
    _close(as_probabilities, losses.CTC(reduction=None)(Y_TRUE, LOGITS).numpy(), rtol=1e-5)


def test_padding_after_the_label_does_not_change_the_loss():
    padded = np.concatenate([Y_TRUE[:1], np.zeros((1, 3), dtype=Y_TRUE.dtype)], axis=1)  # [1, 2, 1, 0, 0, 0, 0]
    _close(losses.CTC(reduction=None)(padded, LOGITS[:1]), losses.CTC(reduction=None)(Y_TRUE[:1], LOGITS[:1]))


def test_a_label_no_alignment_fits_gives_an_infinite_loss_as_keras_on_torch():
    # [1, 1, 1] needs 5 steps (a blank between repeats); 4 are given. Keras on jax gives about 1e5 instead.
    values = losses.CTC(reduction=None)(np.array([[1, 1, 1], [1, 0, 0]]), LOGITS)
    assert torch.isinf(values[0]) and torch.isfinite(values[1])


def test_sample_weights_weigh_each_sequence():
    weights = np.array([2.0, 0.5])
    per_sample = losses.CTC(reduction=None)(Y_TRUE, LOGITS).numpy()
    _close(losses.CTC()(Y_TRUE, LOGITS, sample_weight=weights), (per_sample * weights).sum() / 2, rtol=1e-6)
    _close(losses.CTC(reduction="sum")(Y_TRUE, LOGITS, sample_weight=weights), (per_sample * weights).sum(), rtol=1e-6)
    _close(losses.ctc(torch.tensor(Y_TRUE), torch.tensor(LOGITS), torch.tensor(weights)),
           (per_sample * weights).sum() / 2, rtol=1e-6)


def test_the_gradient_is_torchs_ctc_gradient():
    logits = torch.tensor(LOGITS, requires_grad=True)
    losses.ctc(torch.tensor(Y_TRUE), logits).backward()
    again = torch.tensor(LOGITS, requires_grad=True)
    torch.nn.functional.ctc_loss(torch.log_softmax(again, -1).transpose(0, 1), torch.tensor(Y_TRUE),
                                 torch.tensor([4, 4]), torch.tensor([3, 3]), reduction="none").mean().backward()
    torch.testing.assert_close(logits.grad, again.grad)


# ---- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("y_true,y_pred,message", [
    (Y_TRUE[:, :, None], LOGITS, "expected to be a tensor of shape \\(batch_size, max_length\\).*Received: "
                                 "y_true.shape=\\(2, 4, 1\\)"),
    (Y_TRUE, LOGITS[:, :, 0].copy(), "y_pred.shape=\\(2, 4\\).*return_sequences=True"),
    (Y_TRUE[:1], LOGITS, "1 label sequences and y_pred 2"),
    (np.array([[1, 3, 0, 0], [1, 0, 0, 0]]), LOGITS, "class ids in \\[0, 3\\).*received 3.*4 for these labels"),
    (np.array([[1, 2, -1, -1], [1, 0, 0, 0]]), LOGITS, "received -1. Pad the labels with 0"),
    (np.array([[1.5, 0, 0, 0], [1, 0, 0, 0]]), LOGITS, "whole-number class ids, received 1.5"),
])
def test_bad_inputs_are_refused_with_what_to_do(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        losses.CTC()(y_true, y_pred)


def test_a_masked_output_is_refused():
    """Keras's CTC scores every step: a mask on y_pred has no place in it (Keras fails on it too)."""
    y_pred = keras_mask.attach(torch.tensor(LOGITS), torch.tensor([[True] * 4, [True, True, False, False]]))
    with pytest.raises(ValueError, match="carries a mask.*Remove the mask"):
        losses.CTC()(Y_TRUE, y_pred)


def test_compile_checks_the_label_shape():
    m = model(rnnkit)
    m.compile("adam", loss="ctc")
    d = data()
    with pytest.raises(ValueError, match="label sequences of class ids padded with 0.*received \\(8, 3, 1\\)"):
        m.train_on_batch(d["x"][:BATCH], d["y"][:BATCH, :, None])
    flat = rnnkit.Sequential([rnnkit.Input((STEPS, 4)), rnnkit.layers.LSTM(4), rnnkit.layers.Dense(CLASSES)])
    flat.compile("adam", loss="ctc")
    with pytest.raises(ValueError, match="CTC needs an output per time step.*return_sequences=True"):
        flat.train_on_batch(d["x"][:BATCH], d["y"][:BATCH])


# ---- training: compile(loss="ctc") against Keras (torch backend) -------------------------------------
GOLDENS = json.loads((FIXTURES / "goldens.json").read_text())


def _trained(weighted: bool, loss="ctc"):
    d = data()
    m = model(rnnkit)
    m.load_weights(FIXTURES / "lstm_ctc.weights.h5")
    m.compile(rnnkit.optimizers.Adam(GOLDENS["learning_rate"]), loss=loss)
    before = m.evaluate(d["x"], d["y"], batch_size=BATCH, verbose=0)
    steps = []
    for b in range(BATCHES):
        rows = slice(b * BATCH, (b + 1) * BATCH)
        weight = d["sample_weight"][rows] if weighted else None
        steps.append(float(m.train_on_batch(d["x"][rows], d["y"][rows], sample_weight=weight)))
    return m, before, steps, m.evaluate(d["x"], d["y"], batch_size=BATCH, verbose=0)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_training_with_ctc_follows_keras_step_by_step(weighted):
    keras = GOLDENS["weighted" if weighted else "unweighted"]
    m, before, steps, after = _trained(weighted)
    _close(before, keras["evaluate_before"], rtol=1e-6)
    _close(steps, keras["steps"], rtol=1e-5)  # measured: within 2.3e-6 relative
    _close(after, keras["evaluate_after"], rtol=1e-5)
    _close(m.predict(data()["x"][:4], verbose=0), np.array(keras["predict_after"]), atol=1e-5)
    assert steps[-1] < steps[0] - 2.0 and after < before - 3.0  # the loss falls


def test_the_ctc_object_trains_as_the_name_and_survives_a_checkpoint(tmp_path):
    _, _, by_name, _ = _trained(False)
    m, _, by_object, _ = _trained(False, loss=losses.CTC())
    np.testing.assert_allclose(by_object, by_name, rtol=1e-6)
    m.save(tmp_path / "ctc.rnnkit")
    loaded = rnnkit.load(tmp_path / "ctc.rnnkit")
    assert loaded.compiled and loaded.loss_name == "ctc"
    d = data()
    np.testing.assert_allclose(loaded.evaluate(d["x"], d["y"], verbose=0), m.evaluate(d["x"], d["y"], verbose=0),
                               rtol=1e-6)
