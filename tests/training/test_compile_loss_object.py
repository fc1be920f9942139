"""compile(loss=<Loss object>) calls the object whole, as Keras's CompileLoss does: its reduction holds,
and a masked output's mask is applied once (the same number as the loss given by name)."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import losses


def _model(masked: bool):
    torch.manual_seed(0)
    layers = ([rnnkit.Input((5,)), rnnkit.layers.Embedding(9, 3, mask_zero=True)] if masked
              else [rnnkit.Input((5, 3))])
    return rnnkit.Sequential([*layers, rnnkit.layers.LSTM(4, return_sequences=True), rnnkit.layers.Dense(2)])


def _data(masked: bool):
    rng = np.random.default_rng(0)
    if masked:
        x = rng.integers(1, 9, size=(6, 5))
        x[:3, 3:] = 0
    else:
        x = rng.normal(size=(6, 5, 3)).astype("float32")
    return x, rng.normal(size=(6, 5, 2)).astype("float32")


@pytest.mark.parametrize("reduction, reduce", [("sum_over_batch_size", np.mean), ("sum", np.sum)])
def test_the_loss_objects_reduction_is_honoured(reduction, reduce):
    model = _model(masked=False)
    x, y = _data(masked=False)
    model.compile("sgd", losses.MeanSquaredError(reduction=reduction))
    squared = ((model.predict(x, verbose=0) - y) ** 2).mean(-1)
    assert model.evaluate(x, y, batch_size=6, verbose=0) == pytest.approx(float(reduce(squared)), rel=1e-5)


def test_a_masked_output_is_masked_once_by_a_loss_object():
    model = _model(masked=True)
    x, y = _data(masked=True)
    model.compile("sgd", "mse")
    by_name = model.evaluate(x, y, batch_size=6, verbose=0)
    model.compile("sgd", losses.MeanSquaredError())
    by_object = model.evaluate(x, y, batch_size=6, verbose=0)
    squared = ((model.predict(x, verbose=0) - y) ** 2).mean(-1)
    assert by_object == pytest.approx(by_name, rel=1e-6)
    assert by_object == pytest.approx(float(squared[x != 0].mean()), rel=1e-5)
