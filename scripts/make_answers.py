"""Regenerate docs/answers.md and its pictures: each question of the seeds, a short answer, and the
`rnnkit explain` command whose output and diagram show it. Run: python scripts/make_answers.py
(tests/explain/test_answers.py checks that every command in the page still runs)."""

from __future__ import annotations

import shlex
from pathlib import Path

from rnnkit import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"

QA = [
    ("What are time steps and features? (`trainX` of shape `(N, 3, 1)`)",
     "`(N, 3, 1)` is N samples, each 3 time steps long, with 1 feature per step. The table names every "
     "axis; the picture has 3 input boxes, each holding a vector of 1 value.",
     'rnnkit explain "LSTM(4) > Dense(1)" --input-shape 3,1', "time_steps_features.png"),
    ("Does `time_steps=3` mean three input boxes side by side, or a chain of three?",
     "A chain: the same cell runs three times, left to right, passing its state on. The three green boxes "
     "are one cell with one set of weights, unrolled over time.",
     'rnnkit explain "LSTM(4) > Dense(1)" --input-shape 3,1', "time_steps_features.png"),
    ("Does `features` matter when I have several series (two stocks)?",
     "Yes: two stocks observed at the same times are 2 features, shape `(N, time_steps, 2)`; each input box "
     "then holds both prices. Separate, unrelated series would instead be separate samples (rows).",
     'rnnkit explain "LSTM(8) > Dense(2)" --input-shape 10,2', "two_stocks.png"),
    ("What does `stateful=True` mean, and what is the point with batch size 1 and a reset after every epoch?",
     "Row i of each batch continues row i of the previous batch: the final state is kept as the next batch's "
     "initial state (dashed arrow). With batch 1 and windows fed in order, the state carries the whole "
     "series' history beyond look_back; the reset each epoch starts the series again. So fit with "
     "`shuffle=False`.",
     'rnnkit explain "LSTM(4, stateful=True) > Dense(1)" --input-shape 3,1 --batch-size 1', "stateful.png"),
    ("Why is the number of input boxes equal to the number of recurrent boxes?",
     "Because the recurrent row is one cell applied once per input step; there is one green box per pink box "
     "in every recurrent layer, whatever the number of units.",
     'rnnkit explain "LSTM(4, return_sequences=True) > LSTM(4)" --input-shape 5,1', "stacked.png"),
    ("Do `(batch, 5, 1)` and `(batch, 4, 3)` match the drawn pictures?",
     "Yes: 5 boxes of 1 value, or 4 boxes of 3 values. Run both commands and compare the pink rows.",
     'rnnkit explain "LSTM(2)" --input-shape 4,3', "shape_4_3.png"),
    ("Can a model learn a pattern longer than its time steps?",
     "Not a stateless one: it sees only `look_back` steps at a time. explain detects a period in x longer than "
     "the window and suggests a longer look_back or `stateful=True` with the series in order.",
     'rnnkit explain "LSTM(4) > Dense(1)" --x docs/answers/sine_windows_5.npy', "short_window.png"),
    ("Does a multivariate series still use look_back 1?",
     "look_back and features are independent: `(N, look_back, features)`. With look_back 1 each sample is a "
     "single step of all features and the LSTM has no sequence to remember; use the look_back you need.",
     'rnnkit explain "LSTM(4) > Dense(3)" --input-shape 1,3', "look_back_1.png"),
    ("Why do units (32) differ from the number of steps?",
     "Units are the size of the state vector (the width of each green box), time steps the number of boxes. "
     "They are unrelated numbers.",
     'rnnkit explain "LSTM(32) > Dense(1)" --input-shape 5,1', "units.png"),
    ("Why does a stateful model need a fixed batch size, and lose its state on save?",
     "Keras keeps one state per batch row, so the batch size is fixed, and `model.save` drops the states. In "
     "rnnkit `model.save` keeps them (`rnnkit.load` continues mid-sequence), `select_states(rows)` and "
     "`resize_states(n)` change the batch without copying weights into a second model.",
     'rnnkit explain "LSTM(4, stateful=True) > Dense(1)" --input-shape 3,1 --batch-size 4', "stateful_batch4.png"),
    ("Does TimeDistributed decide one-to-many vs many-to-many (Type 1 vs Type 2 of seed 002)?",
     "No: `return_sequences` (or RepeatVector) decides whether steps come out. TimeDistributed only applies a "
     "layer to each step that is already there; with Conv2D it extracts per-frame features (Type 2).",
     'rnnkit explain "TimeDistributed(Conv2D(4, (3, 3))) > TimeDistributed(Flatten()) > LSTM(8) > Dense(3)" '
     '--input-shape 5,16,16,1', "frames.png"),
    ("One output node or N?",
     "One node per value you predict at each output box: Dense(1) for one series, Dense(N) for N. The number "
     "of output boxes is set by return_sequences, not by the Dense size.",
     'rnnkit explain "LSTM(8, return_sequences=True) > Dense(3)" --input-shape 6,3', "outputs.png"),
    ("How do I choose the number of time steps?",
     "Long enough to contain the pattern the prediction depends on (a full cycle for seasonal data); explain "
     "warns when x repeats with a longer period than the window. Longer windows cost more compute per sample.",
     'rnnkit explain "LSTM(4) > Dense(1)" --x docs/answers/sine_windows_30.npy', "long_window.png"),
    ("What does the LSTM add when the model outputs one class?",
     "It reads the whole sequence into its final state, so the one output (many-to-one) can depend on order "
     "and on every step, which a Dense on one step cannot.",
     'rnnkit explain "Embedding(100, 8) > LSTM(16) > Dense(1, activation=\'sigmoid\')" --input-shape 20',
     "classifier.png"),
    ("Plain Dense or TimeDistributed(Dense) after return_sequences?",
     "The same thing: since Keras 2, Dense on 3-D input acts on each step with the same weights. explain "
     "says so as an info finding.",
     'rnnkit explain "LSTM(4, return_sequences=True) > Dense(1)" --input-shape 5,1', "dense_per_step.png"),
    ("Why does the many-to-one bit-sum model fail on lengths other than 20?",
     "Trained only at length 20, it learned to output after exactly 20 steps. The many-to-many running-sum "
     "model is trained at every step, so it generalises to shorter lengths (`rnnkit run bitsum`).",
     'rnnkit explain "Dense(32) > LSTM(32, return_sequences=True) > Dense(1)" --input-shape 20,1',
     "bitsum.png"),
]


def data_files() -> None:
    import numpy as np
    series = np.sin(2 * np.pi * np.arange(600) / 24)
    for look_back in (5, 30):
        x = np.stack([series[i:i + look_back] for i in range(len(series) - look_back)])[:, :, None]
        np.save(DOCS / "answers" / f"sine_windows_{look_back}.npy", x.astype("float32"))


def main() -> None:
    (DOCS / "answers").mkdir(parents=True, exist_ok=True)
    data_files()
    lines = ["# Answers: the seeds' questions, shown on your own model", "",
             "Each answer ends with the `rnnkit explain` command whose table, words and picture show it. "
             "Regenerate this page with `python scripts/make_answers.py`.", ""]
    for k, (question, answer, command, picture) in enumerate(QA, 1):
        argv = shlex.split(command)[1:] + ["--out", str(DOCS / "answers" / picture)]
        cli.main(argv)
        lines += [f"## {k}. {question}", "", answer, "", "```", command, "```", "",
                  f"![{picture}](answers/{picture})", ""]
    (DOCS / "answers.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
