"""Keras 3's keras/src/layers/core/masking_test.py, ported to rnnkit (assertAllClose's atol=rtol=1e-6),
plus equivalence tests: Masking -> LSTM equals the LSTM run on the unpadded sequences.

Keras's Masking zeroes the steps whose features all equal mask_value and hands the next layers a mask
(True where a step is real); compute_mask ignores an incoming mask.

Not applicable (Keras internals): test_masking_basics's seed-generator, loss and symbolic-build checks
(run_layer_test in layer_helpers.py checks what applies).
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model, Sequential
from rnnkit.layers import GRU, LSTM, Dense, Input, Layer, Masking, SimpleRNN

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_masking_basics
def test_masking_basics():
    run_layer_test(Masking, init_kwargs={"mask_value": 0.0}, input_shape=(2, 3, 2), expected_output_shape=(2, 3, 2),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, supports_masking=True,
                   assert_built_after_instantiation=True)


# Keras: test_masking_correctness
def test_masking_correctness():
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]],
                  [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]])
    expected_mask = [[False, True, False], [True, False, True]]

    layer = Masking(mask_value=0.0)
    np.testing.assert_allclose(layer.compute_mask(torch.as_tensor(x), None).numpy(), expected_mask, **TOL)

    seen = []

    class TestLayer(Layer):
        supports_masking = True

        def forward(self, x, training=None, mask=None):
            assert mask is not None
            np.testing.assert_allclose(mask.numpy(), expected_mask, **TOL)
            seen.append(True)
            return x

    model = Sequential([Masking(mask_value=0.0), TestLayer()])
    model(x)
    assert seen == [True]


# Keras: test_masking_with_tensor (the .keras file is rnnkit's own format here)
def test_masking_with_tensor(tmp_path):
    model = Sequential([Masking(mask_value=0.0), LSTM(1)])
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]],
                  [[2.0, 2.0], [2.0, 1.0], [0.0, 0.0]]])
    out = model(x)
    model.save(tmp_path / "model.rnnkit")
    reload_model = rnnkit.load(tmp_path / "model.rnnkit")
    np.testing.assert_allclose(reload_model(x).numpy(), out.numpy(), **TOL)
    assert isinstance(reload_model.layers[0], Masking)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_masked_steps_are_zeroed_in_the_output():
    x = torch.tensor([[[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]]])
    out = Masking(mask_value=1.0)(x)
    assert out.tolist() == [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]


def test_config_round_trip_keeps_mask_value():
    layer = Masking(mask_value=-1.0, input_shape=(5, 3))
    assert layer.get_config()["mask_value"] == -1.0
    assert layer.get_config()["batch_input_shape"] == [None, 5, 3]


def test_mask_value_must_be_a_number():
    with pytest.raises(TypeError, match="mask_value must be a number"):
        Masking(mask_value="0")


@pytest.mark.parametrize("rnn", [LSTM, GRU, SimpleRNN], ids=["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_masking_before_rnn_equals_the_unpadded_sequence(rnn, return_sequences):
    """Keras's masking contract: the recurrent layer skips masked steps (right padding here), so each
    sample's last output is what the layer gives on that sample alone, unpadded."""
    torch.manual_seed(1)
    layer = rnn(4, return_sequences=return_sequences)
    model = Sequential([Input((6, 3)), Masking(mask_value=0.0), layer])
    lengths = [6, 4, 1]
    x = np.random.default_rng(0).normal(size=(3, 6, 3)).astype("float32")
    for row, n in enumerate(lengths):
        x[row, n:] = 0.0
    out = model.predict(x, verbose=0)
    for row, n in enumerate(lengths):
        alone = layer(x[row:row + 1, :n]).numpy()
        if return_sequences:
            np.testing.assert_allclose(out[row, :n], alone[0], atol=1e-6)
            # Keras carries the last real output through masked steps (zero_output_for_mask=False)
            np.testing.assert_allclose(out[row, n:], np.repeat(alone[0, -1:], 6 - n, axis=0), atol=1e-6)
        else:
            np.testing.assert_allclose(out[row], alone[0], atol=1e-6)


def test_masking_inside_the_sequence_skips_those_steps():
    """A masked step in the middle is skipped: the same as running on the sequence without it."""
    layer = LSTM(3)
    x = np.random.default_rng(1).normal(size=(1, 5, 2)).astype("float32")
    x[0, 2] = 0.0
    out = Sequential([Input((5, 2)), Masking(), layer]).predict(x, verbose=0)
    without = layer(np.delete(x, 2, axis=1)).numpy()
    np.testing.assert_allclose(out, without, atol=1e-6)


def test_masking_equals_passing_the_mask_by_hand():
    layer = GRU(3, return_sequences=True)
    x = np.random.default_rng(2).normal(size=(2, 4, 2)).astype("float32")
    x[0, 3] = x[1, 2:] = 0.0
    by_layer = Sequential([Input((4, 2)), Masking(), layer]).predict(x, verbose=0)
    by_hand = layer(x, mask=np.any(x != 0, axis=-1)).numpy()
    np.testing.assert_allclose(by_layer, by_hand, **TOL)


def test_functional_model_passes_the_mask():
    inputs = Input((4, 2))
    lstm = LSTM(3)
    outputs = Dense(1)(lstm(Masking()(inputs)))
    model = Model(inputs, outputs)
    x = np.random.default_rng(3).normal(size=(2, 4, 2)).astype("float32")
    x[1, 2:] = 0.0
    out = model.predict(x, verbose=0)
    seq = Sequential([Input((4, 2)), Masking(), lstm, model.layers[-1]])
    np.testing.assert_allclose(out, seq.predict(x, verbose=0), **TOL)
    with torch.no_grad():
        h = lstm(torch.as_tensor(x[1:, :2]))
        np.testing.assert_allclose(out[1:], model.layers[-1](h).numpy(), atol=1e-6)
