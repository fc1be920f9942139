"""Keras's `timeseries_dataset_from_array` (keras/src/utils/timeseries_dataset_utils.py): sliding windows
over one long series, served in batches, for fit, evaluate and predict.

Where Keras returns a tf.data.Dataset, this returns a `TimeseriesDataset`: a re-iterable of NumPy
batches (x, y), or x alone without targets. `for x, y in dataset` is one pass; each pass of a shuffled
dataset draws a new order. `model.fit(dataset, epochs=...)` reads it as it reads a generator, `len(dataset)`
batches per epoch.
"""

from __future__ import annotations

import itertools
from typing import Iterator

import numpy as np

from .. import checks


class Batch(np.ndarray):
    """A NumPy array that also answers `.numpy()` (itself as a plain array), as the tensors of Keras's
    tf.data batches do, so Keras code such as `inputs.numpy().shape` or `x[0][:, 1].numpy()` runs."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self)


class TimeseriesDataset:
    """Windows of a series in batches; iterate it for one pass, call `next` on it for batches without end.

    Built by `timeseries_dataset_from_array`. Windows are gathered per batch, so memory holds the series
    and one batch, not every window.

    Attributes:
        start_positions: where each window starts (relative to `start_index`), in the first pass's order.
    """

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, start_positions: np.ndarray,
                 sequence_length: int, sampling_rate: int, batch_size: int | None,
                 rng: np.random.RandomState | None = None):
        self.data, self.targets = data, targets
        self.start_positions = start_positions
        self.steps = np.arange(sequence_length) * sampling_rate  # a window's offsets from its start
        self.batch_size = batch_size
        self.shuffle = rng is not None  # then every pass after the first draws a new order from rng
        self._rng = rng
        self._passes = 0
        self._current: Iterator | None = None

    def __len__(self) -> int:
        """Batches per pass (windows, unbatched)."""
        n = len(self.start_positions)
        return n if self.batch_size is None else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        # The first pass keeps the order Keras draws (np.random.RandomState(seed).shuffle); every later pass
        # reshuffles, as Keras's dataset shuffles again each iteration.
        order = self.start_positions
        if self.shuffle and self._passes > 0:
            order = self._rng.permutation(order)
        self._passes += 1
        return order

    def _batch(self, starts: np.ndarray):
        x = self.data[starts[..., None] + self.steps].view(Batch)  # (B,) -> (B, T, ...)
        return x if self.targets is None else (x, self.targets[starts].view(Batch))

    def take(self, count: int):
        """The first `count` batches of a pass (all with -1), re-iterable, as tf.data's `Dataset.take`:
        `for x, y in dataset.take(1)`."""
        if not checks.is_int(count) or count < -1:
            raise ValueError(f"take(count): count must be an integer >= -1 (-1: all), received {count!r}.")
        return _Taken(self, None if count == -1 else count)

    def __iter__(self):
        """One pass: (x, y) batches of shape (batch_size, sequence_length, ...) and (batch_size, ...)."""
        order = self._order()
        if self.batch_size is None:
            return (self._batch(np.asarray(s)) for s in order)
        return (self._batch(order[i:i + self.batch_size]) for i in range(0, len(order), self.batch_size))

    def __next__(self):
        """The next batch, passes following each other without end (how fit reads a generator)."""
        while True:
            if self._current is None:
                self._current = iter(self)
            try:
                return next(self._current)
            except StopIteration:
                self._current = None

    def __repr__(self) -> str:
        return (f"TimeseriesDataset({len(self.start_positions)} windows of {len(self.steps)} steps, "
                f"{len(self)} batches of {self.batch_size}, shuffle={self.shuffle})")


class _Taken:
    """`TimeseriesDataset.take(count)`: each pass is the first `count` batches of a pass of the dataset."""

    def __init__(self, dataset: TimeseriesDataset, count: int | None):
        self.dataset, self.count = dataset, count

    def __iter__(self):
        return itertools.islice(iter(self.dataset), self.count)

    def __len__(self) -> int:
        return len(self.dataset) if self.count is None else min(self.count, len(self.dataset))


def _check_indices(n: int, start_index, end_index, sampling_rate, sequence_stride) -> None:
    """Keras's argument checks, with Keras's messages."""
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index is not None:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError("`sampling_rate` must be lower than the length of the data. Received: "
                         f"sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError("`sequence_stride` must be lower than the length of the data. Received: "
                         f"sequence_stride={sequence_stride}, for data of length {n}")


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Batches of sliding windows over `data` (axis 0 is time), with Keras's arguments and windows.

    Window i holds data[s], data[s + sampling_rate], ... (`sequence_length` steps) for s = start_index +
    i * sequence_stride; its target is targets[s] (so `targets = data[sequence_length:]` predicts the
    next step). Windows that would pass `end_index` (exclusive; default the end of the data) are
    dropped, and with targets there are at most as many windows as targets.

    Args:
        data: an array (or list, DataFrame) of time steps.
        targets: one target per window start, or None for batches of x alone.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: steps between successive steps within a window.
        batch_size: windows per batch (the last may be smaller); None: single windows.
        shuffle: draw the windows in random order (a new order each pass); else in time order.
        seed: the shuffle's seed (None: one drawn from NumPy's global generator, as Keras does).
        start_index, end_index: the part of `data` to use (end exclusive), e.g. to hold out a test span.

    Returns:
        A `TimeseriesDataset`: iterate it for (x, y) batches of shape (B, sequence_length, ...) and
        (B, ...), or pass it to `model.fit` / `evaluate` as data.

    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 2, sequence_length=3, batch_size=4)
    >>> x, y = next(iter(ds))
    >>> x.shape, x[1].tolist(), y.tolist(), len(ds)
    ((4, 3), [1, 2, 3], [0, 2, 4, 6], 2)
    """
    where = "timeseries_dataset_from_array"
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"{where}: data must be an array of time steps (axis 0 is time), received a scalar.")
    sequence_length = checks.positive_int("sequence_length", sequence_length, where, "steps per window")
    for name, v in (("sequence_stride", sequence_stride), ("sampling_rate", sampling_rate)):
        if not checks.is_int(v):
            raise checks.ArgumentError(f"{where}: {name} must be an integer, received {checks.short(v)}.")
    if batch_size is not None:
        batch_size = checks.positive_int("batch_size", batch_size, where, "windows per batch",
                                         "Pass a whole number such as batch_size=32, or None for single windows.")
    shuffle = checks.boolean("shuffle", shuffle, where)
    _check_indices(len(data), start_index, end_index, sampling_rate, sequence_stride)
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index

    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets) - start_index)
    if num_seqs <= 0:
        raise ValueError(f"{where}: no window fits: a window spans {(sequence_length - 1) * sampling_rate + 1} "
                         f"steps (sequence_length={sequence_length}, sampling_rate={sampling_rate}) and the data "
                         f"from start_index={start_index} to end_index={end_index} has {end_index - start_index}"
                         f"{'' if targets is None else f', with {len(targets)} targets'}. Use shorter windows or "
                         "more data.")
    start_positions = np.arange(0, num_seqs, sequence_stride)
    rng = None
    if shuffle:
        rng = np.random.RandomState(np.random.randint(1e6) if seed is None else seed)
        rng.shuffle(start_positions)  # Keras's order of the windows; later passes draw on from rng
    return TimeseriesDataset(data[start_index:end_index], None if targets is None else targets[start_index:],
                             start_positions, sequence_length, sampling_rate, batch_size, rng)
