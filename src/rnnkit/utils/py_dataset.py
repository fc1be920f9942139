"""Keras's `PyDataset` (Keras 2's `Sequence`, the same class): a dataset that gives whole batches by index.

A subclass defines `__len__` (the number of batches; or the `num_batches` property, None for an endless
dataset) and `__getitem__(index)` returning a batch: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`;
it may define `on_epoch_begin` and `on_epoch_end`. `fit`, `evaluate` and `predict` take it as `x`
(keras/src/trainers/data_adapters/py_dataset_adapter.py):

- each epoch reads the batches in index order, each once; `fit(shuffle=True)` (fit's default, as in
  Keras) reads them in a new random order each epoch; evaluate and predict never shuffle. An endless
  dataset is read in order and needs `steps_per_epoch`.
- `on_epoch_begin()` is called before an epoch's first batch and `on_epoch_end()` after its last (for
  `evaluate`/`predict`, around their one pass; for a PyDataset given as validation_data, around each
  validation). Keras also calls `on_epoch_end` once when fit or evaluate starts (its iterator's reset);
  rnnkit does not.
- `workers`, `use_multiprocessing`, `max_queue_size` (the constructor's arguments, as in Keras) read
  up to `max_queue_size` batches ahead with `workers` threads, or with `workers` processes under
  `use_multiprocessing=True` (forked where the platform forks, so the dataset need not be picklable;
  each epoch forks afresh, so changes made by `on_epoch_end` reach them). Batches still arrive in order.

>>> import numpy as np
>>> class Squares(PyDataset):
...     def __len__(self):
...         return 2
...     def __getitem__(self, i):
...         x = np.arange(3.0) + 3 * i
...         return x, x ** 2
>>> [y.tolist() for _, y in Squares()]
[[0.0, 1.0, 4.0], [9.0, 16.0, 25.0]]
"""

from __future__ import annotations

import itertools
import multiprocessing
import warnings
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Iterable, Iterator

import numpy as np


class PyDataset:
    """Base class of datasets that give batches by index (Keras's `keras.utils.PyDataset`)."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = False
        for attribute, default in (("_workers", 1), ("_use_multiprocessing", False), ("_max_queue_size", 10)):
            if not hasattr(self, attribute):
                setattr(self, attribute, default)
                missing = True
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                          "these arguments to `fit()`, as they will be ignored.", stacklevel=2)

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError

    def __iter__(self):
        """The batches in order (no parallelism, as Keras's), endlessly for an endless dataset."""
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in (range(count) if count is not None else itertools.count()):
            yield self[index]

    @property
    def num_batches(self) -> int | None:
        """The number of batches (`len(self)`), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset  # Keras 2's name (keras.utils.Sequence), the same class in Keras 3


def read_pass(dataset: PyDataset, shuffle: bool = False, rng: np.random.Generator | None = None) -> Iterator:
    """The batches of one pass over `dataset`: every index once (in a random order with `shuffle`, drawn
    from `rng`), or 0, 1, 2, ... without end for an endless dataset; through the dataset's workers."""
    count = dataset.num_batches
    if count is None:
        indices: Iterable[int] = itertools.count()
    elif shuffle:
        indices = (rng if rng is not None else np.random.default_rng()).permutation(count).tolist()
    else:
        indices = range(count)
    workers, processes = dataset.workers, dataset.use_multiprocessing
    if workers > 1 or (workers > 0 and processes):
        return _ahead(dataset, iter(indices), workers, processes, dataset.max_queue_size)
    return (dataset[i] for i in indices)


_SHARED: dict[str, PyDataset] = {}  # in a worker process: the dataset it reads


def _share(dataset: PyDataset) -> None:
    _SHARED["dataset"] = dataset


def _item(index: int):
    return _SHARED["dataset"][index]


def _executor(dataset: PyDataset, workers: int, processes: bool) -> Executor:
    if not processes:
        return ThreadPoolExecutor(workers)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_share,
                               initargs=(dataset,))


def _ahead(dataset: PyDataset, indices: Iterator[int], workers: int, processes: bool, queue_size: int) -> Iterator:
    """dataset[i] for each index in order, up to `queue_size` of them computed ahead by the workers."""
    executor = _executor(dataset, workers, processes)
    read = _item if processes else dataset.__getitem__
    pending: deque = deque()
    try:
        for index in itertools.islice(indices, max(int(queue_size), 1)):
            pending.append(executor.submit(read, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(executor.submit(read, index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
