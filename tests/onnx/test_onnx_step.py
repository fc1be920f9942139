"""export_onnx(mode="step") with OnnxStream: onnxruntime's steps equal Stream.step to 1e-5 over 200 steps
for every layer kind, at one series and several; an Embedding first steps on int64 ids (in Stream too),
and with mask_zero an id 0 carries the states as predict does. OnnxStream has Stream's API."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import (GRU, LSTM, RNN, Bidirectional, Cell, Dense, Dropout, Embedding, Input, OnnxStream, Sequential,
                    SimpleRNN, Stream, TimeDistributed, export_onnx, generate)

pytest.importorskip("onnxruntime")

# name -> (layers, ids): ids models start with an Embedding and step on one int64 id per series
KINDS = {
    "LSTM": (lambda: [LSTM(6, return_sequences=True), Dense(2)], False),
    "GRU-reset_after": (lambda: [GRU(5, return_sequences=True, reset_after=True), Dense(2)], False),
    "GRU-reset_before": (lambda: [GRU(5, return_sequences=True, reset_after=False), Dense(2)], False),
    "Dense-SimpleRNN-relu": (lambda: [Dense(3), SimpleRNN(4, return_sequences=True, activation="relu"), Dense(1)],
                             False),
    "stack-and-TimeDistributed": (lambda: [TimeDistributed(Dense(4, activation="tanh")), LSTM(6, return_sequences=True),
                                             Dropout(0.3), GRU(3, return_sequences=True),
                                             TimeDistributed(Dense(2))], False),
    "last-step-only": (lambda: [LSTM(5, return_sequences=True), LSTM(4), Dense(3, activation="softmax")], False),
    "Embedding": (lambda: [Embedding(10, 4), LSTM(5, return_sequences=True),
                           GRU(3, return_sequences=True, reset_after=False), Dense(10, activation="softmax")], True),
}


def build(layers, ids):
    torch.manual_seed(0)
    model = Sequential([Input((None,) if ids else (None, 3), dtype="int64" if ids else "float32"), *layers])
    if ids:
        model.predict(np.ones((1, 2), "int64"))  # builds the layers after the Embedding
    return model


def inputs(ids, series, time, seed=1):
    rng = np.random.default_rng(seed)
    if ids:
        return rng.integers(0, 10, size=(series, time))
    return rng.normal(size=(series, time, 3)).astype("float32")


@pytest.mark.parametrize("series", [1, 5])
@pytest.mark.parametrize("name", list(KINDS))
def test_onnxruntime_steps_equal_stream_steps_over_200_steps(tmp_path, name, series):
    layers, ids = KINDS[name]
    model = build(layers(), ids)
    export_onnx(model, tmp_path / "m.onnx")
    x = inputs(ids, series, 200)
    ours, theirs = Stream(model, series=series), OnnxStream(tmp_path / "m.onnx", series=series)
    worst = 0.0
    for t in range(200):
        step = x[:, t:t + 1] if ids else x[:, t]  # Stream reads an id as one feature: (series, 1)
        if series > 1 and t % 7 == 3:  # some steps only two series report: the others wait
            a, b = ours.step(step[[0, 2]], rows=[0, 2]), theirs.step(step[[0, 2]], rows=[0, 2])
        else:
            a, b = ours.step(step), theirs.step(step)
        worst = max(worst, float(np.abs(a - b).max()))
    assert worst < 1e-5
    for name_, value in theirs.states.items():
        layer, state = name_.split(".")
        np.testing.assert_allclose(value, ours.states[layer][("h", "c").index(state)].numpy(), atol=1e-5)


def test_an_embedding_with_mask_zero_steps_like_predict(tmp_path):
    model = build([Embedding(10, 4, mask_zero=True), LSTM(5, return_sequences=True), Dense(3),
                   GRU(3, return_sequences=True), Dense(2)], ids=True)
    export_onnx(model, tmp_path / "m.onnx")
    x = inputs(True, 3, 200)
    x[:, :20] = 0  # left padding, and zeros in the middle by chance
    stream = OnnxStream(tmp_path / "m.onnx", series=3)
    got = np.stack([stream.step(x[:, t]) for t in range(200)], axis=1)  # ids as (series,)
    assert np.abs(got - model.predict(x)).max() < 1e-5
    assert np.abs(got[:, :20]).max() == 0  # padding from zero states repeats the zero output


def test_a_user_cell_with_a_mask_has_no_step_graph_and_the_error_says_so(tmp_path):
    class Double(Cell):  # output 2h is not the state h, so a padded step must repeat the previous output
        state_size = 3

        def call(self, inputs, states):
            return 2 * (states[0] + inputs), [states[0] + inputs]

    model = build([Embedding(10, 3, mask_zero=True), RNN(Double(), return_sequences=True, name="mine")], ids=True)
    with pytest.raises(ValueError, match="layer 'mine' gets a mask.*export with mode='sequence'"):
        export_onnx(model, tmp_path / "m.onnx")


def test_bidirectional_has_no_step_graph_and_the_error_says_use_sequence(tmp_path):
    model = Sequential([Input((None, 2)), Bidirectional(LSTM(3, return_sequences=True), name="both")])
    with pytest.raises(ValueError, match="layer 'both' reads time backwards.*Export it with mode='sequence'"):
        export_onnx(model, tmp_path / "m.onnx")


def test_onnx_stream_has_streams_api(tmp_path):
    model = build([LSTM(4, return_sequences=True, name="enc"), GRU(2, name="dec")], ids=False)
    export_onnx(model, tmp_path / "m.onnx")
    ours, theirs = Stream(model, series=3), OnnxStream(tmp_path / "m.onnx", series=3)
    assert (theirs.series, theirs.features) == (ours.series, ours.features) == (3, 3)
    assert {k: v.shape for k, v in theirs.states.items()} == {"enc.h": (3, 4), "enc.c": (3, 4), "dec.h": (3, 2)}
    x = inputs(False, 3, 12)
    np.testing.assert_allclose(theirs.prime(x), ours.prime(x), atol=1e-5)
    ours.reset(rows=np.array([False, True, True]))
    theirs.reset(rows=np.array([False, True, True]))
    assert not theirs.states["enc.h"][1:].any() and theirs.states["enc.h"][0].any()
    np.testing.assert_allclose(theirs.step(x[:, :1]), ours.step(x[:, :1]), atol=1e-5)  # (B, 1, F) is one step
    np.testing.assert_allclose(theirs.step(x[[2], 1], rows=[2.0]), ours.step(x[[2], 1], rows=[2.0]), atol=1e-5)
    theirs.reset()
    assert not any(v.any() for v in theirs.states.values())


def test_onnx_stream_takes_ids_as_series_or_series_by_one(tmp_path):
    model = build(KINDS["Embedding"][0](), ids=True)
    export_onnx(model, tmp_path / "m.onnx")
    stream = OnnxStream(tmp_path / "m.onnx", series=2)
    assert stream.features == 1
    x = inputs(True, 2, 6)
    want = model.predict(x)
    np.testing.assert_allclose(stream.prime(x[:, :4]), want[:, 3], atol=1e-5)  # ids (series, T)
    np.testing.assert_allclose(stream.step(x[:, 4]), want[:, 4], atol=1e-5)  # (series,)
    np.testing.assert_allclose(stream.step(x[:, 5:6]), want[:, 5], atol=1e-5)  # (series, 1)
    with pytest.raises(ValueError, match=r"expected one step of shape \(2, 1\), received \(2, 3\)"):
        stream.step(x[:, :3])


def test_stream_and_generate_step_an_embedding_first():
    model = build(KINDS["Embedding"][0](), ids=True)
    x = inputs(True, 3, 20)
    stream = Stream(model, series=3)
    got = np.stack([stream.step(x[:, t:t + 1]) for t in range(20)], axis=1)
    np.testing.assert_allclose(got, model.predict(x), atol=1e-5)
    np.testing.assert_allclose(Stream(model, series=3).prime(x[..., None]), model.predict(x)[:, -1], atol=1e-5)
    out = generate(model, x[..., None], horizon=4, feedback=lambda p: p.argmax(-1, keepdim=True).float())
    assert out.shape == (3, 4, 10)
    masked = build([Embedding(10, 3, mask_zero=True, name="ids"), LSTM(2)], ids=True)
    with pytest.raises(ValueError, match="Stream: layer 'ids' \\(Embedding\\) has mask_zero=True"):
        Stream(masked, series=2)


def test_the_onnx_namespace():
    from rnnkit.onnx import OnnxStream as namespaced_stream, export_onnx as namespaced_export

    assert namespaced_stream is OnnxStream is rnnkit.OnnxStream
    assert namespaced_export is export_onnx is rnnkit.export_onnx
