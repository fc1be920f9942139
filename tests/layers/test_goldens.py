"""Keras's own published golden values (keras/src/layers/rnn/*_test.py): constant weights 0.01/0.02/0.03."""

import numpy as np
import pytest

from rnnkit.layers import GRU, LSTM, SimpleRNN

CONST = dict(kernel_initializer=0.01, recurrent_initializer=0.02, bias_initializer=0.03)
SEQ72 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ24 = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ24_T4 = np.arange(24).reshape((2, 4, 3)).astype("float32")
MASK = np.array([[True, True, False, True], [True, False, False, True]])


@pytest.mark.parametrize("use_fused", ["auto", False], ids=["fused", "loop"])
@pytest.mark.parametrize("cls, kwargs, x, expected", [
    (LSTM, {}, SEQ72, [0.6288687, 0.86899155, 0.9460773]),
    (LSTM, {"go_backwards": True}, SEQ72, [0.35622165, 0.74789524, 0.8872726]),
    (LSTM, {"unit_forget_bias": False}, SEQ72, [0.57019705, 0.8661914, 0.9459622]),
    (GRU, {}, SEQ72, [0.5217289, 0.6371659, 0.39384964]),
    (GRU, {"go_backwards": True}, SEQ72, [0.24406259, 0.611516, 0.3928808]),
    (GRU, {"reset_after": False}, SEQ72, [0.51447755, 0.6426879, 0.40208298]),
    (GRU, {"use_bias": False}, SEQ72, [0.49988455, 0.64701194, 0.4103359]),
    (SimpleRNN, {}, SEQ24, [0.405432, 0.73605347]),
    (SimpleRNN, {"go_backwards": True}, SEQ24, [0.11144729, 0.5528889]),
], ids=["lstm", "lstm-backwards", "lstm-no-forget-bias", "gru", "gru-backwards", "gru-reset-before",
        "gru-no-bias", "simplernn", "simplernn-backwards"])
def test_keras_golden_last_output(cls, kwargs, x, expected, use_fused):
    units = 3 if x is SEQ72 else 4
    out = cls(units, use_fused=use_fused, **CONST, **kwargs)(x).detach().numpy()
    # constant weights make every unit equal: check all columns
    np.testing.assert_allclose(out, np.repeat(np.array(expected)[:, None], units, 1), atol=1e-5)


@pytest.mark.parametrize("cls, expected", [
    (GRU, [0.29542392, 0.5885018]),
    (SimpleRNN, [0.40559256, 0.7361247]),
])
def test_keras_golden_stateful_second_call_and_reset(cls, expected):
    layer = cls(4, stateful=True, **CONST)
    layer(SEQ24)
    np.testing.assert_allclose(layer(SEQ24).detach().numpy()[:, 0], expected, atol=1e-5)
    layer.reset_states()
    layer(SEQ24)
    np.testing.assert_allclose(layer(SEQ24).detach().numpy()[:, 0], expected, atol=1e-5)


def test_keras_golden_initial_state():
    init = np.arange(4).reshape((2, 2)).astype("float32")
    out = GRU(2, **CONST)(SEQ24_T4, initial_state=init).detach().numpy()
    np.testing.assert_allclose(out, [[0.23774096, 0.33508456], [0.83659905, 1.0227708]], atol=1e-5)
    out = GRU(2, go_backwards=True, **CONST)(SEQ24_T4, initial_state=init).detach().numpy()
    np.testing.assert_allclose(out, [[0.13486053, 0.23261218], [0.78257304, 0.9691353]], atol=1e-5)
    init = np.arange(8).reshape((2, 4)).astype("float32")
    out = SimpleRNN(4, **CONST)(SEQ24_T4, initial_state=init).detach().numpy()[:, 0]
    np.testing.assert_allclose(out, [0.33621645, 0.6262637], atol=1e-5)


def test_keras_golden_masking():
    out = GRU(2, **CONST)(SEQ24_T4, mask=MASK).detach().numpy()
    np.testing.assert_allclose(out, [[0.19393763] * 2, [0.30818558] * 2], atol=1e-5)
    seq = GRU(2, return_sequences=True, **CONST)(SEQ24_T4, mask=MASK).detach().numpy()
    np.testing.assert_allclose(seq[1, :, 0], [0.16051409, 0.16051409, 0.16051409, 0.30818558], atol=1e-5)
    zeroed = GRU(2, return_sequences=True, zero_output_for_mask=True, **CONST)(SEQ24_T4, mask=MASK)
    np.testing.assert_allclose(zeroed.detach().numpy()[0, :, 0], [0.03606692, 0.09497581, 0.0, 0.19393763],
                               atol=1e-5)
    out = GRU(2, go_backwards=True, **CONST)(SEQ24_T4, mask=MASK).detach().numpy()
    np.testing.assert_allclose(out[:, 0], [0.11669192, 0.28380975], atol=1e-5)
    out = SimpleRNN(4, go_backwards=True, **CONST)(SEQ24_T4, mask=MASK).detach().numpy()
    np.testing.assert_allclose(out[:, 0], [0.07376196, 0.43645123], atol=1e-5)
