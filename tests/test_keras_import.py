"""load_keras: Keras 3 .keras and legacy .h5 files (written by scripts/make_keras_models.py) give
Keras's own outputs to 1e-5 in rnnkit, without Keras installed: Sequential models as a Sequential,
functional models (several inputs and outputs, initial_state, masks) as a functional Model."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit import LSTM, Model, Sequential, load_keras
from rnnkit.io.keras_tables import SUPPORTED

FIXTURES = Path(__file__).parent / "fixtures" / "keras_models"
# The Keras layers each case holds besides InputLayer (the coverage test below keeps this honest).
CASES = {
    "airline": ["LSTM", "Dense"],
    "stacked": ["LSTM", "GRU", "SimpleRNN", "Dense"],
    "bidirectional": ["Bidirectional", "LSTM", "GRU", "TimeDistributed", "Dense"],
    "embedding": ["Embedding", "GRU", "Dropout", "TimeDistributed", "Dense", "Activation"],
    "frames": ["TimeDistributed", "Conv2D", "MaxPooling2D", "Flatten", "LSTM", "Dense"],
    "repeat": ["Reshape", "LSTM", "RepeatVector", "TimeDistributed", "Dense"],
    "masking": ["Masking", "LSTM", "GlobalAveragePooling1D", "Dense"],
    "conv1d": ["Conv1D", "BatchNormalization", "MaxPooling1D", "AveragePooling1D", "SpatialDropout1D", "ReLU",
               "LayerNormalization", "Permute", "GlobalMaxPooling1D", "Flatten", "Dense"],
    "convlstm": ["ConvLSTM2D", "Reshape", "ConvLSTM1D", "Flatten", "Dense"],
    "seq2seq": ["LSTM", "Dense"],
    "attention": ["Dense", "Attention", "AdditiveAttention", "Add", "Multiply", "Concatenate", "Masking"],
    # masks through Embedding, Masking, TimeDistributed, Add, Concatenate, Bidirectional and Multiply; Keras
    # records their computation as keras.ops calls (NotEqual, Any, LogicalOr...), which rnnkit redoes itself
    "masked_graph": ["Embedding", "LSTM", "Masking", "TimeDistributed", "Dense", "Add", "Concatenate",
                     "Bidirectional", "GRU", "Multiply", "GlobalAveragePooling1D"],
    # keras-io video_classification's sequence model: a boolean Input given to GRU as mask=, which Keras
    # passes on to the next GRU (its file records that call with mask= too)
    "explicit_mask": ["GRU", "Dropout", "Dense"],
    "next_frame": ["ConvLSTM2D", "BatchNormalization", "Conv3D"],  # keras-io conv_lstm's model
    # the mask passes the noise layers (the identity at inference) on to the first LSTM
    "small_layers": ["Masking", "GaussianNoise", "LeakyReLU", "ELU", "PReLU", "GaussianDropout", "AlphaDropout",
                     "Identity", "UnitNormalization", "LSTM", "UpSampling1D", "ZeroPadding1D", "Cropping1D",
                     "Softmax"],
    "merges": ["Masking", "Average", "Subtract", "Maximum", "Minimum", "LSTM", "Dot", "Concatenate"],
}
FUNCTIONAL = ["seq2seq", "attention", "masked_graph", "explicit_mask", "next_frame", "merges"]


def _data(case: str) -> tuple[list, list]:
    """The inputs and Keras's outputs stored beside a fixture (x or x0, x1...; y or y0, y1...)."""
    data = np.load(FIXTURES / f"{case}.npz")
    xs = [data[k] for k in sorted(data) if k.startswith("x")]
    ys = [data[k] for k in sorted(data) if k.startswith("y")]
    return xs, ys


def _predict(model, xs: list) -> list:
    out = model.predict(xs if len(xs) > 1 else xs[0])
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("case", list(CASES))
def test_keras_model_gives_keras_outputs(case, suffix):
    xs, ys = _data(case)
    model = load_keras(FIXTURES / f"{case}{suffix}")
    assert isinstance(model, Model if case in FUNCTIONAL else Sequential)
    got = _predict(model, xs)
    assert len(got) == len(ys)
    for a, b in zip(got, ys):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_every_keras_layer_rnnkit_has_is_in_a_keras_written_fixture():
    covered = {kind for kinds in CASES.values() for kind in kinds}
    assert set(SUPPORTED) - covered - {"InputLayer"} == {"ConvLSTM3D"}  # ConvLSTM3D: tests/test_keras_export.py


@pytest.mark.parametrize("case", list(CASES))
def test_fixture_holds_the_layers_listed(case):
    with zipfile.ZipFile(FIXTURES / f"{case}.keras") as z:
        config = json.loads(z.read("config.json"))
    kinds = set()

    def walk(spec):
        kinds.add(spec["class_name"])
        for key in ("layer", "backward_layer"):
            if isinstance(spec["config"].get(key), dict):
                walk(spec["config"][key])

    for spec in config["config"]["layers"]:
        if not spec.get("module", "").startswith("keras.src.ops"):  # the masks' keras.ops calls are no layers
            walk(spec)
    assert kinds - {"InputLayer"} == set(CASES[case])


def test_seq2seq_training_model_comes_back_functional_with_the_encoder_states_starting_the_decoder():
    model = load_keras(FIXTURES / "seq2seq.keras")
    assert [tuple(s.shape) for s in model.inputs] == [(None, None, 5), (None, None, 4)]
    encoder, decoder = [layer for layer in model.layers if isinstance(layer, LSTM)]
    states = decoder._inbound_nodes[0].kwargs["initial_state"]
    assert [(s.node.layer, s.index) for s in states] == [(encoder, 1), (encoder, 2)]  # [h, c] of the encoder


def test_functional_round_trip_through_rnnkit_formats(tmp_path):
    xs, ys = _data("attention")
    model = load_keras(FIXTURES / "attention.keras")
    rnnkit.save_keras(model, tmp_path / "again.keras")
    model.save(tmp_path / "m.rnnkit")
    for back in (load_keras(tmp_path / "again.keras"), rnnkit.load(tmp_path / "m.rnnkit")):
        for a, b in zip(_predict(back, xs), ys):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_imported_stateful_model_keeps_its_batch_and_carries_state():
    model = load_keras(FIXTURES / "airline.keras")
    x = np.load(FIXTURES / "airline.npz")["x"]
    assert model.stateful and model._fixed_batch_size() == 1
    first, second = model.predict(x), model.predict(x)
    assert not np.allclose(first, second)  # the second call continues from the first one's states
    model.reset_states()
    np.testing.assert_allclose(model.predict(x), first, atol=1e-6)


def test_imported_model_saves_and_reloads_as_rnnkit(tmp_path):
    data = np.load(FIXTURES / "stacked.npz")
    load_keras(FIXTURES / "stacked.keras").save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(data["x"]), data["y"], atol=1e-5)


def test_unsupported_layer_is_named_with_the_supported_list():
    with pytest.raises(ValueError, match="'ActivityRegularization' is not supported.*Supported layers: Activation, "
                                         "Add, AdditiveAttention"):
        load_keras(FIXTURES / "unsupported.keras")


def test_files_that_are_not_keras_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="No Keras model"):
        load_keras(tmp_path / "missing.keras")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a .keras"):
        load_keras(tmp_path / "notes.txt")
