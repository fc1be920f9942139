"""Keras 3's keras/src/layers/rnn/rnn_test.py (v3.15.1, the release rnnkit is compared with), ported to
rnnkit with Keras's expected numbers (assertAllClose's atol=rtol=1e-6 unless the test says otherwise).

The custom cells (keras_rnn_cells.py) are Keras's, written to rnnkit's cell contract. Keras's master
(a8b52ca, July 2026, unreleased) turns `supports_masking` off on RNN layers; v3.15.1 has it on, as
rnnkit does, so the run_layer_test cases expect True.

Not applicable (Keras internals): run_layer_test's seed-generator, symbolic and mixed-precision
checks (layer_helpers.py checks what applies).
"""

import numpy as np
import pytest
import torch

from rnnkit import Model
from rnnkit.layers import RNN, Input
from rnnkit.layers.serialize import deserialize, serialize

from keras_rnn_cells import OneStateRNNCell, TwoStatesRNNCell
from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


def close(actual, expected, **tol):
    as_array = lambda a: a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    np.testing.assert_allclose(as_array(actual), as_array(expected), **(tol or TOL))


# Keras: test_basics
@pytest.mark.parametrize("init_kwargs, trainable, output_shape", [
    ({"cell": OneStateRNNCell(5, state_size=5)}, 2, (3, 5)),
    ({"cell": OneStateRNNCell(5, state_size=[5])}, 2, (3, 5)),
    ({"cell": OneStateRNNCell(5, state_size=(5,))}, 2, (3, 5)),
    ({"cell": OneStateRNNCell(5), "return_sequences": True}, 2, (3, 2, 5)),
    ({"cell": OneStateRNNCell(5), "go_backwards": True, "unroll": True}, 2, (3, 5)),
    ({"cell": TwoStatesRNNCell(5, state_size=[5, 5])}, 3, (3, 5)),
    ({"cell": TwoStatesRNNCell(5, state_size=(5, 5))}, 3, (3, 5)),
    ({"cell": TwoStatesRNNCell(5), "return_sequences": True}, 3, (3, 2, 5)),
], ids=["one_int", "one_list", "one_tuple", "one_sequences", "one_backwards_unroll", "two_list", "two_tuple",
        "two_sequences"])
def test_basics(init_kwargs, trainable, output_shape):
    run_layer_test(RNN, init_kwargs=init_kwargs, input_shape=(3, 2, 4), expected_output_shape=output_shape,
                   expected_num_trainable_weights=trainable, expected_num_non_trainable_weights=0,
                   supports_masking=True)


# Keras: test_compute_output_shape_single_state
def test_compute_output_shape_single_state():
    shape = np.ones((3, 4, 5)).shape
    assert RNN(OneStateRNNCell(8), return_sequences=False).compute_output_shape(shape) == (3, 8)
    assert RNN(OneStateRNNCell(8), return_sequences=True).compute_output_shape(shape) == (3, 4, 8)
    out = RNN(OneStateRNNCell(8), return_sequences=False, return_state=True).compute_output_shape(shape)
    assert out[0] == (3, 8) and out[1] == (3, 8)
    out = RNN(OneStateRNNCell(8), return_sequences=True, return_state=True).compute_output_shape(shape)
    assert out[0] == (3, 4, 8) and out[1] == (3, 8)


# Keras: test_compute_output_shape_two_states
def test_compute_output_shape_two_states():
    shape = np.ones((3, 4, 5)).shape
    assert RNN(TwoStatesRNNCell(8), return_sequences=False).compute_output_shape(shape) == (3, 8)
    assert RNN(TwoStatesRNNCell(8), return_sequences=True).compute_output_shape(shape) == (3, 4, 8)
    out = RNN(TwoStatesRNNCell(8), return_sequences=False, return_state=True).compute_output_shape(shape)
    assert out[0] == (3, 8) and out[1] == (3, 8) and out[2] == (3, 8)
    out = RNN(TwoStatesRNNCell(8), return_sequences=True, return_state=True).compute_output_shape(shape)
    assert out[0] == (3, 4, 8) and out[1] == (3, 8) and out[2] == (3, 8)


# Keras: test_dynamic_shapes
@pytest.mark.parametrize("cell_cls", [OneStateRNNCell, TwoStatesRNNCell], ids=["one_state", "two_states"])
def test_dynamic_shapes(cell_cls):
    shape = (None, None, 3)
    assert RNN(cell_cls(8), return_sequences=False).compute_output_shape(shape) == (None, 8)
    assert RNN(cell_cls(8), return_sequences=True).compute_output_shape(shape) == (None, None, 8)
    out = RNN(cell_cls(8), return_sequences=False, return_state=True).compute_output_shape(shape)
    assert out[0] == (None, 8) and all(s == (None, 8) for s in out[1:])
    out = RNN(cell_cls(8), return_sequences=True, return_state=True).compute_output_shape(shape)
    assert out[0] == (None, None, 8) and all(s == (None, 8) for s in out[1:])
    assert len(out) == (2 if cell_cls is OneStateRNNCell else 3)


# Keras: test_forward_pass_single_state
def test_forward_pass_single_state():
    sequence = np.ones((1, 2, 3))
    close(RNN(OneStateRNNCell(2), return_sequences=False)(sequence), [[9.0, 9.0]])
    close(RNN(OneStateRNNCell(2), return_sequences=True)(sequence), [[[3.0, 3.0], [9.0, 9.0]]])
    output, state = RNN(OneStateRNNCell(2), return_sequences=False, return_state=True)(sequence)
    close(output, [[9.0, 9.0]])
    close(state, [[9.0, 9.0]])
    output, state = RNN(OneStateRNNCell(2), return_sequences=True, return_state=True)(sequence)
    close(output, [[[3.0, 3.0], [9.0, 9.0]]])
    close(state, [[9.0, 9.0]])


# Keras: test_forward_pass_two_states
def test_forward_pass_two_states():
    sequence = np.ones((1, 2, 3))
    close(RNN(TwoStatesRNNCell(2), return_sequences=False)(sequence), [[18.0, 18.0]])
    close(RNN(TwoStatesRNNCell(2), return_sequences=True)(sequence), [[[6.0, 6.0], [18.0, 18.0]]])
    output, state1, state2 = RNN(TwoStatesRNNCell(2), return_sequences=False, return_state=True)(sequence)
    close(output, [[18.0, 18.0]])
    close(state1, [[9.0, 9.0]])
    close(state2, [[9.0, 9.0]])
    output, state1, state2 = RNN(TwoStatesRNNCell(2), return_sequences=True, return_state=True)(sequence)
    close(output, [[[6.0, 6.0], [18.0, 18.0]]])
    close(state1, [[9.0, 9.0]])
    close(state2, [[9.0, 9.0]])


# Keras: test_passing_initial_state_single_state
def test_passing_initial_state_single_state():
    sequence = np.ones((2, 3, 2))
    state = np.ones((2, 2))
    close(RNN(OneStateRNNCell(2), return_sequences=False)(sequence, initial_state=state), [[22.0, 22.0]] * 2)
    output, state = RNN(OneStateRNNCell(2), return_sequences=False, return_state=True)(sequence,
                                                                                       initial_state=state)
    close(output, [[22.0, 22.0]] * 2)
    close(state, [[22.0, 22.0]] * 2)


# Keras: test_passing_initial_state_two_states
def test_passing_initial_state_two_states():
    sequence = np.ones((2, 3, 2))
    state = [np.ones((2, 2)), np.ones((2, 2))]
    close(RNN(TwoStatesRNNCell(2), return_sequences=False)(sequence, initial_state=state), [[44.0, 44.0]] * 2)
    output, state_1, state_2 = RNN(TwoStatesRNNCell(2), return_sequences=False,
                                   return_state=True)(sequence, initial_state=state)
    close(output, [[44.0, 44.0]] * 2)
    close(state_1, [[22.0, 22.0]] * 2)
    close(state_2, [[22.0, 22.0]] * 2)


# Keras: test_statefulness_single_state
def test_statefulness_single_state():
    sequence = np.ones((1, 2, 3))
    layer = RNN(OneStateRNNCell(2), stateful=True)
    layer(sequence)
    close(layer(sequence), [[45.0, 45.0]])

    layer = RNN(OneStateRNNCell(2), stateful=True, return_state=True)
    layer(sequence)
    output, state = layer(sequence)
    close(output, [[45.0, 45.0]])
    close(state, [[45.0, 45.0]])


# Keras: test_statefulness_two_states
def test_statefulness_two_states():
    sequence = np.ones((1, 2, 3))
    layer = RNN(TwoStatesRNNCell(2), stateful=True)
    layer(sequence)
    close(layer(sequence), [[90.0, 90.0]])

    layer = RNN(TwoStatesRNNCell(2), stateful=True, return_state=True)
    layer(sequence)
    output, state_1, state_2 = layer(sequence)
    close(output, [[90.0, 90.0]])
    close(state_1, [[45.0, 45.0]])
    close(state_2, [[45.0, 45.0]])


# Keras: test_go_backwards
def test_go_backwards():
    sequence = np.arange(24).reshape((2, 3, 4)).astype("float32")
    layer = RNN(OneStateRNNCell(2), go_backwards=True)
    layer(sequence)
    close(layer(sequence), [[202.0, 202.0], [538.0, 538.0]])

    layer = RNN(OneStateRNNCell(2), stateful=True, return_state=True)
    layer(sequence)
    output, state = layer(sequence)
    close(output, [[954.0, 954.0], [3978.0, 3978.0]])
    close(state, [[954.0, 954.0], [3978.0, 3978.0]])


# Keras: test_serialization (run_class_serialization_test: the config survives from_config and
# serialize/deserialize unchanged)
@pytest.mark.parametrize("cell_cls", [TwoStatesRNNCell, OneStateRNNCell], ids=["two_states", "one_state"])
def test_serialization(cell_cls):
    layer = RNN(cell_cls(2), return_sequences=False)
    config = layer.get_config()
    revived = RNN.from_config(config)
    assert revived.get_config() == config
    assert type(revived.cell) is cell_cls
    again = deserialize(serialize(layer))
    assert type(again) is RNN and again.get_config() == config


# Keras: test_stateful_batch_size_mismatch_raises
def test_stateful_batch_size_mismatch_raises():
    batch_size, timesteps, features = 4, 5, 3
    layer = RNN(TwoStatesRNNCell(2), stateful=True)
    inputs = Input(shape=(timesteps, features), batch_size=batch_size)
    model = Model(inputs, layer(inputs))
    model(torch.rand(batch_size, timesteps, features))
    with pytest.raises(ValueError, match="batch size"):
        model(torch.rand(1, timesteps, features))


# Keras: test_masking (unroll=False and unroll=True give the same numbers in Keras; rnnkit's loop is one)
@pytest.mark.parametrize("unroll", [False, True], ids=["loop", "unroll"])
def test_masking(unroll):
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    tol = dict(atol=1e-5, rtol=1e-5)
    output = RNN(OneStateRNNCell(2), unroll=unroll)(sequence, mask=mask)
    close(output, [[57.0, 57.0], [126.0, 126.0]], **tol)
    output = RNN(OneStateRNNCell(2), return_sequences=True, unroll=unroll)(sequence, mask=mask)
    close(output, [[[3.0, 3.0], [18.0, 18.0], [57.0, 57.0], [57.0, 57.0]],
                   [[39.0, 39.0], [126.0, 126.0], [126.0, 126.0], [126.0, 126.0]]], **tol)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_unroll_is_kept_in_the_config_and_must_be_a_boolean():
    assert RNN(OneStateRNNCell(2), unroll=True).get_config()["unroll"] is True
    assert "unroll" not in RNN(OneStateRNNCell(2)).get_config()
    with pytest.raises(TypeError, match="unroll"):
        RNN(OneStateRNNCell(2), unroll="yes")


def test_masked_first_steps_output_zeros_until_a_real_step():
    """Keras's rule with no earlier output to carry: a masked first step outputs zeros and keeps the
    initial state."""
    sequence = np.ones((1, 3, 2), "float32")
    out = RNN(OneStateRNNCell(2), return_sequences=True)(sequence, mask=np.array([[False, True, True]]))
    close(out, [[[0.0, 0.0], [2.0, 2.0], [6.0, 6.0]]])
