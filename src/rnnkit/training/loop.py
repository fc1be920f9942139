"""The fit loop, read top to bottom: batches, one optimisation step each, epoch logs, validation."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from .. import convert
from ..state import preserved
from ..callbacks import Callback, History
from .progress import EpochProgress

Tensor = torch.Tensor


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: np.random.Generator | None) -> list[np.ndarray]:
    order = generator.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def is_iterator(x) -> bool:
    return hasattr(x, "__next__")


def split_validation(x, y, validation_split: float):
    """Keras's validation_split: the last fraction of the samples, taken before any shuffling."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}.")
    n = convert.num_samples(x)
    cut = int(n * (1.0 - validation_split))
    if cut in (0, n):
        raise ValueError(f"validation_split={validation_split} leaves {cut} training samples of {n}.")
    first = lambda a, s: [v[s] for v in a] if isinstance(a, (list, tuple)) else a[s]
    return first(x, slice(0, cut)), first(y, slice(0, cut)), (first(x, slice(cut, n)), first(y, slice(cut, n)))


def _epoch_batches(model, x, y, batch_size, shuffle, rng, steps) -> Iterator[tuple]:
    """(x, y) batches as tensors on the model's device: rows of the converted arrays, or a generator's
    batches converted one at a time."""
    if is_iterator(x):
        for _ in range(steps):  # never read the generator past what the epoch needs
            xb, yb = next(x)
            xb, yb = model.convert_x(xb), model.convert_y(yb)
            convert.check_finite(xb, "x")
            convert.check_finite(yb, "y")
            yield xb, yb
        return
    for index in batch_indices(convert.num_samples(x), batch_size, shuffle, rng):
        yield convert.take(x, index), convert.take(y, index)


def fit(model, x, y, batch_size: int, epochs: int, verbose: int, callbacks: list[Callback],
        validation_data, shuffle: bool, initial_epoch: int, steps_per_epoch: int | None,
        validation_steps: int | None, seed: int | None = None) -> History:
    """Train `model` (compiled, its data converted and checked by `Trainer.fit`); returns its History."""
    history = History()
    callbacks = [history, *callbacks]
    for cb in callbacks:
        cb.set_model(model)
    steps = steps_per_epoch if is_iterator(x) else -(-convert.num_samples(x) // batch_size)
    history.params = {"epochs": epochs, "steps": steps, "batch_size": batch_size}
    # Shuffling follows NumPy's global seed (np.random.seed) unless fit is given its own seed.
    rng = np.random.default_rng(seed if seed is not None else np.random.randint(0, 2**31 - 1))
    progress = EpochProgress(verbose, epochs, steps)
    train_function = model.make_train_function()
    model.stop_training = False
    for cb in callbacks:
        cb.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        progress.start_epoch(epoch)
        totals: dict[str, float] = {}
        seen = 0
        for b, (xb, yb) in enumerate(_epoch_batches(model, x, y, batch_size, shuffle, rng, steps)):
            for cb in callbacks:
                cb.on_batch_begin(b)
            if not model.training:  # a callback may have predicted in between
                model.train()
            values = train_function((xb, yb))  # {"loss": ..., metrics...}
            n = convert.num_samples(xb)
            seen += n
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * n
            logs = {k: v / seen for k, v in totals.items()}
            progress.advance(logs)
            for cb in callbacks:
                cb.on_batch_end(b, logs)
        logs = {k: v / max(seen, 1) for k, v in totals.items()}
        model.eval()
        if validation_data is not None:
            logs.update(_validate(model, validation_data, batch_size, validation_steps))
        progress.end_epoch(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end()
    model.eval()
    return history


def _validate(model, validation_data, batch_size: int, validation_steps: int | None) -> dict[str, float]:
    # Validation continues from the training states but must not disturb them: snapshot and restore.
    with preserved(model):
        if is_iterator(validation_data):
            if not validation_steps:
                raise ValueError("validation_data is a generator: pass validation_steps (batches per epoch).")
            values = evaluate_batches(model, validation_data, validation_steps)
        else:
            values = evaluate_arrays(model, validation_data[0], validation_data[1], batch_size)
    return {f"val_{k}": v for k, v in values.items()}


def evaluate_batches(model, batches, steps: int | None) -> dict[str, float]:
    """Sample-weighted mean of test_step over `steps` batches of a generator."""
    if not steps:
        raise ValueError("x is a generator: pass steps (batches to evaluate).")
    model.eval()
    totals, seen = {}, 0
    for _ in range(steps):
        xb, yb = next(batches)
        xb, yb = model.convert_x(xb), model.convert_y(yb)
        values = model.test_step((xb, yb))
        n = convert.num_samples(xb)
        seen += n
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + v * n
    return {k: v / seen for k, v in totals.items()}


def evaluate_arrays(model, x, y, batch_size: int) -> dict[str, float]:
    """Sample-weighted mean of test_step over converted (x, y), in order."""
    model.eval()
    totals, n = {}, convert.num_samples(x)
    for index in batch_indices(n, batch_size, False, None):
        values = model.test_step((convert.take(x, index), convert.take(y, index)))
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + v * len(index)
    return {k: v / n for k, v in totals.items()}
