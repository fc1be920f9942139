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
from rnnkit.layers import (ELU, Activation, Add, AdditiveAttention, AlphaDropout, Attention, Average, AveragePooling1D,
                           BatchNormalization, Concatenate, Conv1D, Conv2D, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D,
                           Cropping1D, Dot, Dropout, Embedding, Flatten, GaussianDropout, GaussianNoise,
                           GlobalAveragePooling1D, GlobalMaxPooling1D, Identity, Lambda, LayerNormalization, LeakyReLU,
                           Masking, Maximum, MaxPooling1D, MaxPooling2D, Minimum, Multiply, Permute, PReLU, ReLU,
                           Reshape, Softmax, SpatialDropout1D, Subtract, UnitNormalization, UpSampling1D,
                           ZeroPadding1D)
from rnnkit.models import load_model

RNG = np.random.default_rng(7)
X = RNG.normal(size=(4, 6, 3)).astype("float32")
X[1, 4:] = 0  # padding: Masking skips these steps
X[2, 2] = 0
FRAMES = RNG.normal(size=(2, 3, 5, 5, 2)).astype("float32")  # (batch, time, rows, cols, channels)
VOLUMES = RNG.normal(size=(2, 2, 4, 4, 4, 1)).astype("float32")


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _random_weights(model):
    # Away from the initial values so a weight written to the wrong place shows; a moving variance stays
    # positive (a negative one makes NaNs, which assert_allclose counts as equal).
    model.set_weights([RNG.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    for layer in model.modules():
        if isinstance(layer, BatchNormalization):
            layer.moving_variance.data = layer.moving_variance.data.abs() + 0.5
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
    "masking": lambda: [Input((6, 3)), Masking(0.0), LSTM(4, return_sequences=True), GlobalAveragePooling1D(),
                        Dense(2)],
    "conv1d": lambda: [Input((6, 3)), Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
                       BatchNormalization(), MaxPooling1D(2), Conv1D(4, 2, padding="same", groups=2),
                       AveragePooling1D(2, strides=1, padding="same"), SpatialDropout1D(0.2),
                       ReLU(max_value=0.8, negative_slope=0.1), LayerNormalization(), Permute((2, 1)),
                       GlobalMaxPooling1D(), Dense(2)],
    "normalization": lambda: [Input((6, 3)), BatchNormalization(center=False, momentum=0.9, epsilon=0.01),
                              LayerNormalization(axis=[1, 2]), Conv1D(2, 3, strides=2, use_bias=False),
                              MaxPooling1D(2, strides=1, padding="same"), GlobalMaxPooling1D(keepdims=True),
                              LayerNormalization(scale=False), Flatten()],
    "convlstm": lambda: [Input((3, 5, 5, 2)), ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                         Reshape((3, 25, 3)), ConvLSTM1D(2, 3, strides=2, go_backwards=True), Flatten(), Dense(2)],
    "convlstm3d": lambda: [Input((2, 4, 4, 4, 1)), ConvLSTM3D(2, 2, return_sequences=True, use_bias=False),
                           Flatten(), Dense(1)],
    # the mask passes the noise layers (the identity at inference) and the activations on to the LSTM
    "small_layers": lambda: [Input((6, 3)), Masking(0.0), GaussianNoise(0.2, seed=1), LeakyReLU(0.1), ELU(0.5),
                             PReLU(shared_axes=[1]), GaussianDropout(0.3), AlphaDropout(0.2, noise_shape=(None, 1, 3)),
                             Identity(), UnitNormalization(axis=[1, 2]), LSTM(4, return_sequences=True),
                             UpSampling1D(3), ZeroPadding1D(2), Cropping1D((1, 4)), Softmax(axis=[1, 2]), PReLU(),
                             Flatten(), Dense(2)],
}
INPUTS = {"convlstm": FRAMES, "convlstm3d": VOLUMES}  # the others take X


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
    theirs = _check_against_keras(keras, model, tmp_path / "m.keras", INPUTS.get(kind, X))
    assert [type(l).__name__ for l in theirs.layers] == [type(l).__name__ for l in model.layers]


@pytest.mark.parametrize("between", [[], [TimeDistributed(Dense(3))]], ids=["direct", "through-time-distributed"])
def test_embedding_mask_reaches_the_recurrent_layer_in_keras(keras, tmp_path, between):
    model = _random_weights(Sequential([Input((7,), dtype="int32"), Embedding(9, 4, mask_zero=True), *between, GRU(3),
                                        Dense(2)]))
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


def _merges_and_attention() -> tuple[Model, list]:
    """Two inputs, two outputs: Luong and Bahdanau attention, Add, Multiply, Concatenate, and attention
    over masked query and value steps."""
    query, value = Input((5, 3), name="query"), Input((4, 3), name="value")
    q = Dense(3, name="query_proj")(query)
    luong = Attention(use_scale=True, score_mode="concat")([q, value])
    bahdanau = AdditiveAttention()([q, value, value])
    merged = Concatenate()([Add()([luong, bahdanau]), Multiply()([luong, q])])
    masked = Attention()([Masking()(query), Masking()(value)])
    model = _random_weights(Model([query, value], [Dense(2)(merged), masked]))
    x = [RNG.normal(size=(3, 5, 3)).astype("float32"), RNG.normal(size=(3, 4, 3)).astype("float32")]
    x[0][1, 3:] = 0  # masked query steps: zeros out
    x[1][2, 2:] = 0  # masked value steps: no weight
    return model, x


def _branches() -> tuple[Model, list]:
    # Three Dense layers of one shape at three depths, the shallow output first: Keras's layer order
    # (by depth) differs from rnnkit's (by first use), and only the right one finds each its weights.
    a, b = Input((6, 3), name="a"), Input((4,), name="b")
    deep = Dense(4, name="deep")(Dense(4, name="mid")(LSTM(4)(a)))
    model = _random_weights(Model([a, b], [Dense(4, name="shallow")(b), deep]))
    return model, [X, RNG.normal(size=(4, 4)).astype("float32")]


def _masked_merges() -> tuple[Model, list]:
    # Masks from Embedding and Masking through TimeDistributed, Add, Concatenate, Multiply: Keras 3
    # propagates them the same way (kept through TimeDistributed, joined by the merge layers).
    ids, features = Input((6,), dtype="int32", name="ids"), Input((6, 3), name="features")
    embedded = Embedding(9, 4, mask_zero=True)(ids)
    words = LSTM(3, return_sequences=True)(embedded)
    frames = TimeDistributed(Dense(3))(Masking()(features))
    joined = Concatenate()([Add()([words, frames]), Bidirectional(GRU(2, return_sequences=True))(embedded)])
    pooled = GlobalAveragePooling1D()(Multiply()([words, frames]))
    model = _random_weights(Model([ids, features], [LSTM(2)(joined), pooled]))
    x_ids = RNG.integers(1, 9, size=(3, 6))
    x_ids[1, 4:] = 0
    x_ids[2, 2:] = 0
    x_features = RNG.normal(size=(3, 6, 3)).astype("float32")
    x_features[0, 3:] = 0
    x_features[2, 1:] = 0
    return model, [x_ids, x_features]


def _more_merges() -> tuple[Model, list]:
    # Average, Subtract, Maximum, Minimum (masks from one input or both) and Dot (axes, normalize)
    a, b = Input((5, 3), name="a"), Input((5, 3), name="b")
    ma, mb = Masking()(a), Masking()(b)
    both = LSTM(2)(Maximum()([ma, mb]))  # masked where both inputs are
    one = LSTM(2)(Minimum()([mb, a]))  # no mask: one input has none
    dots = Concatenate()([Dot(axes=2)([Average()([ma, b]), Subtract()([a, mb])]),
                          Dot(axes=(2, 2), normalize=True)([a, b])])
    model = _random_weights(Model([a, b], [both, one, dots, Dot(axes=(1, 1))([a, b])]))
    x = [RNG.normal(size=(3, 5, 3)).astype("float32"), RNG.normal(size=(3, 5, 3)).astype("float32")]
    x[0][1, 3:] = 0
    x[0][2, 1:] = 0
    x[1][2, 2:] = 0  # row 2: steps 2-4 masked in both inputs
    return model, x


FUNCTIONAL = {"merges_and_attention": _merges_and_attention, "branches": _branches, "masked_merges": _masked_merges,
              "more_merges": _more_merges}


@pytest.mark.parametrize("kind", list(FUNCTIONAL))
def test_functional_layers_predict_in_keras_as_in_rnnkit(keras, tmp_path, kind):
    model, x = FUNCTIONAL[kind]()
    theirs = _check_against_keras(keras, model, tmp_path / "m.keras", x)
    assert sorted(type(l).__name__ for l in theirs.layers) == sorted(
        "InputLayer" if isinstance(l, Input) else type(l).__name__ for l in model.layers)


@pytest.mark.parametrize("kind", list(FUNCTIONAL))
def test_keras_reads_back_what_it_wrote_of_each_layer(keras, tmp_path, kind):
    # The other direction, live: a model Keras builds and saves, rnnkit loads and predicts with.
    model, x = FUNCTIONAL[kind]()
    save_keras(model, tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    theirs.save(tmp_path / "keras_wrote.keras")
    ours = load_model(tmp_path / "keras_wrote.keras").predict(x)
    for a, b in zip(ours, theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)


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
    x = INPUTS.get(kind, X)
    np.testing.assert_allclose(back.predict(x), model.predict(x), atol=1e-6)


@pytest.mark.parametrize("kind", list(FUNCTIONAL))
def test_rnnkit_reads_its_functional_keras_file_back(tmp_path, kind):
    model, x = FUNCTIONAL[kind]()
    save_keras(model, tmp_path / "m.keras")
    back = load_model(tmp_path / "m.keras")
    assert isinstance(back, Model) and back.input_names() == model.input_names()
    for a, b in zip(back.predict(x), model.predict(x)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_stateful_round_trip_in_rnnkit(tmp_path):
    model = _random_weights(Sequential([Input(batch_shape=(2, 3, 1)), GRU(3, stateful=True), Dense(1)]))
    save_keras(model, tmp_path / "m.keras")
    back = load_model(tmp_path / "m.keras")
    chunk = RNG.normal(size=(2, 3, 1)).astype("float32")
    model.reset_states()  # Keras files hold weights, not kept states
    assert back.layers[0].stateful
    for _ in range(2):
        np.testing.assert_allclose(back.predict(chunk, batch_size=2), model.predict(chunk, batch_size=2), atol=1e-6)


def _double(x):
    return x * 2


def test_layer_without_keras_counterpart_is_named(tmp_path):
    model = Sequential([Input((6, 3)), Lambda(_double, name="double"), LSTM(2)])
    with pytest.raises(ValueError, match=r"'double' \(Lambda\) as \.keras: it has no Keras counterpart.*LSTM.*"
                                         r"model\.save\('model\.rnnkit'\)"):
        save_keras(model, tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_model_without_input_shape_or_stateful_batch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="declares no input shape.*Input\\(\\(time_steps, features\\)\\)"):
        save_keras(Sequential([LSTM(2)]), tmp_path / "m.keras")
    with pytest.raises(ValueError, match="'lstm_s' is stateful.*no batch size.*Input\\(batch_shape="):
        save_keras(Sequential([Input((3, 1)), LSTM(2, stateful=True, name="lstm_s")]), tmp_path / "m.keras")
