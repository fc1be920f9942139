"""Keras 3's keras/src/layers/reshaping/permute_test.py, ported to rnnkit.

Not applicable: test_permute's sparse case (rnnkit has no sparse tensors).
"""

import numpy as np
import pytest

import rnnkit
from rnnkit import Model, Sequential
from rnnkit.layers import LSTM, Input, Permute

from layer_helpers import run_layer_test


# Keras: test_permute (dense)
def test_permute():
    inputs = np.random.random((10, 3, 5, 5)).astype("float32")
    inputs = np.multiply(inputs, inputs >= 0.8)
    expected_output = np.transpose(inputs, axes=(0, 3, 1, 2))
    np.testing.assert_allclose(Permute((3, 1, 2))(inputs).numpy(), expected_output, atol=1e-6, rtol=1e-6)
    run_layer_test(Permute, init_kwargs={"dims": (3, 1, 2)}, input_shape=(10, 3, 5, 5),
                   expected_output_shape=(10, 5, 3, 5))


# Keras: test_permute_with_dynamic_batch_size
def test_permute_with_dynamic_batch_size():
    input_layer = Input(batch_shape=(None, 3, 5))
    permuted = Permute((2, 1))(input_layer)
    assert tuple(permuted.shape) == (None, 5, 3)


# Keras: test_permute_errors_on_invalid_starting_dims_index
def test_permute_errors_on_invalid_starting_dims_index():
    with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
        Permute((0, 1, 2))


# Keras: test_permute_errors_on_invalid_set_of_dims_indices
def test_permute_errors_on_invalid_set_of_dims_indices():
    with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
        Permute((1, 4, 2))


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_rank_must_match():
    with pytest.raises(ValueError, match="expects inputs of rank 3"):
        Permute((2, 1))(np.zeros((2, 3, 4, 5)))


def test_reads_features_as_time_and_saves(tmp_path):
    """Permute((2, 1)) then an LSTM reads the features as the steps; saved and loaded, same output."""
    model = Sequential([Input((4, 6)), Permute((2, 1)), LSTM(3)])
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), model.layers[1](np.swapaxes(x, 1, 2)).numpy(),
                               atol=1e-6)
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)
    inputs = Input((4, 6))
    assert Model(inputs, Permute((2, 1))(inputs)).predict(x, verbose=0).shape == (2, 6, 4)
