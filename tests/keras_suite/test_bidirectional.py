"""Keras 3's keras/src/layers/rnn/bidirectional_test.py, ported to rnnkit with Keras's expected numbers
and tolerances (atol=rtol=1e-5), plus config round trips of every recurrent layer (issue 18).

Keras names: `use_cudnn` is rnnkit's `use_fused`; `reset_state()` is `reset_states()`.

Not applicable (Keras internals):
- test_basics: `run_layer_test` checks Keras machinery (symbolic build, serialization through Keras's
  saving library, masking flags); its shapes and weight counts are checked below.
- test_output_shape: rnnkit layers have no `compute_output_shape`; the output shapes it compares are
  checked against the actual outputs below instead.
- test_fused_lstm_eligibility, test_fused_gru_eligibility: test the private
  `Bidirectional._can_attempt_fused_lstm/_gru` dispatch of Keras's backend-level fused bidirectional
  kernels; rnnkit fuses each half in its own cell (`use_fused`), and has no such method.
- test_torch_cudnn_bidirectional_gru_dispatch_fires: spies on Keras's torch-backend cuDNN dispatch.
  (test_fused_lstm_matches_unfused / test_fused_gru_matches_unfused are ported with use_fused.)
"""

import numpy as np
import pytest
import torch

from rnnkit.initializers import Constant, glorot_uniform_
from rnnkit.layers import GRU, LSTM, RNN, Bidirectional, Dense, SimpleRNN, TimeDistributed
from rnnkit.layers.serialize import deserialize, serialize

TOL = dict(atol=1e-5, rtol=1e-5)


def _const(cls, *args, **kwargs):
    return cls(*args, kernel_initializer=Constant(0.01), recurrent_initializer=Constant(0.02),
               bias_initializer=Constant(0.03), **kwargs)


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual.detach()), np.array(expected), **TOL)


# Keras: test_basics
def test_basics_shapes_and_weights():
    x = torch.zeros(3, 2, 4)
    layer = Bidirectional(SimpleRNN(4))
    assert tuple(layer(x).shape) == (3, 8)
    assert len(list(layer.parameters())) == 6
    layer = Bidirectional(SimpleRNN(4), backward_layer=SimpleRNN(4, go_backwards=True), merge_mode="sum")
    assert tuple(layer(x).shape) == (3, 4)
    assert len(list(layer.parameters())) == 6


# Keras: test_correctness
def test_correctness():
    sequence = np.arange(24).reshape((2, 3, 4)).astype("float32")
    forward_layer = _const(SimpleRNN, 2)
    _close(Bidirectional(layer=forward_layer)(sequence),
           [[0.39687276, 0.39687276, 0.10004295, 0.10004295], [0.7237238, 0.7237238, 0.53391594, 0.53391594]])
    _close(Bidirectional(layer=forward_layer, merge_mode="ave")(sequence),
           [[0.24845785, 0.24845785], [0.6288199, 0.6288199]])
    output1, output2 = Bidirectional(layer=forward_layer, merge_mode=None)(sequence)
    _close(output1, [[0.39687276, 0.39687276], [0.7237238, 0.7237238]])
    _close(output2, [[0.10004295, 0.10004295], [0.53391594, 0.53391594]])

    backward_layer = SimpleRNN(2, kernel_initializer=Constant(0.03), recurrent_initializer=Constant(0.02),
                               bias_initializer=Constant(0.01), go_backwards=True)
    layer = Bidirectional(layer=forward_layer, backward_layer=backward_layer, merge_mode="mul")
    _close(layer(sequence), [[0.08374989, 0.08374989], [0.6740834, 0.6740834]])

    forward_layer = _const(GRU, 2, return_sequences=True)
    _close(Bidirectional(layer=forward_layer, merge_mode="sum")(sequence),
           [[[0.20937867, 0.20937867], [0.34462988, 0.34462988], [0.40290534, 0.40290534]],
            [[0.59829646, 0.59829646], [0.6734641, 0.6734641], [0.6479671, 0.6479671]]])


# Keras: test_statefulness
def test_statefulness():
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    layer = Bidirectional(layer=_const(LSTM, 2, stateful=True))
    expected = [[0.26234663, 0.26234663, 0.16959146, 0.16959146], [0.6137073, 0.6137073, 0.5381646, 0.5381646]]
    layer(sequence)
    _close(layer(sequence), expected)
    layer.reset_states()
    layer(sequence)
    _close(layer(sequence), expected)


# Keras: test_pass_initial_state
def test_pass_initial_state():
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    initial_state = [np.arange(4).reshape((2, 2)).astype("float32") * k for k in (1, 2, 3, 4)]
    layer = Bidirectional(layer=_const(LSTM, 2))
    _close(layer(sequence, initial_state=initial_state),
           [[0.20794602, 0.4577124, 0.14046375, 0.48191673], [0.6682636, 0.6711909, 0.60943645, 0.60950446]])


# Keras: test_masking
def test_masking():
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    layer = Bidirectional(layer=_const(GRU, 2))
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    _close(layer(sequence, mask=mask),
           [[0.19393763, 0.19393763, 0.11669192, 0.11669192], [0.30818558, 0.30818558, 0.28380975, 0.28380975]])


# Keras: test_return_state
def test_return_state():
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    layer = Bidirectional(layer=_const(LSTM, 2, return_state=True))
    output, h1, c1, h2, c2 = layer(sequence)
    _close(output, [[0.1990008, 0.1990008, 0.12659755, 0.12659755],
                    [0.52335435, 0.52335435, 0.44717982, 0.44717982]])
    _close(h1, [[0.1990008, 0.1990008], [0.52335435, 0.52335435]])
    _close(c1, [[0.35567185, 0.35567185], [1.0492687, 1.0492687]])
    _close(h2, [[0.12659755, 0.12659755], [0.44717982, 0.44717982]])
    _close(c2, [[0.2501858, 0.2501858], [0.941473, 0.941473]])


# Keras: test_output_shape (shapes Keras's compute_output_shape gives for this input)
@pytest.mark.parametrize("merge_mode", ["ave", "concat", "mul", "sum", None])
def test_output_shape(merge_mode):
    x = np.array([[[101, 202], [303, 404]]])
    width = 4 if merge_mode == "concat" else 2
    out = Bidirectional(LSTM(2, return_state=True), merge_mode=merge_mode)(x)
    outputs = [(1, 2), (1, 2)] if merge_mode is None else [(1, width)]
    assert [tuple(o.shape) for o in out] == outputs + [(1, 2)] * 4
    out = Bidirectional(LSTM(2), merge_mode=merge_mode)(x)
    if merge_mode is None:
        assert [tuple(o.shape) for o in out] == [(1, 2), (1, 2)]
    else:
        assert tuple(out.shape) == (1, width)


# Keras: test_keeps_use_cudnn (rnnkit's use_fused, on every built-in layer)
@pytest.mark.parametrize("cls", [GRU, LSTM, SimpleRNN])
@pytest.mark.parametrize("use_fused", [True, False, "auto"])
def test_keeps_use_fused(cls, use_fused):
    bidi = Bidirectional(cls(1, use_fused=use_fused))
    assert bidi.forward_layer.use_fused == use_fused
    assert bidi.backward_layer.use_fused == use_fused


# Keras: test_fused_lstm_matches_unfused, test_fused_gru_matches_unfused
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_fused_matches_unfused(cls):
    x = np.random.default_rng(0).standard_normal((3, 6, 4)).astype("float32")
    ref = Bidirectional(cls(5, use_fused=False, return_sequences=True, input_size=4))
    fused = Bidirectional(cls(5, use_fused="auto", return_sequences=True, input_size=4))
    fused.set_keras_weights(ref.keras_weights())
    np.testing.assert_allclose(ref(x).numpy(), fused(x).numpy(), atol=1e-5)


# -- issue 18: configs round-trip every constructor argument -------------------------------------
def _non_default(cls):
    common = dict(activation="relu", use_bias=True, dropout=0.25, recurrent_dropout=0.5,
                  return_sequences=True, go_backwards=False, stateful=False, zero_output_for_mask=True,
                  use_fused=False, kernel_initializer="he_normal", recurrent_initializer=Constant(0.02),
                  bias_initializer=0.03, input_size=3, name=f"custom_{cls.__name__.lower()}")
    if cls is LSTM:
        common.update(recurrent_activation="hard_sigmoid", unit_forget_bias=False)
    if cls is GRU:
        common.update(recurrent_activation="hard_sigmoid", reset_after=False)
    return cls(4, **common)


def _roundtrip(layer):
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    again = deserialize(serialize(layer))
    assert again.get_config() == layer.get_config()
    copy.set_keras_weights(layer.keras_weights())
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(layer(x)), atol=1e-6)
    return copy


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_recurrent_config_roundtrip(cls):
    layer = _non_default(cls)
    config = layer.get_config()
    assert config["kernel_initializer"] == "he_normal"
    assert config["recurrent_initializer"] == 0.02 and config["bias_initializer"] == 0.03
    assert config["zero_output_for_mask"] is True and config["use_fused"] is False
    copy = _roundtrip(layer)
    assert copy.cell.recurrent_initializer.value == 0.02 and copy.cell.bias_initializer.value == 0.03


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_bidirectional_config_roundtrip(cls):
    layer = Bidirectional(_non_default(cls), merge_mode="mul")
    copy = _roundtrip(layer)
    assert copy.merge_mode == "mul" and copy.backward_layer.go_backwards


def test_time_distributed_config_roundtrip():
    layer = TimeDistributed(Dense(2, activation="tanh", input_size=3, name="td_dense"))
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    copy.set_keras_weights(layer.keras_weights())
    x = np.random.default_rng(2).standard_normal((2, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(layer(x)), atol=1e-6)


def test_rnn_config_roundtrip():
    from rnnkit.cells import LSTMCell
    layer = RNN(LSTMCell(3, kernel_initializer=Constant(0.1), input_size=3), return_sequences=True,
                zero_output_for_mask=True, use_fused=False)
    copy = RNN(**layer.get_config())
    assert copy.get_config() == layer.get_config()
    assert copy.cell.kernel_initializer.value == 0.1


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_backward_half_keeps_every_argument(cls):
    forward = _non_default(cls)
    bidi = Bidirectional(forward)
    fw, bw = bidi.forward_layer.get_config(), bidi.backward_layer.get_config()
    differ = {k for k in fw if fw[k] != bw.get(k)}
    assert differ == {"name", "go_backwards"}
    for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
        assert getattr(bidi.backward_layer.cell, key) is getattr(forward.cell, key)


def test_backward_half_keeps_a_custom_initializer():
    calls = []

    def init(w):
        calls.append(tuple(w.shape))
        return glorot_uniform_(w)

    bidi = Bidirectional(SimpleRNN(2, kernel_initializer=init, input_size=3))
    assert bidi.backward_layer.cell.kernel_initializer is init
    assert calls == [(2, 3), (2, 3)]
