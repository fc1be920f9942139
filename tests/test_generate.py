"""generate(): O(1) per step after priming, identical to the seeds' stateful predict-per-step loop."""

import numpy as np
import pytest
import torch

from rnnkit import GRU, LSTM, Dense, Input, Sequential, TimeDistributed
from rnnkit import generate


def _model(stateful=False, batch=None):
    torch.manual_seed(0)
    return Sequential([Input((None, 2), batch_size=batch), LSTM(8, return_sequences=True, stateful=stateful),
                       GRU(6, return_sequences=True, stateful=stateful), TimeDistributed(Dense(2))])


def _reference(model, x, steps):
    """The seeds' loop: a stateful copy, reset, predict the history, then predict one step at a time."""
    ref = _model(stateful=True)
    ref.load_state_dict(model.state_dict())
    ref.reset_states()
    last = ref.predict(x, batch_size=len(x))[:, -1:]
    out = [last]
    for _ in range(steps - 1):
        last = ref.predict(last, batch_size=len(x))
        out.append(last)
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("history", [10, 10_000])
def test_generation_equals_step_by_step_reference(history):
    model = _model()
    x = np.random.default_rng(0).normal(size=(3, history, 2)).astype("float32") * 0.5
    got = generate(model, x, horizon=100)
    np.testing.assert_allclose(got, _reference(model, x, 100), atol=1e-5)


def test_continues_a_stateful_model_without_disturbing_it():
    model = _model(stateful=True, batch=2)
    x = np.random.default_rng(1).normal(size=(2, 12, 2)).astype("float32")
    model.predict(x[:, :6])  # the model has read the first half
    kept = [s.clone() for s in model.layers[0].states]
    got = generate(model, x[:, 6:], horizon=5)  # continue from the kept states
    torch.testing.assert_close(model.layers[0].states[0], kept[0])
    plain = _model()
    plain.load_state_dict(model.state_dict())
    np.testing.assert_allclose(got, generate(plain, x, horizon=5), atol=1e-5)


def test_errors():
    model = Sequential([Input((None, 2)), LSTM(4, return_sequences=True), Dense(1)])
    with pytest.raises(ValueError, match=r"outputs 1 values per step but reads 2 features.*feedback="):
        generate(model, np.zeros((1, 5, 2)), horizon=3)
    with pytest.raises(ValueError, match="horizon .how many steps to generate. must be a positive integer"):
        generate(model, np.zeros((1, 5, 2)), horizon=0)
    with pytest.raises(ValueError, match="reads 2 features per step; x has 3"):
        generate(model, np.zeros((1, 5, 3)), horizon=2)


def test_feedback_mapping_and_many_series():
    model = Sequential([Input((None, 2)), LSTM(4, return_sequences=True), Dense(1)])
    out = generate(model, np.zeros((400, 5, 2)), horizon=3, feedback=lambda y: torch.cat([y, y], dim=-1))
    assert out.shape == (400, 3, 1)
