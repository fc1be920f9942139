"""Seed 002, Type 1 vs Type 2: a model must see several frames to tell which way a square moves.
TimeDistributed(Conv2D) + LSTM reads all 5 frames; a per-frame model sees one."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..layers import (LSTM, Conv2D, Dense, Flatten, Input, MaxPooling2D, TimeDistributed)
from ..models import Sequential
from .report import BASELINE, SEED_SETUP, Metric, Result, Row, Scoreboard, new_figure, save_figure

NAME = "frames"
TITLE = "Moving squares: TimeDistributed(Conv2D) + LSTM over 5 frames vs a one-frame model"
_DIRS = [(0, 1), (0, -1), (1, 0), (-1, 0)]  # right, left, down, up


def moving_squares(n: int, size: int = 14, frames: int = 5, seed: int = 0):
    """(n, frames, size, size, 1) images of a 3x3 square moving one pixel per frame; label = direction."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    x = np.zeros((n, frames, size, size, 1), np.float32)
    for i, lab in enumerate(labels):
        dr, dc = _DIRS[lab]
        # start far enough from every edge for 4 moves of one pixel in any direction
        r, c = rng.integers(frames - 1, size - 3 - (frames - 1) + 1, 2)
        for t in range(frames):
            x[i, t, r + dr * t:r + dr * t + 3, c + dc * t:c + dc * t + 3, 0] = 1.0
    return x, labels.astype(np.int64)


def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
    n, epochs = (1200, 8) if quick else (6000, 20)
    x, y = moving_squares(n, seed=seed)
    xt, yt = moving_squares(400, seed=seed + 1)
    sequence_model = Sequential([Input((5, 14, 14, 1)), TimeDistributed(Conv2D(8, (3, 3), activation="relu")),
                                 TimeDistributed(MaxPooling2D((2, 2))), TimeDistributed(Flatten()), LSTM(16),
                                 Dense(4, activation="softmax")])
    frame_model = Sequential([Input((14, 14, 1)), Conv2D(8, (3, 3), activation="relu"), MaxPooling2D((2, 2)),
                              Flatten(), Dense(16, activation="relu"), Dense(4, activation="softmax")])
    acc = {}
    for name, model, data, test in (("TimeDistributed(Conv2D) + LSTM, 5 frames", sequence_model, x, xt),
                                    ("Conv2D on one frame", frame_model, x[:, 0], xt[:, 0])):
        model.to(device)
        model.compile(optimizers.Adam(learning_rate=0.005), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(data, y, batch_size=32, epochs=epochs, verbose=1)
        acc[name] = float(model.evaluate(test, yt)[1])
    seq_name, frame_name = acc
    board = Scoreboard([Metric("test accuracy (400 clips)", lower_is_better=False)], [
        Row(f"{seq_name} (seed 002)", SEED_SETUP, [acc[seq_name]]),
        Row(f"{frame_name} (the same features, no recurrence)", BASELINE, [acc[frame_name]]),
        Row("chance (4 directions)", BASELINE, [0.25])])
    result = Result(NAME, TITLE, {"test_accuracy": acc, "chance": 0.25}, board, quick)
    result.notes.append("The direction is invisible in any single frame, so the one-frame model stays near "
                        "chance: per-frame features (TimeDistributed) plus recurrence over them learn motion. "
                        "The seeds' setup is already the practitioner's, so there is no separate practitioner row.")
    fig, axes = new_figure(ncols=5, nrows=2, width=1.6, height=1.8)
    for row in range(2):
        for t in range(5):
            ax = axes[row, t]
            ax.imshow(xt[row, t, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([0, 13]), ax.set_yticks([0, 13])
            ax.tick_params(labelsize=6)
            ax.set_title(f"frame {t + 1}" + (f"\n{['right', 'left', 'down', 'up'][yt[row]]}" if t == 0 else ""),
                         fontsize=8)
    fig.supxlabel("pixel column (14x14 frames)", fontsize=8)
    fig.supylabel("pixel row", fontsize=8)
    fig.suptitle("Two test clips: a 3x3 square moves one pixel per frame; the label is its direction", fontsize=9)
    save_figure(fig, out, "frames.png", result)
    return result
