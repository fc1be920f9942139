"""keras-io's lstm_seq2seq (Keras 3 version), ported with only the import changed (scripts/keras_io/lstm_seq2seq.py):
the training model trains as under Keras (same stand-in data and sizes: Keras 3.15 (JAX) 3.314 -> 1.290 over 50
epochs, rnnkit 3.381 -> 1.194), and the inference models the example builds from `model.input` and
`model.layers[i].output` after save and load compute what the training model computes."""


import warnings
import zipfile

import numpy as np
import pytest
import torch
from keras_io_helpers import run_script_once



@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lstm_seq2seq")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        namespace = run_script_once("lstm_seq2seq", folder)
    # model.save("s2s_model.keras") writes Keras's own format now: nothing to warn about
    assert not [w for w in caught if "rnnkit's format" in str(w.message) or "suffix" in str(w.message)]
    namespace["folder"] = folder
    return namespace


def test_data_and_training_outputs_have_the_shapes_the_example_states(run):
    n, latent = run["num_samples"], run["latent_dim"]
    enc_len, dec_len = run["max_encoder_seq_length"], run["max_decoder_seq_length"]
    enc_tokens, dec_tokens = run["num_encoder_tokens"], run["num_decoder_tokens"]
    assert run["encoder_input_data"].shape == (n, enc_len, enc_tokens)
    assert run["decoder_input_data"].shape == run["decoder_target_data"].shape == (n, dec_len, dec_tokens)
    x = [run["encoder_input_data"][:6], run["decoder_input_data"][:6]]
    pred = run["training_model"].predict(x, verbose=0)
    assert pred.shape == (6, dec_len, dec_tokens)
    np.testing.assert_allclose(pred.sum(-1), 1.0, atol=1e-5)
    with zipfile.ZipFile(run["folder"] / "s2s_model.keras") as z:  # Keras's file, where the example writes it
        assert {"config.json", "model.weights.h5", "rnnkit/checkpoint.rnnkit"} <= set(z.namelist())
    h, c = run["encoder_model"].predict(x[0], verbose=0)
    assert h.shape == c.shape == (6, latent)


def test_training_loss_falls_as_under_keras(run):
    losses = run["history"].history["loss"]
    assert len(losses) == run["epochs"] and all(np.isfinite(losses))
    # Keras measured 3.314 -> 1.290 (factor 2.57) on the same data and sizes
    assert losses[-1] < losses[0] / 2.0, losses
    assert run["history"].history["val_loss"][-1] < run["history"].history["val_loss"][0] / 1.8


def test_decode_loop_gives_sentences_of_the_lengths_the_loop_allows(run):
    limit = run["max_decoder_seq_length"]
    sentences = run["decoded_sentences"]
    assert len(sentences) == run["NUM_DECODED"]
    target_chars = set(run["target_characters"])
    for s in sentences:
        # the loop stops at the end character "\n" or once the sentence is longer than the limit
        assert (s.endswith("\n") and 1 <= len(s) <= limit + 1) or len(s) == limit + 1, repr(s)
        assert set(s) <= target_chars
    assert run["decode_sequence"](run["encoder_input_data"][7:8]) is not None


def test_inference_encoder_states_equal_the_training_models_encoder_states(run):
    """The encoder model built from the reloaded model's `model.input[0]` and `model.layers[2].output` gives the
    states the trained model's encoder LSTM gives on the same input."""
    x = run["encoder_input_data"][:16]
    h, c = run["encoder_model"].predict(x, verbose=0)
    training_encoder = run["training_model"].layers[2]
    assert training_encoder is run["encoder"]  # Keras's order: 2 inputs, then the encoder LSTM
    with torch.no_grad():
        _, want_h, want_c = training_encoder(x)
    np.testing.assert_allclose(h, want_h.numpy(), atol=1e-5)
    np.testing.assert_allclose(c, want_c.numpy(), atol=1e-5)
    assert np.abs(h).max() > 1e-3  # not trivially zero


def test_stepping_the_inference_decoder_equals_the_training_model(run):
    """Teacher-forced one step at a time, the inference decoder (reloaded layers, states as inputs) reproduces the
    training model's whole output sequence."""
    xe, xd = run["encoder_input_data"][:8], run["decoder_input_data"][:8]
    want = run["training_model"].predict([xe, xd], verbose=0)
    states = run["encoder_model"].predict(xe, verbose=0)
    steps = []
    for t in range(xd.shape[1]):
        out, h, c = run["decoder_model"].predict([xd[:, t:t + 1]] + states, verbose=0)
        steps.append(out[:, 0])
        states = [h, c]
    np.testing.assert_allclose(np.stack(steps, axis=1), want, atol=1e-5)
