"""The unrolled diagram reads as a figure in a report: a title in words, shapes in the boxes, layers
named as written (never "lstm_14"), the warnings it illustrates printed on it, no empty left margin."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnkit import LSTM, Dense, Input, Sequential, explain
from rnnkit.explanation.diagram import display_name

ANSWERS = Path(__file__).resolve().parents[2] / "docs" / "answers"


def texts(fig) -> list[str]:
    out = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    return out


def test_the_title_says_what_is_shown_and_boxes_hold_shapes():
    words = texts(explain("LSTM(4) > Dense(1)", input_shape=(5, 1)).figure())
    assert "Many-to-one: LSTM(4) > Dense(1), unrolled over 5 time steps" in words
    assert not any(w.startswith("spec") for w in words)
    assert words.count("cell\n(4,)") == 5 and "Dense\n(1,)" in words and "y\n(1,)" in words


def test_frames_boxes_show_frames_and_per_step_feature_maps():
    spec = "TimeDistributed(Conv2D(4, (3, 3))) > TimeDistributed(Flatten()) > LSTM(8) > Dense(3)"
    words = texts(explain(spec, input_shape=(5, 16, 16, 1)).figure())
    assert "x t=1\n16x16x1 frame" in words and "Conv2D\n(14, 14, 4)" in words and "Flatten\n(784,)" in words
    assert not any("1 feat" in w for w in words)


def test_layers_are_named_by_type_unless_the_user_named_them():
    auto, named = LSTM(8), LSTM(8, name="encoder")
    assert display_name(auto) == "LSTM(8)" and display_name(named) == "encoder"
    assert display_name(Dense(3)) == "Dense(3)"
    words = " ".join(texts(explain(Sequential([Input((5, 1)), LSTM(4, return_sequences=True), LSTM(4),
                                                 Dense(1)])).figure()))
    assert "lstm" not in words.replace("LSTM", "")


def test_the_short_window_picture_shows_its_warning():
    x = np.load(ANSWERS / "sine_windows_5.npy")
    words = " ".join(texts(explain("LSTM(4) > Dense(1)", x=x).figure()))
    assert "WARNING window-shorter-than-period" in words and "look_back" in words


@pytest.mark.parametrize("spec, shape", [("LSTM(4) > Dense(1)", (3, 1)),
                                         ("LSTM(8, return_sequences=True) > Dense(3)", (6, 3))])
def test_the_left_margin_fits_the_row_labels(spec, shape):
    fig = explain(spec, input_shape=shape).figure()
    ax = fig.axes[0]
    left = ax.get_xlim()[0]
    plt.close(fig)
    assert -2.0 < left < -1.0  # the row labels need about 1.3 box widths, not a quarter of the canvas
