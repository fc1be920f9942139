"""User cells inside RNN(cell) (Keras's custom-cell API), checked against the same math written by hand.

Each cell's arithmetic is written twice: in the cell (what RNN runs) and in a plain function here,
which a hand loop over time applies with Keras's rules for masks, states and outputs.
"""

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit import Dense, Input, Sequential, Stream, generate
from rnnkit.cells import Cell
from rnnkit.layers import LSTM, RNN, SimpleRNN


class TanhCell(Cell):
    """h' = tanh(x W + h U + b), weights sized lazily in build (one state)."""

    def __init__(self, units):
        super().__init__()
        self.units = units
        self.state_size = units

    def build(self, input_size):
        super().build(input_size)
        self.kernel = nn.Parameter(torch.randn(input_size, self.units) * 0.6)
        self.recurrent_kernel = nn.Parameter(torch.randn(self.units, self.units) * 0.6)
        self.bias = nn.Parameter(torch.randn(self.units) * 0.2)

    def call(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel + self.bias)
        return h, [h]


class HCCell(nn.Module):
    """Keras's LSTMCell math (states h, c; gates i, f, c, o), a plain module with weights made up front."""

    def __init__(self, input_size, units):
        super().__init__()
        self.state_size = (units, units)
        self.kernel = nn.Parameter(torch.randn(input_size, 4 * units) * 0.5)
        self.recurrent_kernel = nn.Parameter(torch.randn(units, 4 * units) * 0.5)
        self.bias = nn.Parameter(torch.randn(4 * units) * 0.3)

    def call(self, inputs, states):
        h, c = states
        i, f, g, o = (inputs @ self.kernel + h @ self.recurrent_kernel + self.bias).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class ScoredCell(TanhCell):
    """State h as TanhCell; the output is a score h' v of size 1, so output and state differ."""

    output_size = 1

    def build(self, input_size):
        super().build(input_size)
        self.v = nn.Parameter(torch.randn(self.units, 1))

    def call(self, inputs, states):
        _, new = super().call(inputs, states)
        return new[0] @ self.v, new


class RunningMax(nn.Module):
    """No weights: h' = max(h, x)."""

    state_size = 3

    def call(self, inputs, states):
        m = torch.maximum(states[0], inputs)
        return m, [m]


# -- the math by hand ------------------------------------------------------------------------------
def tanh_math(cell):
    W, U, b = (p.detach() for p in (cell.kernel, cell.recurrent_kernel, cell.bias))

    def step(x_t, s):
        h = torch.tanh(x_t @ W + s[0] @ U + b)
        return h, [h]
    return step


def scored_math(cell):
    step, v = tanh_math(cell), cell.v.detach()

    def scored(x_t, s):
        h, new = step(x_t, s)
        return h @ v, new
    return scored


def lstm_math(cell):
    W, U, b = (p.detach() for p in (cell.kernel, cell.recurrent_kernel, cell.bias))

    def step(x_t, s):
        z = x_t @ W + s[0] @ U + b
        H = s[0].shape[1]
        i, f, g, o = (torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2 * H]), torch.tanh(z[:, 2 * H:3 * H]),
                      torch.sigmoid(z[:, 3 * H:]))
        c = f * s[1] + i * g
        h = o * torch.tanh(c)
        return h, [h, c]
    return step


def hand_loop(step, x, states, mask=None, zero_output=False):
    """Keras's time loop, row by row: a masked step keeps the row's states and repeats its previous
    output (zeros before its first valid step), or outputs zeros with zero_output."""
    out_size = step(x[:1, 0], [s[:1] for s in states])[0].shape[1]
    rows_out, rows_states = [], []
    for b in range(x.shape[0]):
        s, prev, outs = [st[b:b + 1] for st in states], torch.zeros(1, out_size), []
        for t in range(x.shape[1]):
            if mask is None or mask[b, t]:
                prev, s = step(x[b:b + 1, t], s)
                outs.append(prev)
            else:
                outs.append(torch.zeros(1, out_size) if zero_output else prev)
        rows_out.append(torch.cat(outs))
        rows_states.append(s)
    return torch.stack(rows_out), [torch.cat(s) for s in zip(*rows_states)]


def _built(cell, features=3):
    if hasattr(cell, "build"):
        cell.build(features)
    return cell


X = torch.randn(3, 7, 3)
MASK = torch.tensor([[0, 0, 1, 1, 1, 1, 1],   # left padding
                     [1, 1, 1, 1, 1, 0, 0],   # right padding
                     [1, 0, 1, 1, 0, 1, 0]], dtype=torch.bool)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("make,math,sizes", [(lambda: TanhCell(4), tanh_math, [4]),
                                             (lambda: HCCell(3, 5), lstm_math, [5, 5]),
                                             (lambda: ScoredCell(4), scored_math, [4])],
                         ids=["one-state", "two-state", "output-not-state"])
def test_user_cell_equals_hand_loop(make, math, sizes, return_sequences):
    cell = _built(make())
    layer = RNN(cell, return_sequences=return_sequences, return_state=True)
    out, *states = layer(X)
    want_out, want_states = hand_loop(math(cell), X, [torch.zeros(3, n) for n in sizes])
    torch.testing.assert_close(out, want_out if return_sequences else want_out[:, -1])
    assert len(states) == len(sizes)
    for got, want in zip(states, want_states):
        torch.testing.assert_close(got, want)
    assert layer.last_path == "call" and layer.units == (1 if isinstance(cell, ScoredCell) else sizes[0])


def test_initial_state_and_go_backwards_follow_the_hand_loop():
    cell = _built(HCCell(3, 5))
    h0, c0 = torch.randn(3, 5), torch.randn(3, 5)
    layer = RNN(cell, return_sequences=True, return_state=True, go_backwards=True)
    out, h, c = layer(X, initial_state=[h0, c0])
    want_out, (want_h, want_c) = hand_loop(lstm_math(cell), X.flip(1), [h0, c0])
    torch.testing.assert_close(out, want_out)  # reading order: the last input step first, as Keras
    torch.testing.assert_close(h, want_h)
    torch.testing.assert_close(c, want_c)


@pytest.mark.parametrize("zero_output", [False, True], ids=["repeat", "zeros"])
@pytest.mark.parametrize("make,math", [(lambda: ScoredCell(4), scored_math), (lambda: HCCell(3, 5), lstm_math)],
                         ids=["output-not-state", "two-state"])
def test_masked_steps_keep_states_and_repeat_or_zero_the_output(make, math, zero_output):
    cell = _built(make())
    layer = RNN(cell, return_sequences=True, return_state=True, zero_output_for_mask=zero_output)
    out, *states = layer(X, mask=MASK)
    sizes = [4] if isinstance(cell, ScoredCell) else [5, 5]
    want_out, want_states = hand_loop(math(cell), X, [torch.zeros(3, n) for n in sizes], MASK, zero_output)
    torch.testing.assert_close(out, want_out)
    for got, want in zip(states, want_states):
        torch.testing.assert_close(got, want)
    if not zero_output:  # the last output of a right-padded row is its last valid step's
        last = RNN(cell, zero_output_for_mask=False)(X, mask=MASK)
        torch.testing.assert_close(last, want_out[:, -1])
        torch.testing.assert_close(last[1], out[1, 4])


def test_stateful_chunks_equal_the_whole_sequence_and_reset_starts_from_zeros():
    cell = _built(HCCell(3, 5))
    layer = RNN(cell, return_sequences=True, stateful=True)
    whole, (h, c) = hand_loop(lstm_math(cell), X, [torch.zeros(3, 5)] * 2)
    chunks = torch.cat([layer(X[:, :4]), layer(X[:, 4:])], dim=1)
    torch.testing.assert_close(chunks, whole)
    kept = layer.state_store[layer.state_key]
    torch.testing.assert_close(kept[0], h)
    torch.testing.assert_close(kept[1], c)
    layer.reset_states()
    assert layer.states is None and layer.state_key not in layer.state_store
    torch.testing.assert_close(layer(X[:, 4:]), hand_loop(lstm_math(cell), X[:, 4:], [torch.zeros(3, 5)] * 2)[0])
    layer.reset_states([torch.ones(3, 5), torch.zeros(3, 5)])
    torch.testing.assert_close(layer(X[:, :2]), hand_loop(lstm_math(cell), X[:, :2],
                                                          [torch.ones(3, 5), torch.zeros(3, 5)])[0])


def test_user_cell_with_simple_rnn_math_equals_simple_rnn():
    cell = _built(TanhCell(5))
    ours = RNN(cell, return_sequences=True)
    theirs = SimpleRNN(5, return_sequences=True)
    theirs.set_keras_weights([p.detach().numpy() for p in (cell.kernel, cell.recurrent_kernel, cell.bias)])
    torch.testing.assert_close(ours(X), theirs(X), atol=1e-6, rtol=1e-5)
    assert (ours.last_path, theirs.last_path) == ("call", "fused")
    right_padded = torch.arange(7)[None, :] < torch.tensor([[7], [5], [2]])
    torch.testing.assert_close(ours(X, mask=right_padded), theirs(X, mask=right_padded), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours(X, mask=MASK), theirs(X, mask=MASK), atol=1e-6, rtol=1e-5)
    assert theirs.last_path == "loop"  # left and middle padding: the built-in step loop


def test_user_cell_with_lstm_math_equals_lstm():
    cell = HCCell(3, 6)
    ours = RNN(cell, return_state=True)
    theirs = LSTM(6, return_state=True)
    theirs.set_keras_weights([p.detach().numpy() for p in (cell.kernel, cell.recurrent_kernel, cell.bias)])
    for got, want in zip(ours(X), theirs(X)):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


def test_cell_without_weights():
    layer = RNN(RunningMax(), return_sequences=True, return_state=True)
    out, m = layer(X)
    torch.testing.assert_close(out, torch.cummax(X, dim=1).values.clamp(min=0))  # max(0, x_1..x_t)
    torch.testing.assert_close(m, out[:, -1])
    model = Sequential([Input((7, 3)), RNN(RunningMax()), Dense(2)])
    dense = model.layers[-1]
    torch.testing.assert_close(torch.as_tensor(model.predict(X.numpy())), dense(out[:, -1]).detach())
    stateful = RNN(RunningMax(), stateful=True)
    stateful.reset_states([torch.full((3, 3), 9.0)])
    assert float(stateful(X).min()) == 9.0


def test_step_and_step_function_advance_like_the_sequence():
    cell = _built(HCCell(3, 5))
    layer = RNN(cell, return_sequences=True, return_state=True)
    out, h, c = layer(X[:, :2])
    states = layer.get_initial_state(3)
    for t in range(2):
        states = layer.step(X[:, t], states)
    torch.testing.assert_close(states, [h, c])
    torch.testing.assert_close(layer.step_function(3)(X[:, 0], layer.get_initial_state(3))[0], out[:, 0])


def test_generate_and_stream_with_a_user_cell_equal_running_the_model():
    model = Sequential([Input((None, 3)), RNN(TanhCell(6)), Dense(3)])
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    seq, fed_back = x, []
    for _ in range(3):  # each output is the next input, by hand
        y = model.predict(seq)
        fed_back.append(y)
        seq = np.concatenate([seq, y[:, None]], axis=1)
    np.testing.assert_allclose(generate(model, x, horizon=3), np.stack(fed_back, axis=1), atol=1e-5)
    stream = Stream(model, series=2)
    np.testing.assert_allclose(stream.prime(x), model.predict(x), atol=1e-6)
    np.testing.assert_allclose(stream.step(fed_back[0]), fed_back[1], atol=1e-5)


def test_generate_and_stream_use_the_cells_output_when_it_is_not_its_state():
    torch.manual_seed(0)
    model = Sequential([Input((None, 1)), RNN(ScoredCell(4), return_sequences=True), Dense(1)])
    x = np.random.default_rng(1).normal(size=(2, 5, 1)).astype("float32")
    seq, fed_back = x, []
    for _ in range(3):
        y = model.predict(seq)[:, -1]
        fed_back.append(y)
        seq = np.concatenate([seq, y[:, None]], axis=1)
    np.testing.assert_allclose(generate(model, x, horizon=3), np.stack(fed_back, axis=1), atol=1e-5)
    stream = Stream(model, series=2)
    np.testing.assert_allclose(stream.prime(x), model.predict(x)[:, -1], atol=1e-6)
    np.testing.assert_allclose(stream.step(fed_back[0], rows=[0, 1]), fed_back[1], atol=1e-5)
