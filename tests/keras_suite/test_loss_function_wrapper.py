"""Keras's LossFunctionWrapper and what Keras's Loss base gives every loss class (keras/src/losses/loss.py,
losses.py): the reductions "mean" and "mean_with_sample_weight", `dtype`, a mask on y_pred and one on
the values, get_config / from_config, a subclass with its own `call`.

Keras 3.15.1's losses_test.py has no test class of LossFunctionWrapper; its numbers are checked against
Keras's in test_loss_goldens.py (wrapper-* cases, on Keras's own wrapper). These tests hold what the
wrapper does besides.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import keras_mask, losses

Y_TRUE = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
Y_PRED = torch.tensor([[0.8, 0.1], [0.3, 0.6], [0.5, 0.9]])


def test_a_wrapped_rnnkit_function_gives_its_values_per_sample():
    wrapped = losses.LossFunctionWrapper(losses.huber, reduction=None, delta=0.2)
    torch.testing.assert_close(wrapped(Y_TRUE, Y_PRED), losses.Huber(delta=0.2, reduction=None)(Y_TRUE, Y_PRED))
    assert wrapped(Y_TRUE, Y_PRED).shape == (3,)
    assert wrapped.name == "loss_function_wrapper"  # Keras's auto_name of the class
    assert repr(wrapped) == f"<LossFunctionWrapper({losses.huber}, kwargs={{'delta': 0.2}})>"


def test_a_keras_style_function_is_called_with_its_keyword_arguments():
    def scaled_abs(y_true, y_pred, scale):  # Keras's contract: the values per sample, unreduced
        return scale * (y_true - y_pred).abs().mean(-1)

    wrapped = losses.LossFunctionWrapper(scaled_abs, scale=3.0)
    expected = 3.0 * (Y_TRUE - Y_PRED).abs().mean(-1)
    torch.testing.assert_close(wrapped(Y_TRUE, Y_PRED), expected.mean())
    weight = torch.tensor([1.0, 0.0, 2.0])
    torch.testing.assert_close(wrapped(Y_TRUE, Y_PRED, sample_weight=weight), (expected * weight).mean())
    torch.testing.assert_close(losses.LossFunctionWrapper(scaled_abs, reduction="sum", scale=3.0)(Y_TRUE, Y_PRED),
                               expected.sum())
    config = wrapped.get_config()
    assert config == {"name": "loss_function_wrapper", "reduction": "sum_over_batch_size", "fn": scaled_abs,
                      "scale": 3.0}
    torch.testing.assert_close(losses.LossFunctionWrapper.from_config(config)(Y_TRUE, Y_PRED), expected.mean())


def test_ranks_are_matched_before_the_function_as_keras():
    # y_true (3,) against y_pred (3, 1): Keras adds the axis, so the error is per sample, not (3, 3)
    values = losses.LossFunctionWrapper(lambda t, p: (t - p) ** 2, reduction=None)(torch.tensor([1.0, 2.0, 3.0]),
                                                                                     torch.zeros(3, 1))
    assert values.shape == (3, 1)
    torch.testing.assert_close(values[:, 0], torch.tensor([1.0, 4.0, 9.0]))


def test_a_function_is_required():
    with pytest.raises(TypeError, match="needs a loss function fn\\(y_true, y_pred, \\*\\*kwargs\\), received 'mse'"):
        losses.LossFunctionWrapper("mse")


def test_compiled_with_a_wrapper_a_model_trains_and_loads_uncompiled(tmp_path):
    model = rnnkit.Sequential([rnnkit.Input((4, 3)), rnnkit.layers.LSTM(5), rnnkit.layers.Dense(2)])
    model.compile("sgd", loss=losses.LossFunctionWrapper(losses.mean_squared_error))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    wrapped = model.evaluate(x, y, verbose=0)
    model.compile("sgd", loss="mse")
    assert wrapped == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    model.compile("sgd", loss=losses.LossFunctionWrapper(losses.mean_squared_error))
    model.save(tmp_path / "m.rnnkit")
    assert not rnnkit.load(tmp_path / "m.rnnkit").compiled  # no name to rebuild a wrapped function by


# ---- what Keras's Loss base gives every class -----------------------------------------------------------
def test_mean_is_sum_over_batch_size_and_mean_with_sample_weight_divides_by_the_weights():
    weight = torch.tensor([2.0, 0.0, 1.0])
    values = ((Y_TRUE - Y_PRED) ** 2).mean(-1)
    torch.testing.assert_close(losses.MeanSquaredError(reduction="mean")(Y_TRUE, Y_PRED, weight),
                               (values * weight).sum() / 3)
    torch.testing.assert_close(losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y_TRUE, Y_PRED, weight),
                               (values * weight).sum() / 3.0)
    torch.testing.assert_close(losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y_TRUE, Y_PRED),
                               values.mean())  # no weights: the mean
    zero = losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y_TRUE, Y_PRED, torch.zeros(3))
    assert float(zero) == 0.0  # Keras's divide_no_nan, not NaN


def test_dtype_is_the_dtype_the_loss_computes_in():
    assert losses.MeanSquaredError(dtype="float16")(Y_TRUE, Y_PRED).dtype == torch.float16
    assert losses.Huber(dtype="mixed_bfloat16")(Y_TRUE, Y_PRED).dtype == torch.bfloat16  # a policy's compute dtype
    assert losses.MeanSquaredError(dtype="float64")(Y_TRUE, Y_PRED).dtype == torch.float64
    assert losses.MeanSquaredError()(np.array([[1, 2]]), np.array([[3, 5]])).dtype == torch.float32  # ints: floatx
    with pytest.raises(ValueError, match="dtype must be one of.*received dtype='int8'"):
        losses.MeanSquaredError(dtype="int8")


def test_y_preds_mask_and_the_values_mask_together_leave_out_either():
    """Keras's Loss.__call__: the mask of y_pred and the values' own (Circle masks its zeros) are and-ed."""
    labels = torch.tensor([0, 0, 1, 1, 2, 0])
    embeddings = torch.nn.functional.normalize(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    values = losses.Circle(reduction=None)(labels, embeddings)
    assert values[4] == 0 and (values[[0, 1, 2, 3, 5]] > 0).all()
    masked = keras_mask.attach(embeddings.clone(), torch.tensor([True, False, True, True, True, True]))
    torch.testing.assert_close(losses.Circle()(labels, masked), values[[0, 2, 3, 5]].mean())


def test_a_subclass_with_its_own_call_is_named_as_keras_names_it():
    class SquaredError(losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2

    loss = SquaredError(reduction="sum")
    assert loss.name == "squared_error"
    torch.testing.assert_close(loss(Y_TRUE, Y_PRED), ((Y_TRUE - Y_PRED) ** 2).sum())
    assert loss.get_config() == {"name": "squared_error", "reduction": "sum"}
