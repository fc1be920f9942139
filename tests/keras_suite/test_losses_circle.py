"""Keras 3's CircleTest (keras/src/losses/losses_test.py), ported to rnnkit.losses.Circle and circle with
Keras's expected values and tolerances (assertAlmostEqual: 3 decimals; assertAllClose: atol=rtol=1e-6),
then rnnkit's: the compile name, the masked zeros, gradients, errors.

Ported: every case. test_config is the get_config / from_config round trip with Keras's config; its
serialize_keras_object half is not applicable (rnnkit.losses has no serialize; checkpoints keep a loss
by its name). Keras's direct call of the function `losses.circle(..., ref_labels=..., ref_embeddings=...)`
returns the values per sample; rnnkit's functions reduce themselves (compile's form), so that case
reads the values through LossFunctionWrapper(circle, reduction=None, ...), Keras's own wrapper.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import losses

Y_TRUE = np.array([1, 1, 2, 2, 3])
Y_PRED = np.array([
    [0.70014004, -0.42008403, 0.14002801, 0.56011203],
    [0.17609018, 0.70436073, -0.52827054, 0.44022545],
    [-0.34050261, 0.25537696, -0.68100522, 0.59587957],
    [0.32163376, -0.75047877, 0.53605627, -0.21442251],
    [0.51261459, -0.34174306, 0.17087153, 0.76892189],
])
REF_LABELS = np.array([1, 1, 2, 2, 3, 4])
REF_EMBEDDINGS = np.array([
    [0.40824829, -0.54433105, 0.27216553, 0.68041382],
    [0.76376261, 0.10910895, -0.54554473, 0.32732684],
    [-0.74420841, 0.24806947, 0.49613894, -0.3721042],
    [0.52981294, -0.13245324, 0.79471941, -0.26490647],
    [0.54554473, -0.32732684, 0.10910895, 0.76376261],
    [-0.27216553, 0.68041382, 0.40824829, -0.54433105],
])
SAMPLE_WEIGHT = np.array([2.0, 2.0, 1.0, 1.0, 0.5])


def _almost(actual, expected, decimal=3):  # Keras's assertAlmostEqual
    np.testing.assert_almost_equal(np.asarray(actual, dtype="float64"), expected, decimal=decimal)


def _close(actual, expected, atol=1e-6, rtol=1e-6):  # Keras's assertAllClose
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), expected, atol=atol, rtol=rtol)


# Keras: CircleTest.test_config
def test_config():
    loss = losses.Circle(name="mycircle", gamma=80.0, margin=0.4)
    config = loss.get_config()
    assert config == {"name": "mycircle", "reduction": "sum_over_batch_size", "gamma": 80.0, "margin": 0.4,
                      "remove_diagonal": True}  # Keras 3.15.1's
    revived = losses.Circle.from_config(config)
    assert type(revived) is losses.Circle and revived.get_config() == config
    assert set(dir(revived)) == set(dir(loss))


# Keras: CircleTest.test_correctness
def test_correctness():
    _almost(losses.Circle(gamma=80.0, margin=0.4)(Y_TRUE, Y_PRED), 188.3883)
    _almost(losses.Circle(gamma=256, margin=0.25)(Y_TRUE, Y_PRED), 652.7617)
    values = losses.LossFunctionWrapper(losses.circle, reduction=None, ref_labels=REF_LABELS,
                                        ref_embeddings=REF_EMBEDDINGS, gamma=80.0, margin=0.4,
                                        remove_diagonal=False)(Y_TRUE, Y_PRED)
    _close(values, (61.5844, 94.3465, 276.9344, 90.9873, 48.8963))


# Keras: CircleTest.test_correctness_weighted
def test_correctness_weighted():
    _almost(losses.Circle(gamma=80.0, margin=0.4)(Y_TRUE, Y_PRED, sample_weight=SAMPLE_WEIGHT), 244.91918)


# Keras: CircleTest.test_no_reduction
def test_no_reduction():
    loss = losses.Circle(gamma=80.0, margin=0.4, reduction=None)(REF_LABELS, REF_EMBEDDINGS)
    _close(loss, [82.9116, 36.7942, 92.4590, 52.6798, 0.0, 0.0])


# Keras: CircleTest.test_sum_reduction
def test_sum_reduction():
    _almost(losses.Circle(gamma=80.0, margin=0.4, reduction="sum")(REF_LABELS, REF_EMBEDDINGS), 264.845)


# Keras: CircleTest.test_mean_with_sample_weight_reduction
def test_mean_with_sample_weight_reduction():
    loss = losses.Circle(gamma=80.0, margin=0.4, reduction="mean_with_sample_weight")
    _almost(loss(Y_TRUE, Y_PRED, sample_weight=SAMPLE_WEIGHT), 163.27948)


# Keras: CircleTest.test_dtype_arg
def test_dtype_arg():
    assert losses.Circle(dtype="bfloat16")(Y_TRUE, Y_PRED).dtype == torch.bfloat16


# ---- rnnkit -----------------------------------------------------------------------------------------
def test_the_zeros_are_masked_out_of_the_mean():
    """Samples 4 and 5 (classes 3 and 4, alone in the batch) have loss 0: the mean is over the other 4."""
    values = losses.Circle(reduction=None)(REF_LABELS, REF_EMBEDDINGS)
    assert (values[4:] == 0).all() and (values[:4] > 0).all()
    _close(losses.Circle()(REF_LABELS, REF_EMBEDDINGS), float(values[:4].mean()), rtol=1e-6)
    _close(losses.circle(REF_LABELS, REF_EMBEDDINGS), float(values[:4].mean()), rtol=1e-6)  # the function too
    fn, name = losses.get("circle")
    assert fn is losses.circle and name == "circle" and losses.Circle().name == "circle"


def test_the_function_with_float_labels_and_weights_is_the_class():
    """compile's path: labels arrive as floats, and the function takes the weights."""
    weight = torch.tensor(SAMPLE_WEIGHT)
    expected = losses.Circle()(Y_TRUE, Y_PRED, sample_weight=SAMPLE_WEIGHT)
    _close(losses.circle(torch.tensor(Y_TRUE, dtype=torch.float32), torch.tensor(Y_PRED), weight), float(expected))


def test_gradients_are_finite_with_a_class_alone_in_the_batch():
    embeddings = torch.tensor(REF_EMBEDDINGS, requires_grad=True)
    losses.circle(torch.tensor(REF_LABELS), embeddings).backward()
    assert torch.isfinite(embeddings.grad).all()
    assert (embeddings.grad[:4].abs().sum(-1) > 0).all()


@pytest.mark.parametrize("y_true,y_pred,message", [
    (Y_TRUE, Y_PRED[:, None, :], "embeddings of shape \\(batch_size, embedding_dim\\).*y_pred.shape=\\(5, 1, 4\\)"),
    (Y_TRUE[:4], Y_PRED, "one integer class label per embedding, shape \\(5,\\).*y_true.shape=\\(4,\\)"),
])
def test_bad_inputs_are_refused(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        losses.Circle()(y_true, y_pred)


def test_compile_with_circle_trains_on_labels_and_refuses_one_hot_targets():
    unit_norm = rnnkit.layers.Lambda(lambda t: torch.nn.functional.normalize(t, dim=-1))  # UnitNormalization
    model = rnnkit.Sequential([rnnkit.Input((4, 3)), rnnkit.layers.LSTM(8), rnnkit.layers.Dense(4), unit_norm])
    model.compile(rnnkit.optimizers.Adam(0.01), loss="circle")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 4)
    x = (rng.normal(size=(16, 4, 3)) + labels[:, None, None]).astype("float32")
    expected = float(losses.Circle()(labels, torch.as_tensor(model.predict(x, verbose=0))))
    _close(model.evaluate(x, labels, verbose=0), expected, rtol=1e-5)
    history = model.fit(x, labels, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0] - 1.0
    with pytest.raises(ValueError, match="one integer class label per sample, shape \\(16,\\)"):
        model.evaluate(x, np.eye(4)[labels], verbose=0)
