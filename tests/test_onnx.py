"""ONNX export with explicit state: names, a dynamic batch, the CLI, clear errors naming the layer, and
OnnxStream without torch. Every layer kind over 200 steps (step graph) and over any length (sequence
graph) is in tests/onnx/."""

import numpy as np
import pytest

import rnnkit
from rnnkit import (GRU, LSTM, Bidirectional, Dense, Embedding, Input, OnnxStream, Sequential, SimpleRNN, Stream,
                    export_onnx)

pytest.importorskip("onnxruntime")


def test_state_names_follow_the_layers_and_the_batch_is_dynamic(tmp_path):
    model = Sequential([Input((None, 2)), LSTM(3, return_sequences=True, name="enc"), GRU(2, name="dec")])
    names = export_onnx(model, tmp_path / "m.onnx")
    assert names == {"inputs": ["x", "enc.h", "enc.c", "dec.h"],
                     "outputs": ["y", "enc.h_next", "enc.c_next", "dec.h_next"]}
    x = np.random.default_rng(0).normal(size=(7, 12, 2)).astype("float32")
    stream = OnnxStream(tmp_path / "m.onnx", series=7)  # exported with batch 2, run with 7
    np.testing.assert_allclose(stream.prime(x), model.predict(x), atol=1e-5)


def test_prime_then_reset_rows_matches_stream(tmp_path):
    model = Sequential([Input((None, 2)), SimpleRNN(4, return_sequences=True), Dense(1)])
    export_onnx(model, tmp_path / "m.onnx")
    x = np.random.default_rng(2).normal(size=(3, 10, 2)).astype("float32")
    ours, theirs = Stream(model, series=3), OnnxStream(tmp_path / "m.onnx", series=3)
    np.testing.assert_allclose(theirs.prime(x), ours.prime(x), atol=1e-5)
    ours.reset(rows=[1])
    theirs.reset(rows=[1])
    np.testing.assert_allclose(theirs.step(x[:, 0]), ours.step(x[:, 0]), atol=1e-5)


@pytest.mark.parametrize("layers,message", [
    (lambda: [Bidirectional(LSTM(3, return_sequences=True))], "reads time backwards"),
    (lambda: [LSTM(3, return_sequences=True, go_backwards=True)], "reads time backwards"),
    (lambda: [Dense(3)], "no recurrent layer"),
], ids=["Bidirectional", "go_backwards", "no-recurrent"])
def test_layers_without_a_step_graph_are_named(tmp_path, layers, message):
    model = Sequential([Input((None, 2)), *layers()])
    with pytest.raises(ValueError, match=message):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_an_embedding_after_the_first_layer_is_refused_naming_it(tmp_path):
    model = Sequential([Dense(3), Embedding(10, 3, name="ids"), LSTM(2)])
    with pytest.raises(ValueError, match="'ids' \\(Embedding\\) is not the first layer"):
        export_onnx(model, tmp_path / "m.onnx")


def test_bad_calls_get_clear_errors(tmp_path):
    model = Sequential([Input((None, 2)), LSTM(3)])
    with pytest.raises(ValueError, match=r"mode must be one of \('step', 'sequence'\)"):
        export_onnx(model, tmp_path / "m.onnx", mode="steps")
    export_onnx(model, tmp_path / "m.onnx")
    stream = OnnxStream(tmp_path / "m.onnx", series=2)
    with pytest.raises(ValueError, match=r"expected one step of shape \(2, 2\), received \(2, 3\)"):
        stream.step(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="distinct series numbers"):
        stream.step(np.zeros((2, 2), "float32"), rows=[1, 1])
    with pytest.raises(ValueError, match="series must be a positive integer"):
        OnnxStream(tmp_path / "m.onnx", series=0)
    assert rnnkit.OnnxStream is OnnxStream


def test_the_cli_exports_a_saved_model(tmp_path, capsys):
    from rnnkit.cli import main
    model = Sequential([Input((None, 2)), GRU(3, return_sequences=True, name="g"), Dense(1)])
    model.save(tmp_path / "m.rnnkit")
    assert main(["export", str(tmp_path / "m.rnnkit"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    assert "inputs x, g.h; outputs y, g.h_next" in capsys.readouterr().out
    x = np.random.default_rng(3).normal(size=(2, 5, 2)).astype("float32")
    np.testing.assert_allclose(OnnxStream(tmp_path / "m.onnx", series=2).prime(x), model.predict(x)[:, -1], atol=1e-5)


def test_onnx_stream_runs_where_torch_is_not_installed(tmp_path):
    # OnnxStream's module needs only NumPy and onnxruntime: loaded by path in a process where importing
    # torch (or rnnkit) fails, it steps the exported graph to the same outputs.
    import subprocess
    import sys
    import textwrap
    from rnnkit.inference import onnx_stream
    model = Sequential([Input((None, 2)), LSTM(3, return_sequences=True), Dense(1)])
    export_onnx(model, tmp_path / "m.onnx")
    x = np.random.default_rng(4).normal(size=(2, 6, 2)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    code = textwrap.dedent(f"""
        import sys, importlib.util
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        sys.modules["rnnkit"] = None
        spec = importlib.util.spec_from_file_location("onnx_stream", {onnx_stream.__file__!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        import numpy as np
        stream = module.OnnxStream({str(tmp_path / 'm.onnx')!r}, series=2)
        np.save({str(tmp_path / 'y.npy')!r}, stream.prime(np.load({str(tmp_path / 'x.npy')!r})))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), model.predict(x)[:, -1], atol=1e-5)
