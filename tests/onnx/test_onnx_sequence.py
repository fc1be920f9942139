"""export_onnx(mode="sequence"): onnxruntime's output equals predict to 1e-5 for every layer kind, at batch
sizes 1 and several and at time lengths other than the traced one (1, 7, 50, 200): the time axis is an
ONNX Scan, not a length baked in by tracing. Initial states are optional inputs; the rest of the
layers get a clear error naming them."""

import numpy as np
import pytest
import torch

from rnnkit import (GRU, LSTM, RNN, Activation, Bidirectional, Cell, Conv2D, Dense, Dropout, Embedding, Flatten,
                    Input, Model, OnnxStream, RepeatVector, Sequential, SimpleRNN, TimeDistributed, export_onnx)

ort = pytest.importorskip("onnxruntime")


class Leaky(Cell):
    """A user cell whose output is not its state (so a padded step must repeat the previous output)."""

    def __init__(self, units):
        super().__init__()
        self.state_size = units

    def call(self, inputs, states):
        h = 0.5 * states[0] + torch.tanh(inputs)
        return 2.0 * h, [h]


# name -> (layers, ids): ids models start with an Embedding and read int64 (batch, time)
KINDS = {
    "LSTM": (lambda: [LSTM(6, return_sequences=True), Dense(2)], False),
    "GRU-reset_after": (lambda: [GRU(5, return_sequences=True, reset_after=True), Dense(2)], False),
    "GRU-reset_before": (lambda: [GRU(5, return_sequences=True, reset_after=False), Dense(2)], False),
    "SimpleRNN-relu": (lambda: [SimpleRNN(4, return_sequences=True, activation="relu"), Dense(1)], False),
    "stack-and-TimeDistributed": (lambda: [TimeDistributed(Dense(4, activation="tanh")),
                                           LSTM(6, return_sequences=True), Dropout(0.3),
                                           GRU(3, return_sequences=True), TimeDistributed(Dense(2)),
                                           Activation("softmax")], False),
    "last-step-only": (lambda: [LSTM(5, return_sequences=True), GRU(4, reset_after=False), Dense(3)], False),
    "go_backwards": (lambda: [LSTM(4, return_sequences=True, go_backwards=True), SimpleRNN(3)], False),
    "Bidirectional-concat": (lambda: [Bidirectional(LSTM(4, return_sequences=True)), TimeDistributed(Dense(2))],
                             False),
    "Bidirectional-sum-GRU": (lambda: [Bidirectional(GRU(4, return_sequences=True, reset_after=False),
                                                     merge_mode="sum"), Dense(2)], False),
    "Bidirectional-mul": (lambda: [Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode="mul")], False),
    "Bidirectional-ave-last": (lambda: [Bidirectional(GRU(4), merge_mode="ave"), Dense(2)], False),
    "RepeatVector-seq2seq": (lambda: [LSTM(5), RepeatVector(4), LSTM(3, return_sequences=True),
                                      TimeDistributed(Dense(2))], False),
    "Embedding": (lambda: [Embedding(10, 4), LSTM(5, return_sequences=True), Dense(10, activation="softmax")],
                  True),
    "Embedding-mask_zero": (lambda: [Embedding(10, 4, mask_zero=True), LSTM(5, return_sequences=True),
                                     Dense(3), GRU(3, reset_after=False)], True),
    "Embedding-mask_zero-Bidirectional": (lambda: [Embedding(10, 4, mask_zero=True),
                                                   Bidirectional(GRU(3, return_sequences=True)), Dense(2)], True),
    "Embedding-mask_zero-TimeDistributed-drops-it": (lambda: [Embedding(10, 4, mask_zero=True),
                                                              TimeDistributed(Dense(4)), SimpleRNN(3)], True),
    "Embedding-mask_zero-user-cell": (lambda: [Embedding(10, 3, mask_zero=True),
                                               RNN(Leaky(3), return_sequences=True), Dense(2)], True),
}
SHAPES = [(1, 1), (5, 7), (1, 50), (3, 200)]  # (batch, time): none is the traced (2, 3)


def build(name):
    layers, ids = KINDS[name]
    torch.manual_seed(0)
    model = Sequential([Input((None,) if ids else (None, 3), dtype="int64" if ids else "float32"), *layers()])
    if ids:
        model.predict(np.ones((1, 2), "int64"))  # builds the layers after the Embedding
    return model, ids


def inputs(ids, batch, time, seed=0):
    rng = np.random.default_rng(seed + time)
    if not ids:
        return rng.normal(size=(batch, time, 3)).astype("float32")
    x = rng.integers(0, 10, size=(batch, time))
    x[:, :time // 4] = 0  # left padding (and zeros in the middle by chance): masked steps
    return x


def session(path):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the note that default states "will not be treated as constant"
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_difference(name, tmp_path) -> float:
    model, ids = build(name)
    export_onnx(model, tmp_path / "m.onnx", mode="sequence")
    run = session(tmp_path / "m.onnx")
    worst = 0.0
    for batch, time in SHAPES:
        x = inputs(ids, batch, time)
        y = run.run(["y"], {"x": x})[0]
        want = model.predict(x)
        assert y.shape == want.shape, (batch, time)
        worst = max(worst, float(np.abs(y - want).max()))
    return worst


@pytest.mark.parametrize("name", list(KINDS))
def test_onnxruntime_sequence_equals_predict_at_every_length(tmp_path, name):
    assert max_difference(name, tmp_path) < 1e-5


def test_initial_states_are_optional_inputs_and_chunks_continue_the_whole_sequence(tmp_path):
    torch.manual_seed(0)
    model = Sequential([Input((None, 3)), LSTM(4, return_sequences=True, name="enc"),
                        GRU(3, return_sequences=True, name="dec"), Dense(2)])
    names = export_onnx(model, tmp_path / "m.onnx", mode="sequence")
    assert names == {"inputs": ["x", "enc.h", "enc.c", "dec.h"],
                     "outputs": ["y", "enc.h_next", "enc.c_next", "dec.h_next"]}
    run = session(tmp_path / "m.onnx")
    assert [i.name for i in run.get_inputs()] == ["x"]
    assert sorted(i.name for i in run.get_overridable_initializers()) == ["dec.h", "enc.c", "enc.h"]
    x = inputs(False, 4, 30)
    first = run.run(None, {"x": x[:, :12]})
    states = dict(zip(names["inputs"][1:], first[1:]))
    second = run.run(None, {"x": x[:, 12:], **states})
    np.testing.assert_allclose(np.concatenate([first[0], second[0]], axis=1), model.predict(x), atol=1e-5)
    h0, c0 = np.ones((4, 4), "float32"), np.full((4, 4), -0.5, "float32")  # any start, as layer(x, initial_state)
    y = run.run(["y"], {"x": x, "enc.h": h0, "enc.c": c0})[0]
    with torch.no_grad():
        hidden = model.layers[0](torch.tensor(x), initial_state=[torch.tensor(h0), torch.tensor(c0)])
        want = model.layers[2](model.layers[1](hidden)).numpy()
    np.testing.assert_allclose(y, want, atol=1e-5)


def test_bidirectional_states_are_named_after_both_halves(tmp_path):
    model = Sequential([Input((None, 2)), Bidirectional(LSTM(3, return_sequences=True, name="fw"))])
    names = export_onnx(model, tmp_path / "m.onnx", mode="sequence")
    assert names["inputs"] == ["x", "fw.h", "fw.c", "backward_fw.h", "backward_fw.c"]
    assert names["outputs"] == ["y", "fw.h_next", "fw.c_next", "backward_fw.h_next", "backward_fw.c_next"]


@pytest.mark.parametrize("layers,message", [
    (lambda: [Bidirectional(LSTM(3, return_sequences=True), merge_mode=None, name="both")],
     "'both' \\(Bidirectional\\) has merge_mode=None"),
    (lambda: [LSTM(3), Flatten(name="flat")], "'flat' \\(Flatten\\) does not act one step at a time"),
    (lambda: [LSTM(3), RepeatVector(2, name="rep"), LSTM(2)],
     "'rep' \\(RepeatVector\\) does not act one step at a time"),
], ids=["merge_mode-None", "Flatten", "RepeatVector-in-step-mode"])
def test_layers_the_graph_cannot_take_are_named(tmp_path, layers, message):
    model = Sequential([Input((None, 2)), *layers()])
    mode = "step" if "RepeatVector" in message else "sequence"
    with pytest.raises(ValueError, match=message):
        export_onnx(model, tmp_path / "m.onnx", mode=mode)
    assert not (tmp_path / "m.onnx").exists()


def test_time_distributed_conv_is_named(tmp_path):
    model = Sequential([TimeDistributed(Conv2D(2, 3), name="frames"), LSTM(2)])
    with pytest.raises(ValueError, match="'frames' \\(TimeDistributed of Conv2D\\) does not act one step"):
        export_onnx(model, tmp_path / "m.onnx", mode="sequence")


def test_a_sequence_graph_is_not_a_stream(tmp_path):
    model = Sequential([Input((None, 2)), LSTM(3)])
    export_onnx(model, tmp_path / "m.onnx", mode="sequence")
    with pytest.raises(ValueError, match="holds a sequence graph; OnnxStream runs a step graph"):
        OnnxStream(tmp_path / "m.onnx", series=2)


def test_a_functional_model_is_refused(tmp_path):
    inputs_ = Input((None, 2))
    model = Model(inputs_, LSTM(3)(inputs_))
    with pytest.raises(TypeError, match="export_onnx takes a Sequential model .* received Model"):
        export_onnx(model, tmp_path / "m.onnx", mode="sequence")
