"""load_keras: Keras 3 .keras and legacy .h5 files (written by scripts/make_keras_models.py) give
Keras's own outputs to 1e-5 in rnnkit, without Keras installed."""

from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit import load_keras

FIXTURES = Path(__file__).parent / "fixtures" / "keras_models"
CASES = ["airline", "stacked", "bidirectional", "embedding", "frames", "repeat"]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("case", CASES)
def test_keras_model_gives_keras_outputs(case, suffix):
    data = np.load(FIXTURES / f"{case}.npz")
    model = load_keras(FIXTURES / f"{case}{suffix}")
    np.testing.assert_allclose(model.predict(data["x"]), data["y"], atol=1e-5)


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
    with pytest.raises(ValueError, match="'Conv1D' is not supported.*Supported layers: Activation, Bidirectional"):
        load_keras(FIXTURES / "unsupported.keras")


def test_files_that_are_not_keras_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="No Keras model"):
        load_keras(tmp_path / "missing.keras")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a .keras"):
        load_keras(tmp_path / "notes.txt")
