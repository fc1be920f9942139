"""Lazily sized weights: built as soon as the input shape is known, and where it is not, `.parameters()`
refuses instead of handing an optimizer a list without the recurrent weights."""

import numpy as np
import pytest
import torch

from rnnkit import GRU, LSTM, Bidirectional, Dense, Input, Sequential, TimeDistributed


def _torch_training(model, steps=20):
    """A plain PyTorch loop, the way a PyTorch user trains an rnnkit model; returns the weights before."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = torch.randn(8, 5, 2, generator=torch.Generator().manual_seed(0))
    y = x.sum(dim=(1, 2)).unsqueeze(1)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return before


def test_an_optimizer_over_an_unbuilt_model_is_refused_naming_the_layers():
    model = Sequential([LSTM(4), Dense(1)])
    with pytest.raises(ValueError, match=r"no weights yet for LSTM 'lstm.*' and Dense 'dense.*'.*Input\(\(time_steps"):
        torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="no weights yet"):
        model.count_params()


def test_an_unbuilt_layer_refuses_parameters_too():
    with pytest.raises(ValueError, match=r"GRU 'gru.*' has no weights yet"):
        list(GRU(3).parameters())
    with pytest.raises(ValueError, match="no weights yet for Dense"):
        list(TimeDistributed(Dense(3)).named_parameters())


@pytest.mark.parametrize("make", [
    lambda: Sequential([Input((5, 2)), LSTM(4), Dense(1)]),
    lambda: Sequential([LSTM(4, input_shape=(5, 2)), Dense(1)]),
    lambda: Sequential([Input((5, 2)), Bidirectional(GRU(3)), Dense(1)]),
    lambda: Sequential([Input((5, 2)), TimeDistributed(Dense(3)), LSTM(4), Dense(1)]),
], ids=["Input", "input_shape", "Bidirectional", "TimeDistributed-first"])
def test_with_a_known_input_shape_every_weight_exists_and_a_torch_loop_trains_all_of_them(make):
    model = make()
    before = _torch_training(model)
    after = model.state_dict()
    unchanged = [k for k, v in before.items() if torch.equal(v, after[k])]
    assert unchanged == []  # the recurrent kernels included: none was left out of the optimizer


def test_build_then_the_optimizer_sees_the_same_weights_as_after_a_call():
    built = Sequential([LSTM(4), Dense(1)])
    built.build((None, 5, 2))
    called = Sequential([LSTM(4), Dense(1)])
    called(np.zeros((1, 5, 2), "float32"))
    assert [tuple(p.shape) for p in built.parameters()] == [tuple(p.shape) for p in called.parameters()]
    assert len(list(built.parameters())) == 5


def test_fit_still_builds_an_unbuilt_model_on_its_first_batch():
    model = Sequential([LSTM(4), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 5, 2)).astype("float32")
    history = model.fit(x, x.sum(axis=(1, 2))[:, None], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(list(model.parameters())) == 5
