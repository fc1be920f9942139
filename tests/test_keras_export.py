"""rnnkit.save_keras: Keras 3 `.keras` files that Keras's own
load_model reads and predicts with as rnnkit does (1e-5), and that rnnkit reads back."""

import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from rnnkit import GRU, LSTM, Bidirectional, Dense, Input, Model, RepeatVector, Sequential, SimpleRNN, TimeDistributed
from rnnkit.io.keras_export import KERAS_FORMAT, save_keras
from rnnkit.layers import (Activation, Conv2D, Dropout, Embedding, Flatten, Masking, MaxPooling2D, Reshape)
from rnnkit.models import load_model

RNG = np.random.default_rng(7)
X = RNG.normal(size=(4, 6, 3)).astype("float32")


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _random_weights(model):
    # Away from the initial values so a weight written to the wrong place shows.
    model.set_weights([RNG.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


SEQUENTIAL = {
    "lstm": lambda: [Input((6, 3)), LSTM(4, return_sequences=True), LSTM(3), Dense(2)],
    "gru_reset_after": lambda: [Input((6, 3)), GRU(4), Dense(1)],
    "gru_reset_before": lambda: [Input((6, 3)), GRU(4, reset_after=False, go_backwards=True), Dense(1)],
    "simple_rnn": lambda: [Input((6, 3)), SimpleRNN(5, activation="relu", return_sequences=True),
                           TimeDistributed(Dense(2, activation="sigmoid"))],
    "bidirectional": lambda: [Input((6, 3)), Bidirectional(LSTM(3, return_sequences=True)),
                              Bidirectional(GRU(2), merge_mode="sum"), Dense(1)],
    "seq2seq": lambda: [Input((6, 3)), LSTM(4), RepeatVector(5), LSTM(4, return_sequences=True),
                        TimeDistributed(Dense(3)), Dropout(0.3), Activation("softmax")],
    "flatten_reshape": lambda: [Input((6, 3)), Flatten(), Dense(12, use_bias=False), Reshape((4, 3)), SimpleRNN(2)],
}


def _check_against_keras(keras, model, path, x):
    save_keras(model, path)
    theirs = keras.saving.load_model(path)
    ours = model.predict(x)
    got = theirs.predict(x, verbose=0)
    for a, b in zip(got if isinstance(got, list) else [got], ours if isinstance(ours, list) else [ours]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-5)
    return theirs


@pytest.mark.parametrize("kind", list(SEQUENTIAL))
def test_sequential_predicts_in_keras_as_in_rnnkit(keras, tmp_path, kind):
    model = _random_weights(Sequential(SEQUENTIAL[kind](), name=f"m_{kind}"))
    theirs = _check_against_keras(keras, model, tmp_path / "m.keras", X)
    assert [type(l).__name__ for l in theirs.layers] == [type(l).__name__ for l in model.layers]


def test_embedding_mask_reaches_the_recurrent_layer_in_keras(keras, tmp_path):
    model = _random_weights(Sequential([Input((7,), dtype="int32"), Embedding(9, 4, mask_zero=True), GRU(3), Dense(2)]))
    ids = RNG.integers(1, 9, size=(5, 7))
    ids[:, 4:] = 0  # right padding: a model ignoring the mask gives other numbers
    _check_against_keras(keras, model, tmp_path / "m.keras", ids)


def test_conv2d_and_pooling_in_keras(keras, tmp_path):
    model = _random_weights(Sequential([Input((8, 8, 2)), Conv2D(3, (3, 2), activation="relu"), MaxPooling2D(2),
                                        Flatten(), Dense(2)]))
    _check_against_keras(keras, model, tmp_path / "m.keras", RNG.normal(size=(3, 8, 8, 2)).astype("float32"))


def test_stateful_model_keeps_its_batch_size_and_carries_state_in_keras(keras, tmp_path):
    model = _random_weights(Sequential([Input(batch_shape=(2, 3, 1)), LSTM(4, stateful=True), Dense(1)]))
    save_keras(model, tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert theirs.layers[0].stateful and theirs.inputs[0].shape[0] == 2
    chunks = RNG.normal(size=(3, 2, 3, 1)).astype("float32")
    model.reset_states()
    # State carried from chunk to chunk on both sides. Keras is called directly: under JAX its predict
    # does not keep the states it reaches (measured with Keras 3.15.1), a direct call does.
    for chunk in chunks:
        np.testing.assert_allclose(np.asarray(theirs(chunk)), model.predict(chunk, batch_size=2), atol=1e-5)


def test_functional_model_with_states_masks_and_two_outputs_in_keras(keras, tmp_path):
    ids = Input((5,), dtype="int32", name="ids")
    seq = Embedding(10, 4, mask_zero=True)(ids)
    out, h, c = LSTM(3, return_state=True)(seq)
    decoded = GRU(3, return_sequences=True)(RepeatVector(2)(out), initial_state=[h])
    shared = Dense(3, activation="tanh", name="shared")
    model = _random_weights(Model(ids, [Dense(2, name="head")(shared(out)), shared(TimeDistributed(Dense(3))(decoded))]))
    x = RNG.integers(1, 10, size=(4, 5))
    x[:, 3:] = 0
    _check_against_keras(keras, model, tmp_path / "m.keras", x)


def test_functional_two_inputs_branches_of_different_depths_in_keras(keras, tmp_path):
    # Keras finds weights by its own layer order (depth, then traversal); two Dense layers of the same
    # shape on branches of different depths are told apart only if rnnkit writes that order.
    a, b = Input((6, 3), name="a"), Input((4,), name="b")
    deep = Dense(4, name="deep")(Dense(4, name="mid")(LSTM(4)(a)))
    shallow = Dense(4, name="shallow")(b)
    model = _random_weights(Model([a, b], [deep, shallow]))
    _check_against_keras(keras, model, tmp_path / "m.keras", [X, RNG.normal(size=(4, 4)).astype("float32")])


# -- without Keras -----------------------------------------------------------------------------------
def test_file_layout_is_keras_3s(tmp_path):
    model = Sequential([Input((6, 3)), Bidirectional(LSTM(2)), Dense(1), Dense(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Keras file under a Keras name: no warning
        save_keras(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        assert json.loads(z.read("metadata.json"))["keras_version"] == KERAS_FORMAT
        config = json.loads(z.read("config.json"))
        (tmp_path / "w.h5").write_bytes(z.read("model.weights.h5"))
    assert config["class_name"] == "Sequential"
    assert [l["class_name"] for l in config["config"]["layers"]] == ["InputLayer", "Bidirectional", "Dense", "Dense"]
    with h5py.File(tmp_path / "w.h5") as f:
        assert f["layers/bidirectional/forward_layer/cell/vars/1"].shape == (2, 8)
        assert f["layers/bidirectional/backward_layer/cell/vars/2"].shape == (8,)
        np.testing.assert_array_equal(f["layers/dense_1/vars/0"][()], model.layers[2].keras_weights()[0])


@pytest.mark.parametrize("kind", list(SEQUENTIAL))
def test_rnnkit_reads_its_keras_file_back(tmp_path, kind):
    model = _random_weights(Sequential(SEQUENTIAL[kind]()))
    save_keras(model, tmp_path / "m.keras")
    back = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(back.predict(X), model.predict(X), atol=1e-6)


def test_stateful_round_trip_in_rnnkit(tmp_path):
    model = _random_weights(Sequential([Input(batch_shape=(2, 3, 1)), GRU(3, stateful=True), Dense(1)]))
    save_keras(model, tmp_path / "m.keras")
    back = load_model(tmp_path / "m.keras")
    chunk = RNG.normal(size=(2, 3, 1)).astype("float32")
    model.reset_states()  # Keras files hold weights, not kept states
    assert back.layers[0].stateful
    for _ in range(2):
        np.testing.assert_allclose(back.predict(chunk, batch_size=2), model.predict(chunk, batch_size=2), atol=1e-6)


def test_layer_without_keras_counterpart_is_named(tmp_path):
    model = Sequential([Input((6, 3)), Masking(0.0, name="pad_mask"), LSTM(2)])
    with pytest.raises(ValueError, match=r"'pad_mask' \(Masking\) as \.keras: it has no Keras counterpart.*LSTM.*"
                                         r"model\.save\('model\.rnnkit'\)"):
        save_keras(model, tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_model_without_input_shape_or_stateful_batch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="declares no input shape.*Input\\(\\(time_steps, features\\)\\)"):
        save_keras(Sequential([LSTM(2)]), tmp_path / "m.keras")
    with pytest.raises(ValueError, match="'lstm_s' is stateful.*no batch size.*Input\\(batch_shape="):
        save_keras(Sequential([Input((3, 1)), LSTM(2, stateful=True, name="lstm_s")]), tmp_path / "m.keras")
