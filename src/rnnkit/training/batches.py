"""Batches that come ready-made: a generator, a torch DataLoader, or any iterable of batches.

Keras's rules (keras/src/trainers/epoch_iterator.py): an epoch is `steps` batches when `steps_per_epoch`
(`validation_steps`, `steps`) is given, else one pass. A re-iterable source (a DataLoader, a dataset
object) starts a new pass each epoch; with `steps` given it goes on where the last epoch stopped, and a
pass that ends inside an epoch ends that epoch (with Keras's warning) and the next epoch starts a new
pass. A generator is read on and on, one pass in all unless it loops inside: once it ends, training
stops.

Each item is `(x, y)` or `(x, y, sample_weight)` for fit and evaluate; predict takes `x`, `(x,)`,
`(x, y)` or `(x, y, sample_weight)` and drops y, as Keras's `unpack_x_y_sample_weight` does.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from .. import checks


def is_iterator(x) -> bool:
    return hasattr(x, "__next__")


def is_batch_source(x) -> bool:
    """Whether fit/evaluate/predict read x batch by batch (not as arrays of samples): a generator or
    iterator, or an iterable that is not an array, a list or a mapping (a torch DataLoader)."""
    if is_iterator(x):
        return True
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict, str, bytes)):
        return False
    if hasattr(x, "to_numpy") or hasattr(x, "__array__"):  # pandas, array-likes
        return False
    return hasattr(x, "__iter__")


def batches_per_pass(x) -> int | None:
    """len(x) for a source that knows it (a DataLoader, timeseries_dataset_from_array's dataset): the
    batches of one epoch when steps_per_epoch (validation_steps, steps) is not given, as in Keras."""
    try:
        return len(x) or None
    except TypeError:
        return None


def source_name(x) -> str:
    return "a generator" if is_iterator(x) else f"a {type(x).__name__}"


class BatchSource:
    """Reads the items of each epoch from `source` (see the module docstring); `steps` None: one pass.

    After `epoch()` has been read, `ran_out` says whether the source ended before `steps` items or gave
    none (training stops), `cut_short` whether a re-iterable's pass ended inside the epoch (a warning).
    """

    def __init__(self, source, steps: int | None):
        self.source, self.steps = source, steps
        self.per_pass = batches_per_pass(source)
        self.ran_out = self.cut_short = False
        self._iterator: Iterator | None = None  # a re-iterable's current pass, kept when steps are given

    @property
    def steps_per_epoch(self) -> int | None:
        """Items an epoch asks for (None: until the source ends)."""
        return self.steps or self.per_pass

    def epoch(self) -> Iterator:
        """The raw items of one epoch."""
        self.ran_out = self.cut_short = False
        count = self.steps_per_epoch
        generator = is_iterator(self.source)
        fresh = not generator and (self.steps is None or self._iterator is None)
        if generator:  # read on (TimeseriesDataset's __next__ never ends)
            iterator = self.source
        elif fresh:
            iterator = self._iterator = iter(self.source)
        else:  # steps given: go on where the last epoch stopped
            iterator = self._iterator
        done = 0
        while count is None or done < count:
            try:
                item = next(iterator)
            except StopIteration:
                if not generator and not fresh and done == 0:  # the last epoch used the pass up: a new one
                    iterator = self._iterator = iter(self.source)
                    fresh = True
                    continue
                if generator or done == 0:  # Keras's "ran out of data": training stops
                    self.ran_out = (count is not None and self.steps is not None) or done == 0
                else:  # a pass ended inside the epoch: the epoch ends, the next starts a new pass
                    self.cut_short = self.steps is not None
                    self._iterator = None
                return
            done += 1
            yield item


def unpack(item) -> tuple:
    """Keras's `unpack_x_y_sample_weight`: (x, y, sample_weight) from x, (x,), (x, y) or (x, y, sw)."""
    if isinstance(item, list):
        item = tuple(item)
    if not isinstance(item, tuple):
        return item, None, None
    if len(item) == 1:
        return item[0], None, None
    if len(item) == 2:
        return item[0], item[1], None
    if len(item) == 3:
        return item
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found a {type(item).__name__} of length {len(item)}. Yield x alone, or (x, y), or "
                     "(x, y, sample_weight); a model with several inputs takes ([x1, x2], y).")


def predict_input(item, input_count: int):
    """The x of one predict item. A list/tuple of `input_count` arrays is the x of a model with that many
    inputs (rnnkit's generators yield [x1, x2]); anything else is unpacked as Keras does, y dropped."""
    if (input_count > 1 and isinstance(item, (list, tuple)) and len(item) == input_count
            and all(isinstance(a, (np.ndarray, torch.Tensor)) for a in item)):
        return list(item)
    return unpack(item)[0]


def pair(item, where: str, source) -> tuple:
    """(x, y) or (x, y, sample_weight) of a fit/evaluate item, or a ValueError saying what to yield."""
    if not (isinstance(item, (tuple, list)) and len(item) in (2, 3)):
        length = f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""
        raise ValueError(f"{where}: x is {source_name(source)}, so each batch must be a pair (x, y), received "
                         f"{checks.kind(item)}{length}. Yield (x_batch, y_batch) tuples (or "
                         "(x_batch, y_batch, sample_weight)).")
    return tuple(item) if len(item) == 3 and item[2] is not None else (item[0], item[1])
