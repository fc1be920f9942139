"""Keras's training with loss="ctc", for tests/keras_suite/test_losses_ctc.py:

    KERAS_BACKEND=torch python scripts/make_keras_ctc_goldens.py

The toy task and model of tests/keras_suite/ctc_case.py (LSTM -> Dense(softmax), labels padded with 0):
this writes Keras's initial weights (`lstm_ctc.weights.h5`) and, in `goldens.json`, the loss of each
train_on_batch step under Adam, with and without per-sample weights (each run from the initial weights),
evaluate before and after, and the predictions after training. The torch backend: its ctc_loss is
torch's, the one rnnkit uses.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "keras_suite"))
from ctc_case import BATCH, BATCHES, data, model  # noqa: E402 - the case the test builds with rnnkit

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "keras_ctc"
LEARNING_RATE = 0.05


def run(weighted: bool) -> dict:
    d = data()
    keras.utils.set_random_seed(1)
    m = model(keras)
    m.load_weights(OUT / "lstm_ctc.weights.h5")
    m.compile(keras.optimizers.Adam(LEARNING_RATE), loss="ctc")
    before = float(m.evaluate(d["x"], d["y"], batch_size=BATCH, verbose=0))
    steps = []
    for b in range(BATCHES):
        rows = slice(b * BATCH, (b + 1) * BATCH)
        sw = d["sample_weight"][rows] if weighted else None
        steps.append(float(m.train_on_batch(d["x"][rows], d["y"][rows], sample_weight=sw)))
    after = float(m.evaluate(d["x"], d["y"], batch_size=BATCH, verbose=0))
    return {"evaluate_before": before, "steps": steps, "evaluate_after": after,
            "predict_after": np.asarray(m.predict(d["x"][:4], verbose=0)).tolist()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    model(keras).save_weights(OUT / "lstm_ctc.weights.h5")
    goldens = {"keras": keras.__version__, "backend": keras.backend.backend(), "learning_rate": LEARNING_RATE,
               "unweighted": run(False), "weighted": run(True)}
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1))
    print(json.dumps({k: v for k, v in goldens.items()}, indent=1)[:3000])


if __name__ == "__main__":
    main()
