"""keras-io's conv_lstm (next-frame prediction), ported with only the imports changed
(scripts/keras_io/conv_lstm.py): three ConvLSTM2D with BatchNormalization and a Conv3D over the frames, on
stand-in Moving-MNIST-shaped data (two glyphs bouncing in 16 x 16 frames), trains as under Keras and
predicts frames one at a time from sequences of any length. Same data and sizes, training loss over 6
epochs: Keras 3.15.1 (JAX) 0.741 -> 0.328, (torch) 0.654 -> 0.296; rnnkit 0.739 -> 0.327 (the script's
docstring). It needed Conv3D (rnnkit.layers.Conv3D, tests/keras_suite/test_conv3d.py)."""

import warnings

import numpy as np
import pytest
from keras_io_helpers import run_script_once

from rnnkit.layers import BatchNormalization, Conv3D, ConvLSTM2D


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib's show() on a non-interactive backend
        return run_script_once("conv_lstm", tmp_path_factory.mktemp("conv_lstm"))


def test_data_are_shifted_frames_of_the_example_shapes(run):
    n, size = run["N_SEQUENCES"], run["FRAME_SIZE"]
    n_train = int(0.9 * n)
    assert run["x_train"].shape == run["y_train"].shape == (n_train, 19, size, size, 1)
    assert run["x_val"].shape == (n - n_train, 19, size, size, 1)
    np.testing.assert_array_equal(run["y_train"][:, :-1], run["x_train"][:, 1:])  # y is x one frame later
    assert 0 <= run["x_train"].min() and run["x_train"].max() <= 1 and run["x_train"].max() > 0.5


def test_model_is_the_examples_and_predicts_frames_of_any_length(run):
    model, size = run["model"], run["FRAME_SIZE"]
    kinds = [type(layer) for layer in model.layers[1:]]
    assert kinds == [ConvLSTM2D, BatchNormalization, ConvLSTM2D, BatchNormalization, ConvLSTM2D, Conv3D]
    for frames in (3, 12):
        out = model.predict(run["x_val"][:2, :frames], verbose=0)
        assert out.shape == (2, frames, size, size, 1) and 0 <= out.min() and out.max() <= 1  # sigmoid
    assert run["frames"].shape == (20, size, size, 1)  # the loop's ten given then ten predicted frames
    assert len(run["predicted_videos"]) == 10 and len(run["boxes"]) == 5
    assert all(gif.startswith(b"GIF8") for gif in run["predicted_videos"])  # truth and prediction as GIFs


def test_training_loss_falls_as_under_keras(run):
    history = run["history"].history
    losses, val_losses = history["loss"], history["val_loss"]
    assert len(losses) == run["EPOCHS"] and all(np.isfinite(losses))
    # Keras measured 0.741 -> 0.328 (JAX) and 0.654 -> 0.296 (torch), factors 2.26 and 2.21, on the same data
    assert losses[-1] < losses[0] / 1.8, losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert val_losses[-1] < val_losses[0], val_losses  # slowly: BatchNormalization's moving statistics lag
    assert "learning_rate" in history  # ReduceLROnPlateau's log
