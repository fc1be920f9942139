"""model.save / save_weights / load_weights under Keras's file names (io/keras_files.py): Keras's own
formats, which Keras 3 opens and predicts with, carrying rnnkit's checkpoint so that rnnkit.load keeps
kept states and optimizer; Keras-written weight files (tests/fixtures/keras_weights, made by
scripts/make_keras_weights_fixtures.py with Keras 3.15.1) load into rnnkit with Keras's outputs."""

import os
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import GRU, LSTM, Bidirectional, CheckpointError, Dense, Input, Lambda, Sequential
from rnnkit.io import carried, checkpoint

FIXTURES = Path(__file__).parent / "fixtures" / "keras_weights"


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _model(stateful=False, batch=4):
    torch.manual_seed(0)
    first = Input(batch_shape=(batch, 5, 3)) if stateful else Input((5, 3))
    return Sequential([first, LSTM(6, return_sequences=True, stateful=stateful), Bidirectional(GRU(3)), Dense(2)])


def _x(n=4):
    return np.random.default_rng(1).normal(size=(n, 5, 3)).astype("float32")


def _trained(stateful=True):
    model = _model(stateful=stateful)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = _x()
    model.fit(x, np.ones((4, 2), "float32"), epochs=2, batch_size=4, shuffle=False, verbose=0)
    return model, x


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.hdf5"])
def test_save_under_a_keras_name_writes_keras_format_and_keeps_states_and_optimizer(tmp_path, name):
    model, x = _trained()
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Keras file under a Keras name: nothing to warn about
        model.save(path)
    data = path.read_bytes()
    if name.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            assert {"metadata.json", "config.json", "model.weights.h5", carried.ZIP_ENTRY} <= set(z.namelist())
    else:
        with h5py.File(path) as f:
            assert "model_config" in f.attrs and "model_weights" in f and carried.H5_DATASET in f
    assert carried.carried(data, name)[:8] != data[:8]  # the carried bytes are an rnnkit file, not the container
    back = rnnkit.load(path)
    for a, b in zip(model.layers[0].states, back.layers[0].states):
        assert torch.equal(a, b)  # kept states: what Keras's format cannot hold
    assert back.optimizer.iterations == model.optimizer.iterations == 2
    mine, theirs = model.optimizer.state_dict()["state"], back.optimizer.state_dict()["state"]
    assert all(torch.equal(mine[k]["exp_avg"], theirs[k]["exp_avg"]) for k in mine)
    np.testing.assert_array_equal(back.predict(x, batch_size=4, verbose=0), model.predict(x, batch_size=4, verbose=0))
    assert rnnkit.load_model(path).layers[0].states[0].abs().sum() > 0  # load_model reads the carried file too


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_keras_loads_what_model_save_wrote(tmp_path, name, keras):
    model, x = _trained(stateful=False)
    path = tmp_path / name
    model.save(path)
    theirs = keras.saving.load_model(path, compile=False)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_weights_round_trip_through_keras_weight_files(tmp_path, name):
    model, x = _trained(stateful=False)
    model.save_weights(tmp_path / name)
    with h5py.File(tmp_path / name) as f:  # Keras's layouts: Keras 3's layers/..., legacy layer_names
        assert ("layers" in f) if name.endswith(".weights.h5") else ("layer_names" in f.attrs)
    other = _model()
    assert not np.allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
    other.load_weights(tmp_path / name)  # a new model names its layers anew: matched by position, as Keras
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", ["model.weights.h5", "model.h5"])
def test_keras_written_weight_and_model_files_load_with_keras_outputs(name):
    expected = np.load(FIXTURES / "expected.npz")
    model = _model()
    model.load_weights(FIXTURES / name)
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"], atol=1e-5)


def test_keras_reads_weights_rnnkit_wrote(tmp_path, keras):
    model, x = _trained(stateful=False)
    theirs = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(6, return_sequences=True),
                               keras.layers.Bidirectional(keras.layers.GRU(3)), keras.layers.Dense(2)])
    for name in ("w.weights.h5", "w.h5"):
        model.save_weights(tmp_path / name)
        theirs.load_weights(tmp_path / name)
        np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), atol=1e-5)


def test_weights_that_do_not_fit_change_nothing(tmp_path):
    model, x = _trained(stateful=False)
    model.save_weights(tmp_path / "w.weights.h5")
    wider = Sequential([Input((5, 3)), LSTM(7, return_sequences=True), Bidirectional(GRU(3)), Dense(2)])
    before = wider.predict(x, verbose=0)
    with pytest.raises(ValueError, match=r"do not fit this model \(nothing was changed\).*lstm.*\(3, 28\).*\(3, 24\)"):
        wider.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(wider.predict(x, verbose=0), before)
    shorter = Sequential([Input((5, 3)), LSTM(6), Dense(2)])
    model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="weights for 3 layers, the model has 2"):
        shorter.load_weights(tmp_path / "w.h5")


def test_a_model_keras_cannot_hold_is_saved_in_rnnkit_format_with_the_reason(tmp_path):
    model = Sequential([Input((5, 3)), LSTM(4), Lambda(lambda t: t * 2)])
    with pytest.warns(UserWarning, match=r"rnnkit's format.*Lambda"):
        model.save(tmp_path / "m.keras")
    assert not zipfile.is_zipfile(tmp_path / "m.keras")
    header, _ = checkpoint.read(tmp_path / "m.keras")  # rnnkit's own file, whole
    assert [layer["class_name"] for layer in header["model"]["config"]["layers"]][-1] == "Lambda"


def test_a_keras_file_without_rnnkit_inside_names_load_keras(tmp_path):
    model, _ = _trained(stateful=False)
    rnnkit.save_keras(model, tmp_path / "plain.keras")
    with pytest.raises(CheckpointError, match=r"without rnnkit's checkpoint inside.*rnnkit.load_keras"):
        rnnkit.load(tmp_path / "plain.keras")
    assert isinstance(rnnkit.load_model(tmp_path / "plain.keras"), Sequential)


def test_a_changed_carried_checkpoint_is_refused(tmp_path):
    model, _ = _trained(stateful=False)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        data = f[carried.H5_DATASET][()]
        data[-1] ^= 1  # a byte of the tensors (the middle one may fall in the header, whose length varies)
        f[carried.H5_DATASET][...] = data
    with pytest.raises(CheckpointError, match="inside .*corrupt"):
        rnnkit.load(tmp_path / "m.h5")


@pytest.mark.parametrize("where", ["header_length", "header_json"])
def test_a_damaged_header_of_a_carried_checkpoint_is_called_corrupt(tmp_path, where):
    model, _ = _trained(stateful=False)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        data = f[carried.H5_DATASET][()]
        data[12 if where == "header_json" else 0] ^= 0x20  # a byte of the JSON header, or of its length
        f[carried.H5_DATASET][...] = data
    with pytest.raises(CheckpointError, match="inside .*(corrupt|truncated)") as err:
        rnnkit.load(tmp_path / "m.h5")
    assert "not an rnnkit checkpoint" not in str(err.value)


def test_save_weights_refuses_a_keras_model_name(tmp_path):
    model, _ = _trained(stateful=False)
    with pytest.raises(ValueError, match=r"\.keras file holds a whole model.*\.weights\.h5"):
        model.save_weights(tmp_path / "w.keras")
    assert not os.path.exists(tmp_path / "w.keras")
