"""Seed 004: a many-to-one sum is accurate only at the trained length; a many-to-many running sum
generalises to every shorter length."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..data import bit_sums
from ..layers import LSTM, Dense, Input, TimeDistributed
from ..models import Sequential
from .report import Result, markdown_table, new_figure, save_figure

NAME = "bitsum"
TITLE = "Bit sums: many-to-one vs many-to-many, trained on length 20, tested on lengths 1..40"


def _model(many_to_many: bool) -> Sequential:
    # seed 004's models, layer for layer
    layers = [Input((None, 1)), TimeDistributed(Dense(32)), LSTM(32, return_sequences=many_to_many)]
    layers.append(TimeDistributed(Dense(1)) if many_to_many else Dense(1))
    model = Sequential(layers)
    model.compile(optimizers.Adam(learning_rate=0.003), "mse")
    return model


def run(out, quick: bool = False, seed: int = 0) -> Result:
    n, epochs = (1000, 40) if quick else (1000, 100)
    lengths = list(range(1, 41))
    curves, models = {}, {}
    for kind, cumulative in (("many-to-one", False), ("many-to-many", True)):
        x, y = bit_sums(n, 20, cumulative=cumulative, seed=seed)
        xv, yv = bit_sums(100, 20, cumulative=cumulative, seed=seed + 1)
        model = _model(cumulative)
        model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(xv, yv), verbose=1)
        models[kind] = model
        mse = []
        for length in lengths:
            xt, yt = bit_sums(100, length, cumulative=cumulative, seed=seed + 100 + length)
            mse.append(float(np.mean((model.predict(xt) - yt) ** 2)))
        curves[kind] = mse
    # baseline: always answer the expected sum (length / 2) -> MSE = length / 4
    baseline_20 = 20 / 4
    m1, mm = curves["many-to-one"], curves["many-to-many"]
    short = slice(0, 19)
    claim_1 = m1[19] < 0.1 * baseline_20 and np.mean(m1[:10]) > 5 * m1[19]
    claim_2 = np.mean(mm[short]) < 0.1 and np.mean(mm[short]) < np.mean(m1[short])
    result = Result(NAME, TITLE, {"mse_many_to_one": m1, "mse_many_to_many": mm, "lengths": lengths,
                                  "baseline_mse_at_20": baseline_20}, bool(m1[19] < baseline_20 and claim_2),
                    f"At length 20: many-to-one MSE {m1[19]:.3g}, many-to-many {mm[19]:.3g} (baseline "
                    f"{baseline_20}); lengths 1-19: many-to-one mean MSE {np.mean(m1[short]):.3g}, "
                    f"many-to-many {np.mean(mm[short]):.3g}.", quick)
    result.notes.append(f"Seed claim 1 (many-to-one is accurate only near length 20): "
                        f"{'reproduced' if claim_1 else 'NOT reproduced'}.")
    result.notes.append(f"Seed claim 2 (many-to-many generalises to shorter lengths): "
                        f"{'reproduced' if claim_2 else 'NOT reproduced'}.")
    result.notes.append("Past length 20 both degrade: no training data there, as the seed observes.")
    rows = [[L, m1[L - 1], mm[L - 1], L / 4] for L in (1, 5, 10, 15, 20, 25, 30, 40)]
    result.tables.append(markdown_table(["length", "MSE many-to-one", "MSE many-to-many", "baseline"], rows))
    fig, ax = new_figure()
    ax = ax[0, 0]
    ax.plot(lengths, m1, "o-", label="many-to-one: LSTM(32) -> Dense(1), sum at the end")
    ax.plot(lengths, mm, "s-", label="many-to-many: LSTM(32, return_sequences) -> running sum")
    ax.plot(lengths, [L / 4 for L in lengths], ":", color="grey", label="baseline: always guess length/2")
    ax.axvline(20, color="k", lw=0.8, ls="--")
    ax.text(20.3, ax.get_ylim()[1] * 0.9 if ax.get_ylim()[1] > 0 else 1, "trained length", fontsize=8)
    ax.set_yscale("log")
    ax.set(xlabel="sequence length", ylabel="MSE (log scale)", title="Trained on length 20 only")
    ax.legend(fontsize=8)
    save_figure(fig, out, "mse_vs_length.png", result)
    return result
