"""Stream and generate take models whose first layers act per step (Dense, TimeDistributed(Dense))
before the first recurrent layer: the input size is the model's, not the recurrent layer's."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import GRU, LSTM, Dense, Input, Sequential, TimeDistributed
from rnnkit.inference import Stream

MODELS = {
    "TimeDistributed-first": lambda: Sequential([Input((None, 3)), TimeDistributed(Dense(5, activation="tanh")),
                                                 LSTM(4, return_sequences=True), TimeDistributed(Dense(3))]),
    "Dense-first": lambda: Sequential([Input((None, 3)), Dense(6), GRU(4, return_sequences=True), Dense(3)]),
}


@pytest.fixture(params=list(MODELS))
def model(request):
    torch.manual_seed(0)
    return MODELS[request.param]()


def test_stream_steps_equal_predict_over_the_whole_sequence(model):
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
    stream = Stream(model, series=2)
    stepped = np.stack([stream.step(x[:, t]) for t in range(7)], axis=1)
    np.testing.assert_allclose(stepped, model.predict(x), atol=1e-5)


def test_stream_refuses_a_step_with_the_recurrent_layers_width_not_the_models(model):
    stream = Stream(model, series=2)
    with pytest.raises(ValueError, match=r"expected one step of shape \(2, 3\)"):
        stream.step(np.zeros((2, 4), "float32"))


def test_generate_equals_feeding_predict_its_own_output(model):
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype("float32")
    got = rnnkit.generate(model, x, horizon=4)
    seq, expected = x, []
    for _ in range(4):
        nxt = model.predict(seq)[:, -1]
        expected.append(nxt)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_allclose(got, np.stack(expected, axis=1), atol=1e-5)


def test_generate_names_the_models_input_width(model):
    with pytest.raises(ValueError, match="reads 3 features per step; x has 5"):
        rnnkit.generate(model, np.zeros((2, 4, 5), "float32"), horizon=2)


def test_stream_of_a_stateful_model_follows_its_declared_batch_by_default():
    model = Sequential([Input(batch_shape=(4, None, 3)), Dense(5), LSTM(3, stateful=True, return_sequences=True),
                        Dense(1)])
    assert Stream(model).series == 4
