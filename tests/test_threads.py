"""fit's thread tuning: it picks the faster count, restores the process's setting, and never changes results."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential
from rnnkit.threads import ThreadTuner


class FakeClock:
    """Each batch "takes" 1.0 s on one thread and `every` s on all of them."""

    def __init__(self, every):
        self.every, self.t = every, 0.0
        self.reading = False

    def __call__(self):
        if self.reading:  # end of a batch: advance by its cost under the current thread count
            self.t += 1.0 if torch.get_num_threads() == 1 else self.every
        self.reading = not self.reading
        return self.t


@pytest.mark.parametrize("every, expected", [(2.0, 1), (0.5, "all")])
def test_tuner_picks_the_faster_thread_count_and_restores(every, expected):
    before = torch.get_num_threads()
    if before == 1:
        pytest.skip("one CPU thread: nothing to choose")
    tuner = ThreadTuner("auto", trials=3, clock=FakeClock(every))
    used = []
    for _ in range(12):
        with tuner.batch():
            used.append(torch.get_num_threads())
    want = 1 if expected == 1 else before
    assert tuner.chosen == want
    assert used[0] == before and set(used[1:7]) == {1, before}  # warm-up, then alternating trials
    assert set(used[7:]) == {want}
    tuner.restore()
    assert torch.get_num_threads() == before


def _fit(threads):
    torch.manual_seed(0)
    model = Sequential([Input((30, 3)), LSTM(8, return_sequences=True), LSTM(4), Dense(1)])
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 30, 3)).astype(np.float32), rng.normal(size=(64, 1)).astype(np.float32)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, threads=threads)
    return history, [p.detach().clone() for p in model.parameters()]


def test_thread_count_does_not_change_the_arithmetic():
    before = torch.get_num_threads()
    h1, one = _fit(1)
    h2, every = _fit(before)
    h3, auto = _fit("auto")
    assert torch.get_num_threads() == before
    assert h1.params["threads"] == 1 and h3.params["threads"] in (1, before)
    for a, b, c in zip(one, every, auto):
        assert torch.equal(a, b) and torch.equal(a, c)
    assert h1.history["loss"] == h2.history["loss"] == h3.history["loss"]


def test_bad_thread_setting_is_refused():
    with pytest.raises(ValueError, match="threads must be 'auto', a positive integer or None"):
        _fit(0)
