"""How many CPU threads a fit should use, found by timing its own first batches.

Small recurrent steps lose time to thread synchronisation: oneDNN's LSTM at batch 32 with 16 units
trains about 1.7x faster on one thread than on two on this CPU, while W3 (batch 256, 64 units) needs
both. The answer depends on the model, the batch and the machine, so, like cuDNN's benchmark mode,
fit measures: batch 0 warms up, then batches alternate between one thread and all of them, and the
faster median wins for the rest of the fit. The thread count never changes the arithmetic (the same
kernels split the same work; tests/test_threads.py checks that results are bitwise equal), and the
process's setting is restored when fit ends.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import torch


class ThreadTuner:
    """Per-batch thread counts for one fit. `setting`: "auto", a fixed count, or None (leave torch's)."""

    def __init__(self, setting: str | int | None = "auto", trials: int = 3,
                 clock: Callable[[], float] = time.perf_counter):
        if setting not in ("auto", None) and not (isinstance(setting, int) and setting >= 1):
            raise ValueError(f"threads must be 'auto', a positive integer or None, received {setting!r}.")
        self.setting, self.trials, self.clock = setting, trials, clock
        self.all = torch.get_num_threads()
        self.chosen: int | None = None if setting == "auto" else (setting or self.all)
        if setting == "auto" and self.all == 1:
            self.chosen = 1
        self._times: dict[int, list[float]] = {1: [], self.all: []}
        self._batch = 0

    def _candidate(self) -> int:
        if self.chosen is not None:
            return self.chosen
        if self._batch == 0:
            return self.all  # warm-up: first calls pay one-off costs
        return 1 if self._batch % 2 else self.all

    @contextmanager
    def batch(self) -> Iterator[None]:
        n = self._candidate()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        start = self.clock()
        yield
        elapsed = self.clock() - start
        if self.chosen is None and self._batch > 0:
            self._times[n].append(elapsed)
            if min(len(t) for t in self._times.values()) >= self.trials:
                one, every = (statistics.median(self._times[k]) for k in (1, self.all))
                self.chosen = 1 if one < every else self.all
        self._batch += 1

    def restore(self) -> None:
        if torch.get_num_threads() != self.all:
            torch.set_num_threads(self.all)
