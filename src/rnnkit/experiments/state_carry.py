"""Seed 004: carrying the hidden state continues a count. [1,1,1] then [1,0,1] -> ~5 with the carried
state; [1,0,1] from a fresh state -> ~2; then [0,1,0,1,1] -> ~6."""

from __future__ import annotations

import numpy as np
import torch

from .. import optimizers
from ..data import bit_sums
from ..layers import LSTM, Dense, Input, TimeDistributed
from ..models import Sequential
from .report import BASELINE, SEED_SETUP, Metric, Result, Row, Scoreboard, markdown_table, new_figure, save_figure

NAME = "state-carry"
TITLE = "Carrying the hidden state: a running-sum LSTM continues its count across calls"


def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
    epochs = 40 if quick else 100
    x, y = bit_sums(1000, 20, cumulative=True, seed=seed)
    model = Sequential([Input((None, 1)), TimeDistributed(Dense(32)), LSTM(32, return_sequences=True),
                        TimeDistributed(Dense(1))]).to(device)
    model.compile(optimizers.Adam(learning_rate=0.003), "mse")
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=1)
    dense_in, lstm, dense_out = model.layers

    def step(bits, state):
        """Seed 004's MyModel.predict(x, hidden_state): outputs and the new [h, c]."""
        xb = torch.tensor(bits, dtype=torch.float32, device=device).reshape(1, -1, 1)
        with torch.no_grad():
            seq, new_state = lstm.sequence(dense_in(xb), initial_state=state)
            return dense_out(seq).cpu().numpy().ravel(), new_state

    h0 = lstm.get_initial_state(1, device=device)
    y1, h3 = step([1, 1, 1], h0)
    y2, _ = step([1, 0, 1], h3)
    y3, _ = step([1, 0, 1], h0)
    y4, h6 = step([0, 1, 0, 1, 1], h3)
    y5, _ = step([0, 1, 1, 1], h6)
    # the same with a stateful model: row 0 of each call continues row 0 of the previous one
    stateful = Sequential([Input((None, 1), batch_size=1), TimeDistributed(Dense(32)),
                           LSTM(32, return_sequences=True, stateful=True), TimeDistributed(Dense(1))]).to(device)
    stateful.load_state_dict(model.state_dict())
    s1 = stateful.predict(np.array([1, 1, 1], "float32").reshape(1, -1, 1)).ravel()
    s2 = stateful.predict(np.array([1, 0, 1], "float32").reshape(1, -1, 1)).ravel()
    cases = [("[1,1,1] from zero", y1, 3), ("then [1,0,1], state carried", y2, 5),
             ("[1,0,1] from zero", y3, 2), ("[1,1,1] then [0,1,0,1,1]", y4, 6),
             ("... then [0,1,1,1]", y5, 9), ("stateful model: [1,1,1] then [1,0,1]", s2, 5)]
    errors = [abs(float(v[-1]) - want) for _, v, want in cases]
    # the calls that need the history: (bits of this call, count before it, steps before it, last output)
    carried = [([1, 0, 1], 3, 3, y2[-1]), ([0, 1, 0, 1, 1], 3, 3, y4[-1]), ([0, 1, 1, 1], 6, 8, y5[-1])]
    truth = [sum(bits) + count for bits, count, _, _ in carried]
    fresh = [step(bits, h0)[0][-1] for bits, *_ in carried]  # the same call, the history forgotten
    steps_seen = [len(bits) + steps for bits, _, steps, _ in carried]
    mae = lambda pred: float(np.mean([abs(p - t) for p, t in zip(pred, truth)]))
    board = Scoreboard(
        [Metric("mean absolute error of the count after a carried call (bits)")],
        [Row("initial_state= with the returned [h, c] (seed 004)", SEED_SETUP, [mae([v for *_, v in carried])]),
         Row("stateful=True, consecutive predict calls (seed 004)", SEED_SETUP,
             [float(np.mean([abs(float(s2[-1]) - 5)]))]),
         Row("a fresh state at every call (the history forgotten)", BASELINE, [mae(fresh)]),
         Row("half the bits seen so far (the expected count)", BASELINE, [mae([n / 2 for n in steps_seen])])])
    rows = [[label, " ".join(f"{v:.2f}" for v in out_), want, abs(float(out_[-1]) - want)]
            for label, out_, want in cases]
    result = Result(NAME, TITLE, {"cases": {label: [float(v) for v in o] for label, o, _ in cases},
                                  "abs_errors": errors, "fresh_state_counts": [float(v) for v in fresh]},
                    board, quick)
    result.tables.append(markdown_table(["input", "outputs per step", "expected last", "absolute error"], rows))
    result.notes.append("The carried calls are [1,0,1] after [1,1,1] (want 5), [0,1,0,1,1] after [1,1,1] "
                        "(want 6) and [0,1,1,1] after both (want 9); the stateful model's row is its one "
                        "carried call, [1,0,1] after [1,1,1].")
    result.notes.append("Both spellings agree: `initial_state=` with returned states, and `stateful=True` with "
                        f"consecutive predict calls ({s1[-1]:.2f} then {s2[-1]:.2f}).")
    result.notes.append("The seeds' setup is already the practitioner's (the claim is about state, not about "
                        "a better model), so there is no separate practitioner row.")
    fig, ax = new_figure(width=10, height=4)
    ax = ax[0, 0]
    ax.plot(range(1, 4), y1, "o-", label="[1,1,1] from zero")
    ax.plot(range(4, 7), y2, "o-", label="then [1,0,1] with the carried state")
    ax.plot(range(4, 9), y4, "s--", label="or then [0,1,0,1,1] with the carried state")
    ax.plot(range(1, 4), y3, "x:", label="[1,0,1] from a fresh state")
    for target in (3, 5, 6):
        ax.axhline(target, color="grey", lw=0.5)
    ax.set(xlabel="step of the whole stream (bits read so far)", ylabel="predicted running sum (bits)",
           title="The hidden state carries the count between calls")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    save_figure(fig, out, "carried_count.png", result)
    return result
