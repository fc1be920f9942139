"""Write Keras 3's own weight and model files for tests/test_keras_files.py (run with Keras installed):

    KERAS_BACKEND=jax python scripts/make_keras_weights_fixtures.py

tests/fixtures/keras_weights/ gets, for one stateful-free model (LSTM -> Bidirectional(GRU) -> Dense),
Keras's `model.weights.h5` (save_weights), its legacy `model.h5` (save) and `expected.npz` (the input and
Keras's prediction), so that rnnkit's load_weights is checked against Keras without Keras installed.
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "keras_weights"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(6, return_sequences=True),
                              keras.layers.Bidirectional(keras.layers.GRU(3)), keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")
    model.save_weights(OUT / "model.weights.h5")
    model.save(OUT / "model.h5")
    np.savez(OUT / "expected.npz", x=x, y=np.asarray(model.predict(x, verbose=0)), keras=keras.__version__)
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
