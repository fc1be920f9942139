"""Equivalences, state handling and input errors of the recurrent layers."""

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU, LSTM, Dense, SimpleRNN, TimeDistributed

CELLS = {"lstm": LSTM, "gru": GRU, "simplernn": SimpleRNN}


def _pair(cls, **kw):
    """Two layers with the same weights: one fused, one forced onto the step loop."""
    fused = cls(6, use_fused=True, **kw)
    loop = cls(6, use_fused=False, **kw)
    fused.cell.build(3)
    loop.cell.build(3)
    loop.load_state_dict(fused.state_dict())
    return fused, loop


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
def test_fused_equals_loop_outputs_and_gradients(name, return_sequences):
    fused, loop = _pair(CELLS[name], return_sequences=return_sequences)
    x = torch.randn(4, 9, 3, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    y1, y2 = fused(x), loop(x2)
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)
    (y1 ** 2).sum().backward()
    (y2 ** 2).sum().backward()
    assert fused.last_path == "fused" and loop.last_path == "loop"
    torch.testing.assert_close(x.grad, x2.grad, atol=1e-5, rtol=1e-4)
    for (n1, p1), (_, p2) in zip(fused.named_parameters(), loop.named_parameters()):
        torch.testing.assert_close(p1.grad, p2.grad, atol=1e-5, rtol=1e-4, msg=n1)


def test_fused_equals_loop_with_right_padded_mask_gradients():
    fused, loop = _pair(LSTM, return_sequences=True)
    x = torch.randn(3, 7, 3)
    mask = torch.arange(7)[None, :] < torch.tensor([[7], [4], [2]])
    y1, y2 = fused(x, mask=mask), loop(x, mask=mask)
    assert fused.last_path == "fused-packed"
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)
    y1.sum().backward()
    y2.sum().backward()
    torch.testing.assert_close(fused.cell.weight_hh.grad, loop.cell.weight_hh.grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", CELLS)
def test_last_step_of_sequences_equals_return_sequences_false(name):
    seq = CELLS[name](5, return_sequences=True, return_state=True)
    x = torch.randn(2, 8, 3)
    out, *states = seq(x)
    last = CELLS[name](5)
    last.load_state_dict(seq.state_dict())
    torch.testing.assert_close(out[:, -1], last(x))
    torch.testing.assert_close(states[0], out[:, -1])  # h is the last output


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("chunks", [[4, 4], [1, 2, 5], [7, 1]], ids=str)
def test_stateful_chunked_equals_whole(name, chunks):
    whole = CELLS[name](4, return_sequences=True)
    stateful = CELLS[name](4, return_sequences=True, stateful=True)
    x = torch.randn(3, sum(chunks), 2)
    full = whole(x)
    stateful.load_state_dict(whole.state_dict())
    parts, start = [], 0
    for n in chunks:
        parts.append(stateful(x[:, start:start + n]))
        start += n
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-6, rtol=1e-5)


def test_stateful_states_are_detached_and_reset():
    layer = LSTM(3, stateful=True)
    layer(torch.randn(2, 4, 1, requires_grad=True))
    h, c = layer.states
    assert not h.requires_grad and not c.requires_grad
    assert h.abs().sum() > 0
    layer.reset_states()
    assert layer.states is None
    layer(torch.randn(5, 4, 1))  # after a reset any batch size is accepted
    layer.reset_states([torch.ones(5, 3), torch.zeros(5, 3)])
    torch.testing.assert_close(layer.states[0], torch.ones(5, 3))


def test_stateful_batch_size_change_raises_naming_both_sizes():
    layer = GRU(3, stateful=True)
    layer(torch.randn(2, 4, 1))
    with pytest.raises(ValueError, match=r"batch of 2 rows.*this call has 5 rows.*reset_states\(\)"):
        layer(torch.randn(5, 4, 1))


def test_set_states_with_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"expects 2 state tensor\(s\) \[h, c\]"):
        LSTM(3, stateful=True).reset_states([torch.zeros(1, 3)])
    with pytest.raises(ValueError, match=r"must have shape \(batch, 3\), received \(1, 4\)"):
        GRU(3, stateful=True).reset_states([torch.zeros(1, 4)])


def test_2d_input_error_suggests_reshape():
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, time_steps, features\).*"
                                         r"x\.reshape\(10, 3, 1\)"):
        LSTM(4)(np.zeros((10, 3), dtype="float32"))


def test_feature_count_mismatch_error():
    layer = LSTM(4)
    layer(torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match=r"built for 2 features per step, received 5"):
        layer(torch.zeros(1, 3, 5))


def test_use_fused_true_refuses_what_the_kernel_cannot_compute():
    with pytest.raises(ValueError, match="use_fused=True"):
        GRU(3, reset_after=False, use_fused=True)(torch.zeros(1, 2, 1))


def test_bad_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        LSTM(0)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        LSTM(3, dropout=1.5)
    with pytest.raises(ValueError, match="Unknown activation 'tanhh'"):
        LSTM(3, activation="tanhh")


def test_dropout_only_while_training_and_same_mask_every_step():
    layer = LSTM(4, dropout=0.5, return_sequences=True)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(layer(x), layer(x))  # inference: deterministic
    assert not torch.allclose(layer(x, training=True), layer(x))


def test_recurrent_dropout_runs_the_loop_in_training_only():
    layer = GRU(4, recurrent_dropout=0.3)
    layer(torch.randn(2, 5, 3), training=True)
    assert layer.last_path == "loop"
    layer(torch.randn(2, 5, 3))
    assert layer.last_path == "fused"


def test_time_distributed_dense_equals_dense_on_3d():
    dense = Dense(3)
    x = torch.randn(4, 6, 5)
    td = TimeDistributed(dense)
    torch.testing.assert_close(td(x), dense(x))
    # and per step by hand, which is what TimeDistributed means, also for its gradients
    x.requires_grad_(True)
    by_step = torch.stack([dense(x[:, t]) for t in range(6)], 1)
    torch.testing.assert_close(td(x), by_step)
    g_td = torch.autograd.grad(td(x).square().sum(), [x, dense.weight])
    g_step = torch.autograd.grad(by_step.square().sum(), [x, dense.weight])
    for a, b in zip(g_td, g_step):
        torch.testing.assert_close(a, b)


def test_cell_step_equals_layer_and_keras_initial_state():
    layer = LSTM(3, return_sequences=True)
    x = torch.randn(2, 4, 2)
    out = layer(x)
    states = layer.cell.get_initial_state(batch_size=2, dtype=torch.float32)
    for t in range(4):
        h, states = layer.cell(x[:, t], states)
        torch.testing.assert_close(h, out[:, t], atol=1e-6, rtol=1e-5)


def test_default_initialisation_is_keras_like():
    layer = LSTM(8, input_size=3)
    bias = layer.cell.bias_ih.detach()
    assert torch.all(bias[8:16] == 1) and torch.all(bias[:8] == 0) and torch.all(bias[16:] == 0)
    w_hh = layer.cell.weight_hh.detach().t()  # Keras shape (8, 32): orthogonal rows
    torch.testing.assert_close(w_hh @ w_hh.t(), torch.eye(8), atol=1e-5, rtol=0)
    limit = (6 / (3 + 32)) ** 0.5
    assert layer.cell.weight_ih.abs().max() <= limit


@pytest.mark.parametrize("make", [lambda: LSTM(5), lambda: LSTM(5, use_bias=False), lambda: GRU(5),
                                  lambda: GRU(5, use_bias=False), lambda: SimpleRNN(5),
                                  lambda: SimpleRNN(5, activation="relu")],
                         ids=["lstm", "lstm-nobias", "gru", "gru-nobias", "rnn", "rnn-relu"])
@pytest.mark.parametrize("batch", [3, 100])
def test_one_step_kernels_equal_the_cell_math(make, batch):
    """layer.step picks the single-step cell kernel or the sequence kernel by batch size: both, and
    the cell's own math, must give the same states."""
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(batch, 4)
    layer.step(x, layer.cell.get_initial_state(batch))  # builds the weights
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0, 0.5)
        states = [torch.randn(batch, 5) for _ in range(layer.cell.state_count)]
        by_cell_kernel = layer.step_function(1)(x, states)  # a 1-row decision: the cell kernel
        by_sequence_kernel = layer.cell.fused(x[:, None], states, None, False)[1]
        by_math = layer.cell.step(layer.cell.project(x), states, None)
        chosen = layer.step(x, states)
    for a, b, c, d in zip(by_cell_kernel, by_sequence_kernel, by_math, chosen):
        torch.testing.assert_close(a, c, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(b, c, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(d, c, atol=1e-6, rtol=1e-5)
    assert layer.cell.step_kernel(1) == layer.cell.step_kernel(3) == "cell"


def test_setting_states_on_a_layer_that_is_not_stateful_is_refused():
    layer = LSTM(3)
    layer(np.zeros((2, 4, 1), np.float32))
    with pytest.raises(ValueError, match="is not stateful.*initial_state"):
        layer.reset_states([np.zeros((2, 3)), np.zeros((2, 3))])
    layer.reset_states()  # forgetting nothing is fine


@pytest.mark.parametrize("n", ["3", 3.5, 0, True])
def test_repeat_vector_takes_a_positive_integer_only(n):
    from rnnkit.layers import RepeatVector
    with pytest.raises(ValueError, match=r"RepeatVector needs n, the number of steps, as a positive integer"):
        RepeatVector(n)
