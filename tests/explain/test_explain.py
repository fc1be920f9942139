"""explain(): the seeds' models described with their stated shapes; each finding fires on the wrong example
and not on the right one; the spec parser never evaluates text; the pictures stay bounded."""

import numpy as np
import pytest
from matplotlib.patches import FancyBboxPatch

from rnnkit import (GRU, LSTM, Conv2D, Dense, Embedding, Flatten, Input, MaxPooling2D, Model, RepeatVector,
                    Sequential, TimeDistributed, cli)
from rnnkit.explanation import SpecError, explain, parse
from rnnkit.explanation.diagram import draw, step_labels
from rnnkit.models.shapes import Row


def described(row, which="output"):
    shape, axes = (row.output_shape, row.output_axes) if which == "output" else (row.input_shape, row.input_axes)
    return Row.describe(shape, axes)


# -- the seeds' models ---------------------------------------------------------------------------------------
def test_seed_airline_model_many_to_one():
    e = explain(Sequential([Input((3, 1)), LSTM(4), Dense(1)]))  # trainX (N, 3, 1): [samples, time steps, features]
    assert described(e.rows[0], "input") == "(batch, 3 time_steps, 1 features)"
    assert described(e.rows[0]) == "(batch, 4 units)"
    assert e.rows[0].time.startswith("dropped")
    assert e.topology.kind == "many-to-one"
    assert (e.topology.input_boxes, e.topology.recurrent_rows, e.topology.output_boxes) == (3, 1, 1)
    assert "Units (4) are the size of that state, not the number of boxes" in " ".join(e.topology.words)


def test_seed_004_bitsum_model_many_to_many_with_keras_params():
    e = explain(Sequential([Input((20, 1)), Dense(32), LSTM(32, return_sequences=True), Dense(1)]))
    assert [r.params for r in e.rows] == [64, 8320, 33]
    assert described(e.rows[-1]) == "(batch, 20 time_steps, 1 units)"
    assert e.topology.kind == "many-to-many (aligned)" and e.topology.output_boxes == 20


def test_seed_000_tanks_stateful_many_to_many():
    e = explain(Sequential([Input(batch_shape=(4, 5, 2)), LSTM(8, return_sequences=True, stateful=True),
                            TimeDistributed(Dense(2))]))
    assert described(e.rows[0], "input") == "(4 batch, 5 time_steps, 2 features)"
    assert e.rows[0].stateful is True and e.rows[1].stateful is None
    assert e.topology.kind == "many-to-many (aligned)"


@pytest.mark.parametrize("steps,features", [(5, 1), (4, 3)])
def test_seed_003_pictures_match_the_shapes(steps, features):
    e = explain("LSTM(2)", input_shape=(steps, features))
    assert e.topology.input_boxes == steps and e.topology.output_boxes == 1
    assert f"each a vector of {features} feature(s)" in " ".join(e.topology.words)


def test_seed_000_autoencoder_is_encoder_decoder_and_one_to_many_without_encoder():
    e = explain("LSTM(8) > RepeatVector(40) > LSTM(8, return_sequences=True)", input_shape=(100, 2))
    assert e.topology.kind == "many-to-many (encoder-decoder)"
    assert e.rows[1].time.startswith("created") and described(e.rows[1]) == "(batch, 40 time_steps, 8 units)"
    assert explain("RepeatVector(6) > LSTM(3, return_sequences=True)", input_shape=(4,)).topology.kind == "one-to-many"


def test_seed_002_frames_type_2_and_functional_seq2seq():
    e = explain(Sequential([Input((5, 16, 16, 3)), TimeDistributed(Conv2D(4, (3, 3))),
                            TimeDistributed(MaxPooling2D()), TimeDistributed(Flatten()), LSTM(6), Dense(2)]))
    assert described(e.rows[0], "input") == "(batch, 5 time_steps, 16 rows, 16 cols, 3 channels)"
    assert described(e.rows[0]) == "(batch, 5 time_steps, 14 rows, 14 cols, 4 filters)"
    assert e.topology.kind == "many-to-one"
    enc, dec = Input((None, 5)), Input((1, 5))
    _, h, c = LSTM(4, return_state=True)(enc)
    out = Dense(5)(LSTM(4, return_sequences=True)(dec, initial_state=[h, c]))
    f = explain(Model([enc, dec], out))
    assert f.topology.kind == "many-to-many (encoder-decoder)"
    assert described(f.rows[0], "input") == "(batch, time_steps, 5 features)"


def test_embedding_ids_are_time_steps():
    e = explain(Sequential([Input((7,)), Embedding(50, 8, mask_zero=True), GRU(4)]))
    assert described(e.rows[0], "input") == "(batch, 7 time_steps)"
    assert e.topology.kind == "many-to-one"


# -- findings: triggered by the wrong example, absent from the right one ------------------------------------
SINE = np.sin(2 * np.pi * np.arange(600) / 24)


def _windows(series, look_back):
    return np.stack([series[i:i + look_back] for i in range(len(series) - look_back)])[:, :, None]


@pytest.mark.parametrize("code,wrong,right", [
    ("y-shape", dict(spec="LSTM(4, return_sequences=True) > Dense(1)", input_shape=(5, 1), y=np.zeros((10, 1))),
     dict(spec="LSTM(4, return_sequences=True) > Dense(1)", input_shape=(5, 1), y=np.zeros((10, 5, 1)))),
    ("x-is-2d", dict(spec="LSTM(4) > Dense(1)", x=np.zeros((10, 3))),
     dict(spec="LSTM(4) > Dense(1)", x=np.zeros((10, 3, 1)))),
    ("one-step-many-features", dict(spec="LSTM(4) > Dense(1)", x=np.random.rand(10, 1, 20)),
     dict(spec="LSTM(4) > Dense(1)", x=np.random.rand(10, 20, 1))),
    ("stacked-without-sequences", dict(spec="LSTM(4) > LSTM(4)", input_shape=(5, 2)),
     dict(spec="LSTM(4, return_sequences=True) > LSTM(4)", input_shape=(5, 2))),
    ("stateful-shuffle", dict(spec="LSTM(4, stateful=True) > Dense(1)", input_shape=(3, 1),
                              stateful_fit={"shuffle": True}),
     dict(spec="LSTM(4, stateful=True) > Dense(1)", input_shape=(3, 1), stateful_fit={"shuffle": False})),
    ("stateful-batch", dict(spec="LSTM(4, stateful=True) > Dense(1)", x=np.zeros((10, 3, 1)), batch_size=3),
     dict(spec="LSTM(4, stateful=True) > Dense(1)", x=np.zeros((10, 3, 1)), batch_size=5)),
    ("dense-on-sequences", dict(spec="LSTM(4, return_sequences=True) > Dense(1)", input_shape=(5, 1)),
     dict(spec="LSTM(4) > Dense(1)", input_shape=(5, 1))),
    ("window-shorter-than-period", dict(spec="LSTM(4) > Dense(1)", x=_windows(SINE, 5)),
     dict(spec="LSTM(4) > Dense(1)", x=_windows(SINE, 30))),
])
def test_finding_fires_only_on_the_wrong_example(code, wrong, right):
    bad = explain(wrong.pop("spec"), **wrong)
    good = explain(right.pop("spec"), **right)
    finding = bad.finding(code)
    assert finding is not None and finding.fix
    assert good.finding(code) is None


def test_findings_name_concrete_fixes():
    e = explain("LSTM(4) > Dense(1)", x=np.zeros((10, 3)))
    assert "x.reshape(10, 3, 1)" in e.finding("x-is-2d").fix
    e = explain("LSTM(4, return_sequences=True) > Dense(1)", input_shape=(5, 1), y=np.zeros((10, 1)))
    assert "return_sequences=False" in e.finding("y-shape").fix


# -- the parser -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,message,column", [
    ("LSTM(4, return_sequence=True)", "LSTM has no argument 'return_sequence'; its arguments: units", 9),
    ("LSTM(4) >> Dense(1)", "expected a layer name", 10),
    ("LSTM(4) > Dens(1)", "unknown layer 'Dens'; known layers: Activation", 11),
    ("LSTM(4 > Dense(1)", "expected ',' or '\\)' but found '>'", 8),
    ("__import__('os').system('echo hi')", "unknown layer '__import__'", 1),
    ("Lambda(print)", "unknown layer 'Lambda'", 1),
    ("LSTM(units=4, 2)", "positional argument cannot follow a keyword", 15),
    ("LSTM('four')", "LSTM\\(...\\) rejected its arguments", 1),
])
def test_parser_points_at_the_offending_character(spec, message, column):
    with pytest.raises(SpecError, match=message) as err:
        parse(spec)
    assert f"(column {column})" in str(err.value)


def test_parser_reads_values_and_nested_layers():
    layers = parse("Bidirectional(LSTM(3, return_sequences=True), merge_mode='sum') > "
                   "TimeDistributed(Dense(2, activation=\"relu\")) > Reshape((6, 1)) > Dropout(0.25)")
    assert [type(l).__name__ for l in layers] == ["Bidirectional", "TimeDistributed", "Reshape", "Dropout"]
    assert layers[0].merge_mode == "sum" and layers[2].target_shape == (6, 1) and layers[3].rate == 0.25


# -- pictures -----------------------------------------------------------------------------------------------
def test_long_sequences_are_drawn_with_an_ellipsis():
    assert step_labels(500) == ["t=1", "t=2", "t=3", "...", "t=499", "t=500"]
    fig = draw([LSTM(4), Dense(1)], 500, 1, None, "long")
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 6 + 6 + 1 + 1  # inputs, cells, the final Dense, one output: not 500 of anything


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_save_writes_each_format(tmp_path, suffix):
    path = explain("LSTM(4, stateful=True) > Dense(1)", input_shape=(3, 1), batch_size=1).save(tmp_path / f"m{suffix}")
    data = path.read_bytes()
    assert {".png": data[:4] == b"\x89PNG", ".svg": b"<svg" in data[:400],
            ".html": b"<pre>" in data and b"<svg" in data}[suffix]
    with pytest.raises(ValueError, match="writes .png, .svg or .html"):
        explain("LSTM(4)", input_shape=(3, 1)).save(tmp_path / "m.pdf")


def test_cli_explain_spec_and_saved_model(tmp_path, capsys):
    rc = cli.main(["explain", "LSTM(4, return_sequences=True) > TimeDistributed(Dense(1))", "--input-shape", "5,2",
                   "--out", str(tmp_path / "d.png")])
    out = capsys.readouterr().out
    assert rc == 0 and "many-to-many (aligned)" in out and (tmp_path / "d.png").stat().st_size > 1000
    Sequential([Input((3, 1)), LSTM(4), Dense(1)]).save(tmp_path / "m.rnnkit")
    np.save(tmp_path / "y.npy", np.zeros((8, 3, 1)))
    rc = cli.main(["explain", str(tmp_path / "m.rnnkit"), "--y", str(tmp_path / "y.npy")])
    assert rc == 1 and "y-shape" in capsys.readouterr().out  # an error finding makes the exit code 1
    assert cli.main(["explain", "LSTM(4 > Dense(1)", "--input-shape", "5,2"]) == 2
    assert "column 8" in capsys.readouterr().err


def test_a_frame_input_is_described_as_frames_and_flatten_gives_features():
    model = Sequential([Input((5, 16, 16, 1)), TimeDistributed(Conv2D(4, (3, 3))), TimeDistributed(Flatten()),
                        LSTM(8), Dense(3)])
    e = explain(model)
    words = " ".join(e.topology.words)
    assert "each a 16x16x1 frame" in words and "1 feature" not in words
    flatten = e.rows[1]
    assert flatten.output_axes[-1] == "features" and flatten.output_shape[-1] == 784
