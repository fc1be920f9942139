"""Seed 002: an encoder-decoder continues 5-feature sine waves for many steps (150 in full mode)."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..data import sine_waves
from ..models.topologies import Seq2Seq
from .report import BASELINE, SEED_SETUP, Metric, Result, Row, Scoreboard, markdown_table, new_figure, save_figure

NAME = "sine-seq2seq"
TITLE = "Sine waves: encoder-decoder forecast vs last-value and last-period baselines"


def last_period_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat each series' last period, the period estimated from the autocorrelation of its history."""
    B, T, F = history.shape
    out = np.empty((B, horizon, F), dtype=history.dtype)
    for b in range(B):
        for f in range(F):
            s = history[b, :, f] - history[b, :, f].mean()
            ac = np.correlate(s, s, mode="full")[T - 1:]
            dips = np.where(np.diff(np.sign(np.diff(ac))) < 0)[0] + 1  # local maxima after lag 0
            period = int(dips[0]) if len(dips) else T
            last = history[b, T - period:, f]
            out[b, :, f] = np.resize(last, horizon)
    return out


def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
    F = 5
    n, hist, horizon, units, epochs = (768, 100, 50, [32, 32], 20) if quick else (3000, 200, 150, [40] * 4, 60)
    train = sine_waves(n, hist + horizon, F, "train", seed)
    val = sine_waves(128, hist + horizon, F, "val", seed)
    test = sine_waves(256, hist + horizon, F, "test", seed)
    model = Seq2Seq(features=F, horizon=horizon, units=units).to(device)
    model.compile(optimizers.Adam(learning_rate=0.005), "mse")
    model.fit(train[:, :hist], train[:, hist:], batch_size=64, epochs=epochs,
              validation_data=(val[:, :hist], val[:, hist:]), verbose=1)
    x, y = test[:, :hist], test[:, hist:]
    pred = model.predict(x, batch_size=256)
    mae = np.abs(pred - y).mean(axis=(0, 1))
    last_value = np.abs(x[:, -1:] - y).mean(axis=(0, 1))
    last_period = np.abs(last_period_forecast(x, horizon) - y).mean(axis=(0, 1))
    history_mean = np.abs(x.mean(axis=1, keepdims=True) - y).mean(axis=(0, 1))
    metric = Metric(f"{horizon}-step MAE, mean over the 5 features")
    board = Scoreboard([metric], [
        Row(f"encoder-decoder LSTM {units} (seed 002)", SEED_SETUP, [float(mae.mean())]),
        Row("last value repeated", BASELINE, [float(last_value.mean())]),
        Row("last period repeated (period from the autocorrelation)", BASELINE, [float(last_period.mean())]),
        Row("mean of the history", BASELINE, [float(history_mean.mean())])])
    result = Result(NAME, TITLE, {"mae_per_feature": mae.tolist(), "last_value_mae": last_value.tolist(),
                                  "last_period_mae": last_period.tolist(), "history_mean_mae": history_mean.tolist(),
                                  "horizon": horizon}, board, quick)
    rows = [[f"feature {f}", mae[f], last_value[f], last_period[f], history_mean[f]] for f in range(F)]
    result.tables.append(markdown_table(["", "seq2seq MAE", "last value MAE", "last period MAE", "history mean MAE"],
                                        rows))
    result.notes.append("A wave sin(t / w) has period 2*pi*w = 69..190 steps here; a history shorter than "
                        "that holds less than one period, which weakens the last-period baseline.")
    result.notes.append(f"Model: encoder {units} -> decoder {units} (layer k starts from encoder layer k's "
                        "states), Dense(5) per step; decoding feeds each output back, never re-encoding. This is "
                        "the seeds' setup and already a practitioner's, so there is no separate practitioner row.")
    fig, axes = new_figure(ncols=2, nrows=2, width=6, height=3)
    for k, ax in enumerate(axes.ravel()):
        f = k % F
        t_hist = np.arange(hist)
        t_fut = np.arange(hist, hist + horizon)
        ax.plot(t_hist, x[k, :, f], color="k", lw=1, label="history (encoder input)")
        ax.plot(t_fut, y[k, :, f], color="grey", lw=1, ls="--", label="truth")
        ax.plot(t_fut, pred[k, :, f], color="C3", lw=1.5, label="seq2seq forecast")
        ax.axvline(hist, color="grey", lw=0.6, ls=":")
        ax.set_title(f"test wave {k}, feature {f}: {horizon} steps forecast", fontsize=9)
        ax.set(xlabel="time step", ylabel="value (unitless sine)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Encoder-decoder continuations of 4 test waves; the dotted line is where forecasting starts",
                 fontsize=10)
    save_figure(fig, out, "continuations.png", result, bottom=0.06)
    return result
