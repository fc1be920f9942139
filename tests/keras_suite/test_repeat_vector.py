"""Keras 3's keras/src/layers/reshaping/repeat_vector_test.py (v3.15.1), ported to rnnkit with Keras's
expected values and error messages.

RepeatVector turns (batch, features) into (batch, n, features): the same vector at each of n steps.
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import LSTM, Input, RepeatVector

from layer_helpers import run_layer_test


# Keras: test_repeat_vector
def test_repeat_vector():
    inputs = np.random.random((2, 5)).astype("float32")
    expected_output = np.repeat(np.reshape(inputs, (2, 1, 5)), 3, axis=1)
    run_layer_test(RepeatVector, init_kwargs={"n": 3}, input_shape=(2, 5), expected_output_shape=(2, 3, 5))
    np.testing.assert_allclose(RepeatVector(n=3)(inputs).numpy(), expected_output, atol=1e-6, rtol=1e-6)


# Keras: test_repeat_vector_with_dynamic_batch_size
def test_repeat_vector_with_dynamic_batch_size():
    input_layer = Input(batch_shape=(None, 5))
    repeated = RepeatVector(n=3)(input_layer)
    assert repeated.shape == (None, 3, 5)


# Keras: test_repeat_vector_with_dynamic_dimension
def test_repeat_vector_with_dynamic_dimension():
    input_layer = Input(batch_shape=(2, None))
    repeated = RepeatVector(n=3)(input_layer)
    assert repeated.shape == (2, 3, None)


# Keras: test_repeat_vector_with_invalid_n
@pytest.mark.parametrize("n", ["3", 3.5, [3]], ids=["str", "float", "list"])
def test_repeat_vector_with_invalid_n(n):
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        RepeatVector(n=n)


# Keras: test_repeat_vector_with_non_positive_n
@pytest.mark.parametrize("n", [0, -3])
def test_repeat_vector_with_non_positive_n(n):
    with pytest.raises(ValueError, match="should be a positive integer"):
        RepeatVector(n=n)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_the_messages_say_what_was_received_and_how_to_fix_it():
    with pytest.raises(TypeError, match=r"e\.g\. RepeatVector\(3\).*received 3\.5 \(float\)"):
        RepeatVector(3.5)
    with pytest.raises(ValueError, match=r"e\.g\. RepeatVector\(3\).*received -3"):
        RepeatVector(-3)


def test_numpy_integers_are_accepted():
    assert RepeatVector(np.int64(4)).n == 4


def test_a_sequence_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="expected \\(batch, features\\).*return_sequences=False"):
        RepeatVector(2)(torch.zeros(2, 3, 4))


def test_repeat_vector_feeds_a_decoder_as_in_an_autoencoder():
    """The one-to-many pattern: an encoder's last output repeated for each step of the decoder."""
    x = np.random.default_rng(0).normal(size=(4, 6, 2)).astype("float32")
    code = LSTM(3)(x)
    repeated = RepeatVector(6)(code)
    assert tuple(repeated.shape) == (4, 6, 3)
    assert torch.equal(repeated[:, 0], code) and torch.equal(repeated[:, 5], code)
