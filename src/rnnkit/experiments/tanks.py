"""Seed 000: stateful many-to-many on many tanks at once (batch rows = tanks): train on the known
steps chunk by chunk, then prime on them and generate the future."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..data import Scaler, stateful_batches, tank_readings
from ..inference import generate
from ..models.topologies import ManyToMany
from .report import Result, markdown_table, new_figure, save_figure

NAME = "tanks"
TITLE = "Tanks: stateful many-to-many over pressure and temperature, prime then generate"


def run(out, quick: bool = False, seed: int = 0) -> Result:
    n_tanks, days_known, future, epochs = (8, 8, 24, 40) if quick else (32, 20, 48, 120)
    readings = tank_readings(n_tanks, 24 * days_known + future, seed=seed)
    known, truth = readings[:, :24 * days_known], readings[:, 24 * days_known:]
    scaler = Scaler("standard").fit(known.reshape(-1, 2))
    k_scaled = scaler.transform(known)
    model = ManyToMany(features=2, units=[32], outputs=2, stateful=True, batch_size=n_tanks)
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for x, y, reset in stateful_batches(k_scaled, batch_size=n_tanks, chunk_length=24):
            if reset:
                model.reset_states()  # a new wave of tanks starts
            total += model.train_on_batch(x, y)
        losses.append(total)
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch + 1}/{epochs}  loss {total:.4f}")
    model.reset_states()
    gen = scaler.inverse_transform(generate(model, k_scaled, horizon=future))
    mae = np.abs(gen - truth).mean(axis=(0, 1))
    persistence = np.abs(known[:, -1:] - truth).mean(axis=(0, 1))
    seasonal = np.abs(known[:, -24:][:, :future] - truth).mean(axis=(0, 1)) if future <= 24 else \
        np.abs(np.concatenate([known[:, -24:]] * (future // 24 + 1), 1)[:, :future] - truth).mean(axis=(0, 1))
    beat = bool(mae.mean() < persistence.mean() * 0.9 and (mae / persistence).mean() < 1)
    result = Result(NAME, TITLE, {"mae": mae.tolist(), "persistence_mae": persistence.tolist(),
                                  "seasonal_naive_mae": seasonal.tolist(), "train_loss": losses},
                    beat, f"{future}-step generated MAE pressure {mae[0]:.3f} bar, temperature {mae[1]:.2f} C; "
                          f"persistence {persistence[0]:.3f} / {persistence[1]:.2f}; yesterday-again "
                          f"{seasonal[0]:.3f} / {seasonal[1]:.2f}.", quick)
    result.tables.append(markdown_table(
        ["", "pressure MAE (bar)", "temperature MAE (C)"],
        [["stateful LSTM, generated", mae[0], mae[1]], ["persistence (last value)", persistence[0], persistence[1]],
         ["yesterday again (24 h ago)", seasonal[0], seasonal[1]]]))
    result.notes.append(f"{n_tanks} tanks side by side: row i of every chunk continues tank i; states reset "
                        "once per epoch. Generation primes on all known steps, then feeds each output back.")
    result.notes.append("The baseline the verdict uses is persistence; yesterday-again is shown as the "
                        "stronger seasonal reference.")
    fig, axes = new_figure(ncols=2, nrows=2, width=6, height=3)
    t_known = np.arange(known.shape[1])
    t_fut = np.arange(known.shape[1], known.shape[1] + future)
    for k, ax in enumerate(axes.ravel()):
        tank, f = k // 2, k % 2
        label = ("pressure (bar)", "temperature (C)")[f]
        ax.plot(t_known[-72:], known[tank, -72:, f], color="k", lw=1, label="known")
        ax.plot(t_fut, truth[tank, :, f], color="grey", ls="--", label="truth")
        ax.plot(t_fut, gen[tank, :, f], color="C3", label="generated")
        ax.set_title(f"tank {tank}: {label}", fontsize=9)
        ax.set_xlabel("hour")
        if k == 0:
            ax.legend(fontsize=7)
    save_figure(fig, out, "tanks.png", result)
    return result
