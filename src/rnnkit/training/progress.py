"""Progress display for long jobs: a live bar per epoch (verbose=1) and one line per epoch."""

from __future__ import annotations

import sys
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def format_logs(logs: dict) -> str:
    """`loss 0.1234  auc 0.9` (a metric with several values, F1Score per class: `[0.5 0.25]`)."""
    return "  ".join(f"{k} {_number(v)}" for k, v in logs.items())


def _number(v) -> str:
    if np.ndim(v) == 0:
        return f"{v:.4g}"
    return "[" + " ".join(f"{x:.4g}" for x in np.ravel(v)) + "]"


class EpochProgress:
    """verbose=0: silent; 1: a live bar while the epoch runs, then a line; 2: the line only."""

    def __init__(self, verbose: int, epochs: int, steps: int | None):
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self._progress = None
        self._task = None
        self._t0 = 0.0

    def start_epoch(self, epoch: int) -> None:
        self._t0 = time.perf_counter()
        if self.verbose == 1 and self.console.is_terminal:
            self._progress = Progress(TextColumn(f"Epoch {epoch + 1}/{self.epochs}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      TextColumn("{task.fields[logs]}"), console=self.console,
                                      transient=True)
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.steps, logs="")

    def advance(self, logs: dict) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, logs=format_logs(logs))

    def end_epoch(self, epoch: int, logs: dict) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self.verbose:
            seconds = time.perf_counter() - self._t0
            self.console.print(f"Epoch {epoch + 1}/{self.epochs}  {seconds:.2f}s  {format_logs(logs)}")
