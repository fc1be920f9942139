"""Seed 000: an LSTM autoencoder (many-to-one encoder, RepeatVector, many-to-many decoder) on sine windows."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..data import sine_waves
from ..models.topologies import Autoencoder
from .report import Result, markdown_table, new_figure, save_figure

NAME = "autoencoder"
TITLE = "LSTM autoencoder: reconstruct sine windows through an 8-number latent vector"


def run(out, quick: bool = False, seed: int = 0) -> Result:
    steps, n, epochs = (32, 1024, 30) if quick else (64, 4096, 80)
    train = sine_waves(n, steps, 1, "train", seed)
    test = sine_waves(256, steps, 1, "test", seed)
    ae = Autoencoder(features=1, time_steps=steps, latent=8, units=[32])
    ae.compile(optimizers.Adam(learning_rate=0.005), "mse")
    ae.fit(train, train, batch_size=64, epochs=epochs, validation_data=(test, test), verbose=1)
    recon = ae.predict(test)
    mse = float(np.mean((recon - test) ** 2))
    baseline = float(np.mean((test - test.mean(axis=1, keepdims=True)) ** 2))  # each window's own mean
    result = Result(NAME, TITLE, {"reconstruction_mse": mse, "mean_baseline_mse": baseline}, mse < baseline,
                    f"test reconstruction MSE {mse:.4f} vs {baseline:.4f} for the per-window mean "
                    f"({baseline / max(mse, 1e-12):.0f}x lower).", quick)
    result.tables.append(markdown_table(["", "test MSE"], [["autoencoder (latent 8)", mse],
                                                          ["each window's mean", baseline]]))
    result.notes.append(f"Encoder LSTM(32, return_sequences) -> LSTM(8); decoder RepeatVector({steps}) -> "
                        "LSTM(32, return_sequences) -> TimeDistributed(Dense(1)); trained with fit(X, X).")
    fig, axes = new_figure(ncols=2, nrows=2, width=5, height=2.8)
    for k, ax in enumerate(axes.ravel()):
        ax.plot(test[k, :, 0], color="k", label="original")
        ax.plot(recon[k, :, 0], color="C3", ls="--", label="reconstruction")
        ax.set_title(f"test window {k}", fontsize=9)
        if k == 0:
            ax.legend(fontsize=7)
    save_figure(fig, out, "reconstructions.png", result)
    return result
