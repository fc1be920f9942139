"""Keras's loss and metrics of masked models, for tests/keras_suite/test_masked_loss_and_metrics.py:

    KERAS_BACKEND=torch python scripts/make_keras_masked_goldens.py

A model whose output carries a mask (Embedding(mask_zero=True) or Masking upstream, return_sequences)
averages its loss over the valid steps only, and its MeanMetricWrapper metrics skip the masked steps
(keras/src/losses/loss.py `apply_mask`, metrics/reduction_metrics.py). For each model below this writes
Keras's weights (`<case>.weights.h5`) and, in `goldens.json`, Keras's evaluate logs, evaluate with
per-step sample weights, and two epochs of fit (SGD, no shuffling) from those weights. The torch backend:
under jax, Keras 3.15's fit drops the mask from its metrics (not its loss), which its evaluate keeps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import sys  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "keras_suite"))
from masked_cases import data, models  # noqa: E402 - the cases the test builds with rnnkit

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "keras_masked"
def _logs(values) -> list:
    return [float(v) for v in np.atleast_1d(values)]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    d = data()
    np.savez(OUT / "data.npz", **d)
    goldens = {"keras": keras.__version__, "backend": keras.backend.backend(), "cases": {}}
    for name, (model, x_key, y_key, loss, metrics, loss_weights) in models(keras).items():
        keras.utils.set_random_seed(1)
        x = d[x_key]
        y = [d[key] for key in y_key] if isinstance(y_key, list) else d[y_key]
        sw = [d["step_weight"]] * len(y_key) if isinstance(y_key, list) else d["step_weight"]
        model.save_weights(OUT / f"{name}.weights.h5")
        model.compile(keras.optimizers.SGD(0.1), loss, metrics=metrics, loss_weights=loss_weights)
        case = {"evaluate": model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True),
                "evaluate_weighted": model.evaluate(x, y, sample_weight=sw, batch_size=4, verbose=0,
                                                    return_dict=True)}
        case["fit"] = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history
        goldens["cases"][name] = {part: {k: _logs(v) for k, v in logs.items()} for part, logs in case.items()}
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1))
    print(json.dumps(goldens, indent=1))


if __name__ == "__main__":
    main()
