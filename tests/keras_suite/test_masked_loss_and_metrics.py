"""A masked output's loss and metrics, against Keras 3.15's own numbers.

Keras carries a layer's mask on the output tensor; its loss averages over the valid steps only
(`apply_mask`: a valid step weighs total / valid, a masked one 0) and its MeanMetricWrapper metrics weigh
masked steps 0. The goldens (tests/fixtures/keras_masked, scripts/make_keras_masked_goldens.py, Keras's
torch backend) are Keras's evaluate, evaluate with per-step weights and two epochs of fit from the same
weights, for Embedding(mask_zero) -> LSTM -> TimeDistributed(Dense), Masking -> GRU -> softmax, and a
functional model with two masked outputs and loss weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import keras_mask, losses, metrics

from masked_cases import LENGTHS, data, models

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras_masked"
GOLDENS = json.loads((FIXTURES / "goldens.json").read_text())["cases"]


def _prepared(name: str):
    d = data()
    model, x_key, y_key, loss, metric_names, loss_weights = models(rnnkit)[name]
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    model.compile(rnnkit.optimizers.SGD(0.1), loss, metrics=metric_names, loss_weights=loss_weights)
    y = [d[k] for k in y_key] if isinstance(y_key, list) else d[y_key]
    sw = [d["step_weight"]] * len(y_key) if isinstance(y_key, list) else d["step_weight"]
    return model, d[x_key], y, sw


def _assert_logs(ours: dict, keras: dict, rtol: float) -> None:
    assert set(keras) <= set(ours), f"Keras logs {sorted(keras)}, rnnkit {sorted(ours)}"
    for key, expected in keras.items():
        np.testing.assert_allclose(np.atleast_1d(ours[key]), expected, rtol=rtol, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_evaluate_averages_over_the_valid_steps_as_keras(name):
    model, x, y, sw = _prepared(name)
    _assert_logs(model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True), GOLDENS[name]["evaluate"], 1e-5)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_evaluate_with_step_weights_as_keras(name):
    model, x, y, sw = _prepared(name)
    _assert_logs(model.evaluate(x, y, sample_weight=sw, batch_size=4, verbose=0, return_dict=True),
                 GOLDENS[name]["evaluate_weighted"], 1e-5)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_fit_trains_on_the_valid_steps_as_keras(name):
    model, x, y, _ = _prepared(name)
    history = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    _assert_logs(history, GOLDENS[name]["fit"], 1e-4)


def test_the_loss_is_the_mean_of_the_valid_steps_losses():
    model, x, y, _ = _prepared("embedding_lstm_timedistributed")
    y_pred = model(torch.as_tensor(x))
    valid = torch.as_tensor(x) != 0
    assert torch.equal(keras_mask.get(y_pred), valid)
    squared = ((y_pred - torch.as_tensor(y)) ** 2).mean(-1)
    expected = squared[valid].mean()
    torch.testing.assert_close(model.compute_loss(x, torch.as_tensor(y), y_pred), expected)
    # the mask changes the number: over every step it would be another one
    assert abs(float(squared.detach().mean()) - float(expected.detach())) > 1e-3


def test_a_weighted_metric_weighs_the_valid_steps_only():
    model, x, y, sw = _prepared("embedding_lstm_timedistributed")
    model.compile("sgd", "mse", weighted_metrics=["mae"])
    logs = model.evaluate(x, y, sample_weight=sw, batch_size=4, verbose=0, return_dict=True)
    prediction = model.predict(x, verbose=0)
    error = np.abs(prediction - y).mean(-1)
    w = sw * (x != 0)
    assert logs["mae"] == pytest.approx(float((error * w).sum() / w.sum()), rel=1e-5)


def test_loss_objects_and_metrics_called_on_a_masked_prediction_skip_the_masked_steps():
    y_true = torch.tensor([[[1.0], [2.0], [5.0]]])
    y_pred = keras_mask.attach(torch.tensor([[[0.0], [0.0], [0.0]]]), torch.tensor([[True, True, False]]))
    assert float(losses.MeanSquaredError()(y_true, y_pred)) == pytest.approx(2.5)  # (1 + 4) / 2
    assert float(losses.MeanSquaredError(reduction="sum")(y_true, y_pred)) == pytest.approx(5.0)
    assert losses.MeanSquaredError(reduction=None)(y_true, y_pred).tolist() == [[1.0, 4.0, 0.0]]
    metric = metrics.MeanAbsoluteError()
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(1.5)  # (1 + 2) / 2


def test_a_batch_with_every_step_masked_gives_a_zero_loss_not_nan():
    y_pred = keras_mask.attach(torch.ones(2, 3, 1), torch.zeros(2, 3, dtype=torch.bool))
    assert float(losses.MeanSquaredError()(torch.zeros(2, 3, 1), y_pred)) == 0.0


def test_a_mask_dropped_by_the_last_layer_leaves_the_loss_over_every_sample():
    model = rnnkit.Sequential([rnnkit.Input((6,)), rnnkit.layers.Embedding(20, 4, mask_zero=True),
                               rnnkit.layers.LSTM(3), rnnkit.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = data()["ids"]
    y_pred = model(torch.as_tensor(x))
    assert keras_mask.get(y_pred) is None
    y = torch.ones(len(LENGTHS), 1)
    torch.testing.assert_close(model.compute_loss(x, y, y_pred), ((y_pred - y) ** 2).mean())
