"""torch.compile keeps at most `recompile_limit` compiled variants per code object and past that runs the
function eagerly without a word. Every model's compiled step used to share one code object, so in a process
that had compiled 8 models (a sweep, a notebook) the next ones trained eagerly while `fit` reported them
compiled. Each model's step now has a code object of its own."""

import shutil

import numpy as np
import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

from rnnkit import LSTM, Dense, Input, Sequential

pytestmark = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                reason="torch.compile needs a C++ compiler on CPU")


@torch._dynamo.config.patch(recompile_limit=1)  # the 2nd model would be past the limit; torch's own patch
# (pytest 9.2's monkeypatch undoes it with a delattr, which hides the option from every later compile)
def test_each_model_past_the_recompile_limit_still_trains_compiled():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 5, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    for seed in range(3):
        torch.manual_seed(seed)
        model = Sequential([Input((5, 3)), LSTM(4), Dense(1)])
        model.compile("adam", "mse", jit_compile=True)
        eager = Sequential([Input((5, 3)), LSTM(4), Dense(1)])
        eager.compile("adam", "mse")
        eager.set_weights(model.get_weights())
        graphs = counters["stats"]["unique_graphs"]
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        assert counters["stats"]["unique_graphs"] > graphs, f"model {seed} was not compiled"
        expected = eager.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
