"""One owner of recurrent state: a StateStore per model, keyed by layer name, used by every state call."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import (GRU, LSTM, Bidirectional, Dense, Input, Model, Sequential, StateStore, Stream,
                    TimeDistributed, register_serializable)
from rnnkit.models import Autoencoder, BaseModel

RNG = np.random.default_rng(0)


def _stateful(batch=2):
    torch.manual_seed(0)
    return Sequential([Input((None, 3), batch_size=batch), LSTM(5, stateful=True, return_sequences=True, name="enc"),
                       GRU(4, stateful=True, return_sequences=True, name="dec"), TimeDistributed(Dense(3))])


def test_a_model_and_every_layer_inside_share_one_store_keyed_by_layer_name():
    model = _stateful()
    model.predict(RNG.normal(size=(2, 6, 3)).astype(np.float32))
    stores = {id(layer.state_store) for layer in model.recurrent_layers()}
    assert stores == {id(model.state_store)}
    assert sorted(model.state_store) == ["dec", "enc"]
    assert model.get_states()["enc"][0] is model.state_store["enc"][0]
    # nested models (a topology of two Sequentials; a Sequential inside a functional graph) too
    ae = Autoencoder(features=2, time_steps=4, latent=3, units=[5])
    assert {id(l.state_store) for l in ae.recurrent_layers()} == {id(ae.state_store)}
    inner = Sequential([Input((4, 2)), LSTM(3, stateful=True)])
    inputs = Input((4, 2), batch_size=2)
    outer = Model(inputs, Dense(1)(inner(inputs)))
    assert inner.layers[0].state_store is outer.state_store


def test_a_stream_hands_its_states_back_in_one_call_and_the_saved_model_continues_it(tmp_path):
    model = _stateful()
    x = RNG.normal(size=(2, 9, 3)).astype(np.float32)
    model.predict(x[:, :4])
    stream = Stream(model, from_kept_states=True)
    for t in range(4, 7):
        stream.step(x[:, t])
    assert isinstance(stream.states, StateStore) and sorted(stream.states) == ["dec", "enc"]
    stream.hand_back().save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    expected = np.stack([stream.step(x[:, t]) for t in (7, 8)], 1)
    np.testing.assert_allclose(loaded.predict(x[:, 7:9]), expected, atol=1e-5)
    # the same in the model's own words
    model.set_states(stream.states)
    for key, states in stream.states.items():
        for a, b in zip(model.get_states()[key], states):
            torch.testing.assert_close(a, b)


def test_preserve_states_and_select_states_act_on_the_store():
    model = _stateful(batch=3)
    x = RNG.normal(size=(3, 5, 3)).astype(np.float32)
    model.predict(x)
    before = {k: [s.clone() for s in v] for k, v in model.state_store.items()}
    with model.preserve_states():
        model.predict(x)
        assert not torch.equal(model.state_store["enc"][0], before["enc"][0])
    for key in before:
        for a, b in zip(model.state_store[key], before[key]):
            torch.testing.assert_close(a, b)
    model.select_states([2, 0])
    torch.testing.assert_close(model.state_store["dec"][0], before["dec"][0][[2, 0]])


def test_two_stateful_layers_with_one_name_are_refused():
    with pytest.raises(ValueError, match="are named 'twin'.*names must be unique"):
        Sequential([Input((4, 2), batch_size=1), LSTM(3, stateful=True, return_sequences=True, name="twin"),
                    LSTM(3, stateful=True, name="twin")])


def test_a_bidirectional_stateful_layer_keeps_both_halves_under_their_names(tmp_path):
    torch.manual_seed(0)
    model = Sequential([Input((None, 2), batch_size=2), Bidirectional(LSTM(3, stateful=True, name="fw")), Dense(1)])
    x = RNG.normal(size=(2, 4, 2)).astype(np.float32)
    model.predict(x)
    assert sorted(model.get_states()) == ["backward_fw", "fw"]
    model.save(tmp_path / "b.rnnkit")
    loaded = rnnkit.load(tmp_path / "b.rnnkit")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)


@register_serializable(package="tests")
class Doubler(BaseModel):
    """A user's own model class, registered: it saves and loads without custom_objects."""

    def __init__(self, units=3, name=None):
        super().__init__(name)
        self.units = units
        self.lstm = LSTM(units, stateful=True, batch_input_shape=(2, None, 2))
        self.head = Dense(1, input_shape=(units,))
        self.adopt_states()

    def forward(self, x, training=None):
        return 2 * self.head(self.lstm(x, training=training))

    def get_config(self):
        return {"units": self.units, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def test_a_registered_user_model_saves_and_loads_with_its_states(tmp_path):
    torch.manual_seed(0)
    model = Doubler()
    x = RNG.normal(size=(2, 4, 2)).astype(np.float32)
    model.predict(x, batch_size=2)
    model.save(tmp_path / "d.rnnkit")
    loaded = rnnkit.load(tmp_path / "d.rnnkit")
    assert type(loaded) is Doubler
    np.testing.assert_allclose(loaded.predict(x, batch_size=2), model.predict(x, batch_size=2), atol=1e-6)


def test_an_unregistered_model_class_is_refused_with_the_fix(tmp_path):
    class Unregistered(Doubler):
        pass

    with pytest.raises(TypeError, match="not registered.*register_serializable"):
        Unregistered().save(tmp_path / "u.rnnkit")
