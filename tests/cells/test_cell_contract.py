"""The cell contract at RNN's boundary: what a cell must have, what is opt-in, saving, training."""

import numpy as np
import pytest
import torch
from torch import nn

import rnnkit
from rnnkit import Bidirectional, Dense, Input, Sequential, register_serializable
from rnnkit.cells import Cell, GRUCell, LSTMCell
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.serialize import deserialize, serialize


@register_serializable(package="tests")
class ContractCell(Cell):
    """h' = tanh(x W + h U + b): saved by its registered name and get_config."""

    def __init__(self, units, scale=0.5):
        super().__init__()
        self.units, self.scale = units, scale
        self.state_size = units

    def build(self, input_size):
        super().build(input_size)
        self.kernel = nn.Parameter(torch.randn(input_size, self.units) * self.scale)
        self.recurrent_kernel = nn.Parameter(torch.randn(self.units, self.units) * self.scale)
        self.bias = nn.Parameter(torch.zeros(self.units))

    def call(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel + self.bias)
        return h, [h]

    def get_config(self):
        return {"units": self.units, "scale": self.scale}


class OnlyCall(nn.Module):
    """The least a cell can be: state_size and call (no Cell base, no fast paths)."""

    state_size = 4

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 4))

    def call(self, inputs, states):
        h = torch.tanh(inputs @ self.w + states[0])
        return h, h  # a single tensor is one state


X = torch.randn(2, 6, 3)


# -- what a cell must have --------------------------------------------------------------------------
class NoCall(nn.Module):
    state_size = 4


class NoStateSize(nn.Module):
    def call(self, inputs, states):
        return inputs, states


class CellWithoutCall(Cell):
    state_size = 4


class TextStateSize(OnlyCall):
    state_size = "4"


@pytest.mark.parametrize("cell,message", [
    (NoCall(), r"NoCall is not a cell: it has no call\."),
    (NoStateSize(), r"NoStateSize is not a cell: it has no state_size\."),
    (CellWithoutCall(), r"CellWithoutCall is not a cell: it has no call\."),
    (nn.Linear(3, 4), r"Linear is not a cell: it has no state_size and no call\."),
    (TextStateSize(), r"state_size must be a positive int .* received '4'"),
    (LSTM(4), r"received the layer LSTM .*RNN\(LSTMCell\(4\)\)"),
    (lambda x, s: (x, s), r"torch.nn.Module with state_size and call"),
], ids=["no-call", "no-state-size", "cell-without-call", "module", "text-size", "layer", "function"])
def test_a_cell_without_the_contract_is_refused_naming_what_is_missing(cell, message):
    with pytest.raises(TypeError, match=message):
        RNN(cell)


def test_bad_inputs_and_states_are_refused_with_the_expected_sizes():
    layer = RNN(OnlyCall())
    layer(X)
    with pytest.raises(ValueError, match=r"built for 3 features per step, received 5"):
        layer(torch.randn(2, 6, 5))
    hc = RNN(LSTMCell(5))
    with pytest.raises(ValueError, match=r"expects 2 state tensor\(s\) \[h, c\], received 1"):
        hc(X, initial_state=[torch.zeros(2, 5)])
    two = RNN(_TwoStates())
    with pytest.raises(ValueError, match=r"expects 2 state tensor\(s\) of sizes \[4, 2\], received 1"):
        two(X, initial_state=[torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"states must have shape \(2, 2\), received \(2, 4\)"):
        two(X, initial_state=[torch.zeros(2, 4), torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"_WrongCount.call returned 1 state\(s\), but its state_size declares 2"):
        RNN(_WrongCount())(X)


class _TwoStates(nn.Module):
    state_size = [4, 2]

    def call(self, inputs, states):
        return states[0], [states[0] + inputs.sum(1, keepdim=True), states[1]]


class _WrongCount(_TwoStates):
    def call(self, inputs, states):
        return states[0], [states[0]]


# -- fast paths are opt-in ----------------------------------------------------------------------------
def test_a_cell_with_only_state_size_and_call_runs_on_every_path_that_needs_no_fast_path():
    cell = OnlyCall()
    auto, loop = RNN(cell, return_sequences=True), RNN(cell, return_sequences=True, use_fused=False)
    out = auto(X)
    torch.testing.assert_close(out, loop(X))
    assert auto.last_path == loop.last_path == "call" and auto.units == 4
    h = torch.zeros(2, 4)
    for t in range(6):  # the same recurrence by hand
        h = torch.tanh(X[:, t] @ cell.w.detach() + h)
    torch.testing.assert_close(out[:, -1], h)
    torch.testing.assert_close(auto.step(X[:, 0], [torch.zeros(2, 4)])[0], out[:, 0])
    with pytest.raises(ValueError, match=r"use_fused=True but OnlyCall declares no fused kernel"):
        RNN(cell, use_fused=True)


def test_builtin_cells_follow_the_contract_and_keep_their_fast_paths():
    assert (LSTMCell(4).state_size, GRUCell(3).state_size, LSTMCell(4).state_count) == ([4, 4], 3, 2)
    generic, builtin = RNN(LSTMCell(4), return_state=True), LSTM(4, return_state=True)
    generic(X)
    builtin.load_state_dict(generic.state_dict())
    for got, want in zip(generic(X), builtin(X)):
        torch.testing.assert_close(got, want)
    assert generic.last_path == builtin.last_path == "fused"
    gru = RNN(GRUCell(3, recurrent_dropout=0.5))
    gru(X, training=True)
    assert gru.last_path == "loop"  # recurrent dropout: the split step, with the layer's masks
    h, states = LSTMCell(4)(X[:, 0])  # the one-step cell API
    torch.testing.assert_close(h, states[0])


def test_a_call_with_a_training_argument_is_told_the_mode():
    seen = []

    class Noisy(OnlyCall):
        def call(self, inputs, states, training=False):
            seen.append(training)
            return super().call(inputs, states)
    layer = RNN(Noisy())
    layer(X, training=True)
    layer(X)
    layer.step_function(2)(X[:, 0], [torch.zeros(2, 4)])
    assert seen == [True] * 6 + [False] * 6 + [False]


# -- saving ----------------------------------------------------------------------------------------------
def test_config_nests_the_registered_cell_and_round_trips():
    layer = RNN(ContractCell(5, scale=0.3), return_sequences=True, go_backwards=True, name="rnn_rt")
    layer(X)
    config = layer.get_config()
    assert config["cell"] == {"class_name": "tests>ContractCell", "config": {"units": 5, "scale": 0.3}}
    spec = serialize(layer)
    assert spec["class_name"] == "RNN"
    copy = deserialize(spec)
    assert isinstance(copy.cell, ContractCell) and copy.cell.scale == 0.3 and copy.go_backwards
    copy(X)
    copy.load_state_dict(layer.state_dict())
    torch.testing.assert_close(copy(X), layer(X))
    builtin = deserialize(serialize(RNN(GRUCell(3, reset_after=False))))
    assert isinstance(builtin.cell, GRUCell) and builtin.cell.reset_after is False


def test_unregistered_cells_cannot_be_saved_but_print():
    layer = RNN(OnlyCall(), return_sequences=True)
    with pytest.raises(TypeError, match=r"Cannot save a OnlyCall.*register_serializable"):
        layer.get_config()
    assert "return_sequences=True" in repr(layer) and "OnlyCall" in repr(layer)


def test_builtin_layer_configs_hold_every_argument():
    # Every constructor argument, so that from_config (and Bidirectional's backward half) rebuilds the same
    # layer: the initializers, use_fused and zero_output_for_mask were missing before (issue 18).
    assert LSTM(4, input_size=3, name="l").get_config() == {
        "name": "l", "units": 4, "activation": "tanh", "use_bias": True, "return_sequences": False,
        "return_state": False, "go_backwards": False, "stateful": False, "dropout": 0.0,
        "recurrent_dropout": 0.0, "zero_output_for_mask": False, "use_fused": "auto",
        "kernel_initializer": "glorot_uniform", "recurrent_initializer": "orthogonal", "bias_initializer": "zeros",
        "input_size": 3, "recurrent_activation": "sigmoid", "unit_forget_bias": True}
    assert GRU(2, name="g").get_config()["reset_after"] is True and "cell" not in GRU(2).get_config()


def test_in_sequential_it_trains_and_a_saved_model_predicts_the_same(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 1)).astype("float32")
    y = 0.25 * x.sum(axis=1)  # a running sum: learnable by the recurrence
    model = Sequential([Input((8, 1)), RNN(ContractCell(8)), Dense(1)])
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=10, batch_size=16, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.3 * losses[0] and losses[-1] < 0.25  # below the targets' variance (0.5)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert isinstance(loaded.layers[0].cell, ContractCell)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)


def test_bidirectional_copies_a_registered_cell_for_its_backward_half():
    layer = Bidirectional(RNN(ContractCell(3), return_sequences=True))
    out = layer(X)
    back = layer.backward_layer
    assert out.shape == (2, 6, 6) and isinstance(back.cell, ContractCell) and back.cell is not layer.forward_layer.cell
    torch.testing.assert_close(out[..., :3], layer.forward_layer(X))
    torch.testing.assert_close(out[..., 3:], back(X).flip(1))
