"""Stream: one step at a time must equal running the whole sequence, per series and per subset of rows."""

import numpy as np
import pytest
import torch

from rnnkit import GRU, LSTM, Dense, Input, Sequential, SimpleRNN, Stream, TimeDistributed
from rnnkit import generate

RNG = np.random.default_rng(3)


def _model(features=3, stateful=False, batch=None):
    torch.manual_seed(0)
    return Sequential([Input((None, features), batch_size=batch),
                       LSTM(6, return_sequences=True, stateful=stateful),
                       GRU(5, return_sequences=True, stateful=stateful),
                       SimpleRNN(4, return_sequences=True, stateful=stateful), TimeDistributed(Dense(2))])


def test_steps_equal_the_whole_sequence():
    model = _model()
    x = RNG.normal(size=(5, 9, 3)).astype(np.float32)
    whole = model.predict(x)  # (5, 9, 2)
    stream = Stream(model, series=5)
    stepped = np.stack([stream.step(x[:, t]) for t in range(9)], 1)
    np.testing.assert_allclose(stepped, whole, atol=1e-5)


def test_rows_step_alone_and_the_others_wait():
    model = _model()
    x = RNG.normal(size=(4, 6, 3)).astype(np.float32)
    whole = model.predict(x)
    stream = Stream(model, series=4)
    out = {r: [] for r in range(4)}
    # series 0 and 2 report every tick; 1 and 3 report in a burst at the end: each sees only its own steps
    for t in range(6):
        for r, y in zip([0, 2], stream.step(x[[0, 2], t], rows=[0, 2])):
            out[r].append(y)
    for t in range(6):
        for r, y in zip([3, 1], stream.step(x[[3, 1], t], rows=[3, 1])):
            out[r].append(y)
    for r in range(4):
        np.testing.assert_allclose(np.stack(out[r]), whole[r], atol=1e-5)


def test_prime_then_step_equals_generate_with_the_outputs_fed_back():
    torch.manual_seed(1)
    model = Sequential([Input((None, 2)), LSTM(8, return_sequences=True), LSTM(8, return_sequences=True), Dense(2)])
    x = RNG.normal(size=(3, 12, 2)).astype(np.float32)
    gen = generate(model, x, horizon=5)
    stream = Stream(model, series=3)
    y = stream.prime(x)
    fed = [y]
    for _ in range(4):
        y = stream.step(y)
        fed.append(y)
    np.testing.assert_allclose(np.stack(fed, 1), gen, atol=1e-5)


def test_reset_rows_starts_those_series_again():
    model = _model()
    x = RNG.normal(size=(3, 4, 3)).astype(np.float32)
    stream = Stream(model, series=3)
    for t in range(4):
        stream.step(x[:, t])
    stream.reset(rows=[1])
    y = stream.step(x[:, 0])
    fresh = model.predict(x[:, :1])[:, 0]
    np.testing.assert_allclose(y[1], fresh[1], atol=1e-5)
    assert np.abs(y[0] - fresh[0]).max() > 1e-4  # row 0 kept its history


def test_continues_a_stateful_models_kept_states_without_touching_them():
    model = _model(stateful=True, batch=2)
    x = RNG.normal(size=(2, 8, 3)).astype(np.float32)
    whole = model.predict(x)
    model.reset_states()
    model.predict(x[:, :5])
    kept = [s.clone() for s in model.layers[0].states]
    stream = Stream(model, from_kept_states=True)
    assert stream.series == 2
    stepped = np.stack([stream.step(x[:, t]) for t in range(5, 8)], 1)
    np.testing.assert_allclose(stepped, whole[:, 5:], atol=1e-5)
    for a, b in zip(kept, model.layers[0].states):
        torch.testing.assert_close(a, b)


def test_bad_input_is_refused_with_the_expected_shape():
    model = _model()
    stream = Stream(model, series=3)
    with pytest.raises(ValueError, match=r"expected one step of shape \(3, 3\).*received \(3, 4\)"):
        stream.step(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"rows must be series numbers in \[0, 3\)"):
        stream.step(np.zeros((1, 3), np.float32), rows=[5])
    with pytest.raises(ValueError, match="must not repeat"):
        stream.step(np.zeros((2, 3), np.float32), rows=[1, 1])
    with pytest.raises(ValueError, match="series must be a positive integer"):
        Stream(model, series=0)
    with pytest.raises(ValueError, match="keeps no states"):
        Stream(model, from_kept_states=True)


def test_rows_as_a_boolean_mask_step_those_series_and_fractional_rows_are_refused():
    model = _model()
    x = RNG.normal(size=(3, 3)).astype(np.float32)
    by_mask, by_index = Stream(model, series=3), Stream(model, series=3)
    np.testing.assert_allclose(by_mask.step(x[[0, 2]], rows=np.array([True, False, True])),
                               by_index.step(x[[0, 2]], rows=[0, 2]), atol=1e-6)
    for a, b in zip(by_mask.states.values(), by_index.states.values()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match=r"integers\) or a boolean mask, received \[1.7\]"):
        by_mask.step(x[:1], rows=[1.7])
    with pytest.raises(ValueError, match=r"one entry per series \(3\), received shape \(2,\)"):
        by_mask.step(x[:1], rows=[True, False])
