"""`*_initializer=None`: Keras's `Layer.add_weight(initializer=None)` fills a floating-point weight with
glorot_uniform (keras/src/layers/layer.py), so `Dense(3, bias_initializer=None)` has a random bias and
`LSTM(2, recurrent_initializer=None)` a glorot (not orthogonal) recurrent kernel. Checked against Keras 3.15.1:
each None-built weight equals the same layer built with "glorot_uniform" from the same seed."""

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU, LSTM, Conv1D, Dense, Embedding, SimpleRNN

X3 = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
CASES = [
    (Dense, {"units": 3}, "kernel_initializer", X3[:, 0]),
    (Dense, {"units": 3}, "bias_initializer", X3[:, 0]),
    (Embedding, {"input_dim": 7, "output_dim": 3}, "embeddings_initializer", np.array([[1, 2, 6]])),
    (Conv1D, {"filters": 3, "kernel_size": 2}, "kernel_initializer", X3),
    (Conv1D, {"filters": 3, "kernel_size": 2}, "bias_initializer", X3),
    (SimpleRNN, {"units": 3}, "kernel_initializer", X3),
    (SimpleRNN, {"units": 3}, "recurrent_initializer", X3),
    (GRU, {"units": 3}, "kernel_initializer", X3),
    (GRU, {"units": 3}, "recurrent_initializer", X3),
    (GRU, {"units": 3}, "bias_initializer", X3),
    (LSTM, {"units": 3}, "kernel_initializer", X3),
    (LSTM, {"units": 3}, "recurrent_initializer", X3),
    (LSTM, {"units": 3, "unit_forget_bias": False}, "bias_initializer", X3),
]


def _weights(cls, kwargs, name, value, x):
    torch.manual_seed(7)
    layer = cls(**kwargs, **{name: value})
    out = layer(x)
    return {k: v.detach().clone() for k, v in layer.state_dict().items()}, out


@pytest.mark.parametrize("cls, kwargs, name, x", CASES, ids=[f"{c[0].__name__}-{c[2]}" for c in CASES])
def test_a_none_initializer_is_glorot_uniform_as_in_keras(cls, kwargs, name, x):
    got, out = _weights(cls, kwargs, name, None, x)
    expected, expected_out = _weights(cls, kwargs, name, "glorot_uniform", x)
    assert got.keys() == expected.keys()
    for k in got:
        torch.testing.assert_close(got[k], expected[k], msg=k)
    torch.testing.assert_close(out, expected_out)


def test_a_none_bias_is_random_not_zeros():
    # Keras: Dense(3, bias_initializer=None).bias is glorot_uniform with fans (3, 3) (a 1-D shape), in [-1, 1];
    # with a thousand units the bias fills that range (a zeros bias, rnnkit's old fallback, would fail)
    layer = Dense(1000, bias_initializer=None)
    layer(X3[:, 0])
    limit = np.sqrt(6 / (1000 + 1000))
    values = layer.bias.detach()
    assert float(values.abs().max()) <= limit + 1e-7
    assert float(values.abs().max()) > 0.9 * limit and float(values.std()) > 0.5 * limit
