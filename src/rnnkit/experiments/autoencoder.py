"""Seed 000: an LSTM autoencoder (many-to-one encoder, RepeatVector, many-to-many decoder) on sine windows."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..callbacks import LearningRateScheduler
from ..data import sine_waves
from ..models.topologies import Autoencoder
from .report import BASELINE, PRACTITIONER, SEED_SETUP, Metric, Result, Row, Scoreboard, new_figure, save_figure

NAME = "autoencoder"
TITLE = "LSTM autoencoder: reconstruct sine windows through an 8-number latent vector"


def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
    steps, n, epochs = (32, 1024, 30) if quick else (64, 4096, 80)
    train = sine_waves(n, steps, 1, "train", seed)
    test = sine_waves(256, steps, 1, "test", seed)
    ae = Autoencoder(features=1, time_steps=steps, latent=8, units=[32]).to(device)
    ae.compile(optimizers.Adam(learning_rate=0.005), "mse")
    ae.fit(train, train, batch_size=64, epochs=epochs, validation_data=(test, test), verbose=1)
    recon = ae.predict(test)
    mse = float(np.mean((recon - test) ** 2))
    # the practitioner's run: the same model and epochs, the learning rate decayed 20x over training (at a
    # constant 0.005 the last epochs jump between 1e-4 and 1e-3), and no look at the test windows while training
    decayed = Autoencoder(features=1, time_steps=steps, latent=8, units=[32]).to(device)
    decayed.compile(optimizers.Adam(learning_rate=0.005), "mse")
    decay = LearningRateScheduler(lambda epoch: float(0.005 * 0.05 ** (epoch / max(1, epochs - 1))))
    decayed.fit(train, train, batch_size=64, epochs=epochs, callbacks=[decay], verbose=1)
    recon_decayed = decayed.predict(test)
    mse_decayed = float(np.mean((recon_decayed - test) ** 2))
    baseline = float(np.mean((test - test.mean(axis=1, keepdims=True)) ** 2))  # each window's own mean
    # a naive code of the same size: keep 8 evenly spaced values of the window, join them with straight lines
    kept = np.linspace(0, steps - 1, 8)
    interpolated = np.stack([np.interp(np.arange(steps), kept, np.interp(kept, np.arange(steps), w[:, 0]))
                             for w in test])[..., None]
    interp = float(np.mean((interpolated - test) ** 2))
    # a linear code of the same size (PCA on the training windows): a reference, not a naive baseline
    flat = train[..., 0].astype(np.float64)
    center = flat.mean(axis=0)
    basis = np.linalg.svd(flat - center, full_matrices=False)[2][:8]
    pca = float(np.mean(((test[..., 0] - center) @ basis.T @ basis + center - test[..., 0]) ** 2))
    board = Scoreboard([Metric("test reconstruction MSE")], [
        Row("LSTM autoencoder, latent 8 (seed 000)", SEED_SETUP, [mse]),
        Row("the same, learning rate decayed 0.005 -> 0.00025", PRACTITIONER, [mse_decayed]),
        Row("each window's own mean (a 1-number code)", BASELINE, [baseline]),
        Row("8 evenly spaced values, linearly interpolated (an 8-number code)", BASELINE, [interp])])
    result = Result(NAME, TITLE, {"reconstruction_mse": mse, "decayed_reconstruction_mse": mse_decayed,
                                  "mean_baseline_mse": baseline,
                                  "interpolation_baseline_mse": interp, "pca_8_mse": pca}, board, quick)
    result.notes.append(f"Encoder LSTM(32, return_sequences) -> LSTM(8); decoder RepeatVector({steps}) -> "
                        "LSTM(32, return_sequences) -> TimeDistributed(Dense(1)); trained with fit(X, X).")
    result.notes.append("The fair naive baseline gives the same budget, 8 numbers per window: keep 8 evenly "
                        "spaced values and interpolate. Slow sine windows are smooth, so it is strong: in quick "
                        "mode (32 steps, 30 epochs) neither autoencoder reaches it.")
    result.notes.append("What made the difference for the practitioner's run: the learning rate. At the seeds' "
                        "constant 0.005 the loss still jumps by 10x from epoch to epoch at the end, so the final "
                        "weights depend on where the last epoch happened to land; the practitioner decays the rate "
                        "20x over the same epochs (the table shows what that buys). The seeds' fit also passes the test windows as "
                        "validation_data (only reported, never used to choose); the practitioner's fit does not.")
    result.notes.append(f"For a reviewer: a linear 8-number code (PCA fitted on the training windows) reconstructs "
                        f"these windows to MSE {pca:.2g}. Windows of slow sines lie in a subspace of about 8 "
                        "dimensions, so this experiment shows the autoencoder's mechanics (RepeatVector, fit(X, X), "
                        "an 8-number latent), not a compression gain over linear methods. PCA is a fitted linear "
                        "model, not a naive baseline, so it is not in the verdict.")
    fig, axes = new_figure(ncols=2, nrows=2, width=5, height=2.8)
    for k, ax in enumerate(axes.ravel()):
        ax.plot(test[k, :, 0], color="k", label="original")
        ax.plot(recon[k, :, 0], color="C3", ls="--", label="seeds' setup")
        ax.plot(recon_decayed[k, :, 0], color="C2", ls=":", lw=2, label="practitioner's (decayed rate)")
        ax.set_title(f"test window {k}", fontsize=9)
        ax.set(xlabel="time step", ylabel="value (unitless sine)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("4 test windows and their reconstructions through an 8-number latent vector", fontsize=10)
    save_figure(fig, out, "reconstructions.png", result, bottom=0.06)
    return result
