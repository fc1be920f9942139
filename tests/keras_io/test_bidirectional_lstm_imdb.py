"""keras-io's bidirectional_lstm_imdb run with only the imports changed (scripts/keras_io/), on stand-in
IMDB data with a learnable signal: the loss falls and the accuracy rises as under Keras (Keras 3,
same data and sizes: loss 0.680 -> 0.229 over the 2 epochs, rnnkit 0.666 -> 0.136; see the script's docstring)."""

import warnings

import numpy as np

from keras_io_helpers import run_script


def test_bidirectional_lstm_imdb_learns(tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib's non-interactive show()
        g = run_script("bidirectional_lstm_imdb", tmp_path, monkeypatch)
    model, maxlen = g["model"], g["maxlen"]
    # pad_sequences made the example's (samples, maxlen) int arrays from ragged lists, padding and truncating
    assert g["x_train"].shape == (g["N_TRAIN"], maxlen) and g["x_val"].shape == (g["N_VAL"], maxlen)
    assert (g["x_train"][:, 0] == 0).any() and (g["x_train"][:, 0] != 0).any()
    history = model.history.history  # fit's History, reached as Keras's model.history
    assert len(history["loss"]) == 2
    assert history["loss"][-1] < history["loss"][0] / 2.5, history["loss"]  # measured 0.67 -> 0.14-0.19 (Keras: 0.68 -> 0.23)
    assert history["accuracy"][-1] > 0.9 and history["val_accuracy"][-1] > 0.85, history  # chance: 0.5
    out = model.predict(g["x_val"][:5], verbose=0)
    assert out.shape == (5, 1) and ((out >= 0) & (out <= 1)).all()
    # variable-length input, as `Input(shape=(None,))` allows: a shorter sequence runs too
    assert model.predict(g["x_val"][:3, -7:], verbose=0).shape == (3, 1)
    assert np.isfinite(history["val_loss"]).all()
