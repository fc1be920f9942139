"""compile(loss=<Loss object>) calls the object whole, as Keras's CompileLoss does: its reduction holds,
and a masked output's mask is applied once (the same number as the loss given by name)."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Dense, Input, Model, Sequential, losses


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


@pytest.mark.parametrize("reduction", [None, "none"])
def test_a_loss_that_does_not_reduce_is_refused_at_compile(reduction):
    """Keras compiles it and fit then fails in backward ("grad can be implicitly created only for scalar
    outputs"); rnnkit says at compile what is wrong, for one output and per output."""
    model = Sequential([Input((3,)), Dense(2)])
    with pytest.raises(ValueError, match=r"reduction=.*gives one value per sample"):
        model.compile(loss=losses.MeanSquaredError(reduction=reduction))
    a = Input((3,))
    two = Model(a, [Dense(1, name="p")(a), Dense(1, name="q")(a)])
    with pytest.raises(ValueError, match="MeanAbsoluteError"):
        two.compile(loss={"p": "mse", "q": losses.MeanAbsoluteError(reduction=reduction)})
    two.compile(loss={"p": "mse", "q": losses.MeanAbsoluteError(reduction="sum")})  # a reducing one compiles
    assert two.compiled
