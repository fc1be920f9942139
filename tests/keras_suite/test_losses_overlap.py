"""Keras 3's DiceTest and TverskyTest (keras/src/losses/losses_test.py), ported to rnnkit.losses.Dice and
Tversky with Keras's expected values and tolerances (assertAllClose: atol=rtol=1e-6), then rnnkit's:
the functions and compile names, sample weights, Keras's positional arguments, errors.

Ported: every case of both classes. test_config is the get_config / from_config round trip with
Keras's config; its serialize_keras_object half is not applicable (rnnkit.losses has no serialize;
checkpoints keep a loss by its name). Keras's sums go over every axis with axis=None, so the loss of
a batch is one value, which sample weights scale by their mean.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import losses

Y_TRUE = np.array(([[1, 2], [1, 2]]))
Y_PRED = np.array(([[4, 1], [6, 1]]))
SEG_TRUE = np.array(([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]))
SEG_PRED = np.array(([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]]))
IMG_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
IMG_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def _close(actual, expected, atol=1e-6, rtol=1e-6):  # Keras's assertAllClose
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), expected, atol=atol, rtol=rtol)


def _round_trip(loss, keras_config):
    config = loss.get_config()
    assert config == keras_config  # Keras 3.15.1's get_config of the same object
    revived = type(loss).from_config(config)
    assert type(revived) is type(loss) and revived.get_config() == config
    assert set(dir(revived)) == set(dir(loss))


# Keras: DiceTest.test_config
def test_dice_config():
    _round_trip(losses.Dice(name="mydice"), {"name": "mydice", "reduction": "sum_over_batch_size", "axis": None})


# Keras: DiceTest.test_correctness
def test_dice_correctness():
    _close(losses.Dice()(Y_TRUE, Y_PRED), -0.55555546)


# Keras: DiceTest.test_binary_segmentation
def test_dice_binary_segmentation():
    _close(losses.Dice()(SEG_TRUE, SEG_PRED), 0.77777773)


# Keras: DiceTest.test_binary_segmentation_with_axis
def test_dice_binary_segmentation_with_axis():
    _close(losses.Dice(axis=(1, 2, 3), reduction=None)(IMG_TRUE, IMG_PRED), [0.5, 0.75757575])


# Keras: DiceTest.test_dtype_arg
def test_dice_dtype_arg():
    assert losses.Dice(dtype="bfloat16")(Y_TRUE, Y_PRED).dtype == torch.bfloat16


# Keras: TverskyTest.test_config
def test_tversky_config():
    _round_trip(losses.Tversky(name="mytversky"), {"name": "mytversky", "reduction": "sum_over_batch_size",
                                                   "alpha": 0.5, "beta": 0.5, "axis": None})


# Keras: TverskyTest.test_correctness
def test_tversky_correctness():
    _close(losses.Tversky()(Y_TRUE, Y_PRED), -0.55555546)


# Keras: TverskyTest.test_correctness_custom_coefficients
def test_tversky_correctness_custom_coefficients():
    _close(losses.Tversky(alpha=0.2, beta=0.8)(Y_TRUE, Y_PRED), -0.29629636)


# Keras: TverskyTest.test_binary_segmentation
def test_tversky_binary_segmentation():
    _close(losses.Tversky()(SEG_TRUE, SEG_PRED), 0.77777773)


# Keras: TverskyTest.test_binary_segmentation_with_axis
def test_tversky_binary_segmentation_with_axis():
    _close(losses.Tversky(axis=(1, 2, 3), reduction=None)(IMG_TRUE, IMG_PRED), [0.5, 0.75757575])


# Keras: TverskyTest.test_binary_segmentation_custom_coefficients
def test_tversky_binary_segmentation_custom_coefficients():
    _close(losses.Tversky(alpha=0.2, beta=0.8)(SEG_TRUE, SEG_PRED), 0.7916667)


# Keras: TverskyTest.test_binary_segmentation_custom_coefficients_with_axis
def test_tversky_binary_segmentation_custom_coefficients_with_axis():
    loss = losses.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), reduction=None)
    _close(loss(IMG_TRUE, IMG_PRED), [0.5, 0.7222222])


# Keras: TverskyTest.test_dtype_arg
def test_tversky_dtype_arg():
    assert losses.Tversky(dtype="bfloat16")(Y_TRUE, Y_PRED).dtype == torch.bfloat16


# ---- rnnkit -----------------------------------------------------------------------------------------
def test_the_functions_and_compile_names_give_the_class_values():
    for name, cls in (("dice", losses.Dice), ("tversky", losses.Tversky)):
        fn, resolved = losses.get(name)
        assert fn is getattr(losses, name) and resolved == name and cls().name == name
        _close(fn(torch.tensor(SEG_TRUE, dtype=torch.float32), torch.tensor(SEG_PRED, dtype=torch.float32)),
               float(cls()(SEG_TRUE, SEG_PRED)))
    _close(losses.dice(IMG_TRUE, IMG_PRED, axis=(1, 2, 3)), np.mean([0.5, 0.75757575]))


def test_tversky_with_equal_halves_is_dice():
    y_true, y_pred = torch.rand(3, 5, 2), torch.rand(3, 5, 2)
    torch.testing.assert_close(losses.tversky(y_true, y_pred, axis=-1), losses.dice(y_true, y_pred, axis=-1))
    assert not torch.allclose(losses.tversky(y_true, y_pred, alpha=0.1, beta=0.9, axis=-1),
                              losses.dice(y_true, y_pred, axis=-1))


def test_sample_weights_scale_the_batch_value_or_weigh_each_sample():
    weights = np.array([2.0, 0.5])
    whole = float(losses.Dice()(IMG_TRUE, IMG_PRED))
    _close(losses.Dice()(IMG_TRUE, IMG_PRED, sample_weight=weights), whole * weights.mean())  # Keras: value * w, mean
    _close(losses.Dice(reduction="sum")(IMG_TRUE, IMG_PRED, sample_weight=weights), whole * weights.sum())
    per_image = np.array([0.5, 0.75757575])
    _close(losses.Dice(axis=(1, 2, 3))(IMG_TRUE, IMG_PRED, sample_weight=weights), (per_image * weights).mean())
    _close(losses.Dice(axis=(1, 2, 3), reduction="mean_with_sample_weight")(IMG_TRUE, IMG_PRED, sample_weight=weights),
           (per_image * weights).sum() / weights.sum())


def test_keras_positional_arguments():
    assert losses.Tversky(0.2, 0.8).get_config()["alpha"] == 0.2  # Tversky(alpha, beta, reduction, name, axis)
    assert losses.Dice("sum", "d", (1, 2)).get_config() == {"name": "d", "reduction": "sum", "axis": (1, 2)}
    assert losses.Dice(axis=-1).name == "dice(axis=-1)"  # not the plain name: a checkpoint cannot rebuild it
    with pytest.raises(TypeError, match="multiple values for argument 'alpha'"):
        losses.Tversky(0.2, alpha=0.3)
    with pytest.raises(TypeError, match="unexpected arguments \\['gamma'\\]"):
        losses.Dice(gamma=2.0)


def test_an_axis_outside_the_inputs_is_refused():
    with pytest.raises(ValueError, match="axis=\\(1, 4\\) does not fit inputs of rank 4.*axis=\\(1, 2, 3\\)"):
        losses.Dice(axis=(1, 4))(IMG_TRUE, IMG_PRED)


def test_compile_with_dice_trains_and_checks_targets():
    model = rnnkit.Sequential([rnnkit.Input((5, 3)), rnnkit.layers.LSTM(4, return_sequences=True),
                               rnnkit.layers.Dense(2, activation="sigmoid")])
    model.compile("adam", loss=losses.Dice(axis=-1))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 5, 3)).astype("float32"), (rng.random((6, 5, 2)) > 0.5).astype("float32")
    y_pred = model.predict(x, verbose=0)
    expected = 1 - 2 * (y * y_pred).sum(-1) / (y.sum(-1) + y_pred.sum(-1) + 1e-7)
    _close(model.evaluate(x, y, verbose=0), expected.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="for loss 'dice'"):
        model.compile("adam", loss="dice")
        model.evaluate(x, y[..., :1], verbose=0)
