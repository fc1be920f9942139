"""Seed 004: carrying the hidden state continues a count. [1,1,1] then [1,0,1] -> ~5 with the carried
state; [1,0,1] from a fresh state -> ~2; then [0,1,0,1,1] -> ~6."""

from __future__ import annotations

import numpy as np
import torch

from .. import optimizers
from ..data import bit_sums
from ..layers import LSTM, Dense, Input, TimeDistributed
from ..models import Sequential
from .report import Result, markdown_table, new_figure, save_figure

NAME = "state-carry"
TITLE = "Carrying the hidden state: a running-sum LSTM continues its count across calls"


def run(out, quick: bool = False, seed: int = 0) -> Result:
    epochs = 40 if quick else 100
    x, y = bit_sums(1000, 20, cumulative=True, seed=seed)
    model = Sequential([Input((None, 1)), TimeDistributed(Dense(32)), LSTM(32, return_sequences=True),
                        TimeDistributed(Dense(1))])
    model.compile(optimizers.Adam(learning_rate=0.003), "mse")
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=1)
    dense_in, lstm, dense_out = model.layers

    def step(bits, state):
        """Seed 004's MyModel.predict(x, hidden_state): outputs and the new [h, c]."""
        xb = torch.tensor(bits, dtype=torch.float32).reshape(1, -1, 1)
        with torch.no_grad():
            seq, new_state = lstm.sequence(dense_in(xb), initial_state=state)
            return dense_out(seq).numpy().ravel(), new_state

    h0 = lstm.get_initial_state(1)
    y1, h3 = step([1, 1, 1], h0)
    y2, _ = step([1, 0, 1], h3)
    y3, _ = step([1, 0, 1], h0)
    y4, h6 = step([0, 1, 0, 1, 1], h3)
    y5, _ = step([0, 1, 1, 1], h6)
    # the same with a stateful model: row 0 of each call continues row 0 of the previous one
    stateful = Sequential([Input((None, 1), batch_size=1), TimeDistributed(Dense(32)),
                           LSTM(32, return_sequences=True, stateful=True), TimeDistributed(Dense(1))])
    stateful.load_state_dict(model.state_dict())
    s1 = stateful.predict(np.array([1, 1, 1], "float32").reshape(1, -1, 1)).ravel()
    s2 = stateful.predict(np.array([1, 0, 1], "float32").reshape(1, -1, 1)).ravel()
    cases = [("[1,1,1] from zero", y1, 3), ("then [1,0,1], state carried", y2, 5),
             ("[1,0,1] from zero", y3, 2), ("[1,1,1] then [0,1,0,1,1]", y4, 6),
             ("... then [0,1,1,1]", y5, 9), ("stateful model: [1,1,1] then [1,0,1]", s2, 5)]
    errors = [abs(float(v[-1]) - want) for _, v, want in cases]
    ok = all(e < 0.5 for e in errors)
    rows = [[label, " ".join(f"{v:.2f}" for v in out_), want, abs(float(out_[-1]) - want)]
            for label, out_, want in cases]
    result = Result(NAME, TITLE, {"cases": {label: [float(v) for v in o] for label, o, _ in cases},
                                  "abs_errors": errors}, ok,
                    f"carried [1,1,1]+[1,0,1] -> {y2[-1]:.2f} (want 5), fresh [1,0,1] -> {y3[-1]:.2f} "
                    f"(want 2), +[0,1,0,1,1] -> {y4[-1]:.2f} (want 6); max error {max(errors):.2f}.", quick)
    result.tables.append(markdown_table(["input", "outputs per step", "expected last", "|error|"], rows))
    result.notes.append("Baseline: the same input from a fresh state ignores the history (row 3: ~2, not 5).")
    result.notes.append("Both spellings agree: `initial_state=` with returned states, and `stateful=True` with "
                        f"consecutive predict calls ({s1[-1]:.2f} then {s2[-1]:.2f}).")
    fig, ax = new_figure()
    ax = ax[0, 0]
    ax.plot(range(1, 4), y1, "o-", label="[1,1,1] from zero")
    ax.plot(range(4, 7), y2, "o-", label="then [1,0,1] with the carried state")
    ax.plot(range(4, 9), y4, "s--", label="or then [0,1,0,1,1] with the carried state")
    ax.plot(range(1, 4), y3, "x:", label="[1,0,1] from a fresh state")
    for target in (3, 5, 6):
        ax.axhline(target, color="grey", lw=0.5)
    ax.set(xlabel="step of the whole stream", ylabel="predicted running sum",
           title="The hidden state carries the count between calls")
    ax.legend(fontsize=8)
    save_figure(fig, out, "carried_count.png", result)
    return result
