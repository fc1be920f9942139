"""Batches that come ready-made: a generator, a torch DataLoader, or any iterable of batches.

Keras's rules (keras/src/trainers/epoch_iterator.py): an epoch is `steps` batches when `steps_per_epoch`
(`validation_steps`, `steps`) is given, else one pass. A re-iterable source (a DataLoader, a dataset
object) starts a new pass each epoch; with `steps` given it goes on where the last epoch stopped, and a
pass that ends inside an epoch ends that epoch (with Keras's warning) and the next epoch starts a new
pass. A generator is read on and on, one pass in all unless it loops inside: once it ends, training
stops.

Each item is `(x, y)` or `(x, y, sample_weight)` for fit and evaluate; predict takes `x`, `(x,)`,
`(x, y)` or `(x, y, sample_weight)` and drops y, as Keras's `unpack_x_y_sample_weight` does.

A `PyDataset` (Keras's `Sequence`) is read by index, one pass of its batches per epoch (shuffled when
fit's `shuffle` says so, as Keras's PyDatasetAdapter), between its `on_epoch_begin` and `on_epoch_end`
(`rnnkit.utils.py_dataset`).

Each batch read is converted for the model (`convert_batch`); a source that runs out early gets Keras's
warning, one that yields nothing an error (the messages below say what to pass instead).
"""

from __future__ import annotations

import warnings
from typing import Iterator

import numpy as np
import torch

from .. import checks, convert
from ..utils.dataset_utils import unpack_x_y_sample_weight as unpack
from ..utils.py_dataset import PyDataset, read_pass
from .weighting import sample_weights


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
    batches of one epoch when steps_per_epoch (validation_steps, steps) is not given, as in Keras; a
    PyDataset's num_batches (None: endless)."""
    if isinstance(x, PyDataset):
        return x.num_batches
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

    def __init__(self, source, steps: int | None, shuffle: bool = False, rng: np.random.Generator | None = None):
        self.source, self.steps = source, steps
        self.shuffle, self.rng = shuffle, rng  # a PyDataset's batch order (fit's shuffle), else unused
        self.per_pass = batches_per_pass(source)
        self.ran_out = self.cut_short = False
        self._iterator: Iterator | None = None  # a re-iterable's current pass, kept when steps are given

    @property
    def steps_per_epoch(self) -> int | None:
        """Items an epoch asks for (None: until the source ends)."""
        return self.steps or self.per_pass

    def _new_pass(self) -> Iterator:
        if isinstance(self.source, PyDataset):
            return read_pass(self.source, self.shuffle, self.rng)
        return iter(self.source)

    def epoch(self) -> Iterator:
        """The raw items of one epoch (a PyDataset's between its on_epoch_begin and on_epoch_end)."""
        if not isinstance(self.source, PyDataset):
            return self._epoch()
        return self._dataset_epoch()

    def _dataset_epoch(self) -> Iterator:
        self.source.on_epoch_begin()
        try:
            yield from self._epoch()
        finally:
            self.source.on_epoch_end()

    def _epoch(self) -> Iterator:
        self.ran_out = self.cut_short = False
        count = self.steps_per_epoch
        generator = is_iterator(self.source)
        fresh = not generator and (self.steps is None or self._iterator is None)
        if generator:  # read on (TimeseriesDataset's __next__ never ends)
            iterator = self.source
        elif fresh:
            iterator = self._iterator = self._new_pass()
        else:  # steps given: go on where the last epoch stopped
            iterator = self._iterator
        done = 0
        while count is None or done < count:
            try:
                item = next(iterator)
            except StopIteration:
                if not generator and not fresh and done == 0:  # the last epoch used the pass up: a new one
                    iterator = self._iterator = self._new_pass()
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


def no_batch_message(where: str, steps: str, source=None) -> str:
    what = "a generator" if source is None else source_name(source)
    return (f"{where}: x ({what}) yielded no batch: it is exhausted or empty, and {steps} asks for batches. "
            "Pass a fresh generator (one made for this call), and loop inside it with `while True:` so that "
            "it yields as many batches as asked for.")


def ran_out_message(where: str, batches: int, needed: str | None, what: str, source=None) -> str:
    kind = "a generator" if source is None else source_name(source)
    if needed is None:  # no steps given: the generator's one pass was the first epoch
        return (f"{where}: x ({kind}) ran out of data after {batches} batches; {what} stopped there (as Keras "
                "does): a generator is read once, so only the first epoch had batches. Pass a re-iterable "
                "source (a torch DataLoader starts a new pass each epoch), or a generator that loops with "
                "`while True:` and steps_per_epoch.")
    return (f"{where}: x ({kind}) ran out of data after {batches} batches; {what} stopped there (as Keras "
            f"does). It must yield at least {needed} batches: loop inside it with `while True:`, or ask for "
            "fewer batches.")


def cut_short_message(where: str, source: BatchSource) -> str:
    return (f"{where}: x ({source_name(source.source)}) ran out of data inside this epoch: its pass has "
            f"{source.per_pass or 'fewer'} batches and steps_per_epoch asks for {source.steps}, so the epoch "
            "ended there and the next one starts a new pass, as Keras does. Pass steps_per_epoch that divides "
            "the batches of a pass, or leave it out for one pass per epoch.")


def convert_batch(model, batch: tuple, where: str, finite: bool = True) -> tuple:
    """A generator's (x, y[, sample_weight]) as tensors on the model's device, checked."""
    xb, yb = model.convert_x(batch[0]), model.convert_y(batch[1])
    for data, name in ((xb, "x"), (yb, "y")) if finite else ((xb, "x"),):
        convert.check_not_empty(data, name, f"{where} (a batch of the generator)")
        convert.check_finite(data, name)
    if len(batch) == 3:
        return xb, yb, sample_weights(batch[2], convert.num_samples(xb), model.data_device(), where)
    return xb, yb


def source_batches(model, source: BatchSource, where: str = "evaluate") -> Iterator[tuple]:
    """The converted (x, y[, sample_weight]) batches of one pass of `source` (or its `steps`); Keras's
    warning if it runs out early, an error if it yields nothing."""
    done = 0
    for item in source.epoch():
        yield convert_batch(model, pair(item, where, source.source), where, finite=False)
        done += 1
    if source.ran_out:
        steps = f"steps={source.steps}" if source.steps else "one pass"
        if not done:
            raise ValueError(no_batch_message(where, steps, source.source))
        warnings.warn(ran_out_message(where, done, None if source.steps is None else f"steps = {source.steps}",
                                      "evaluation", source.source), UserWarning, stacklevel=4)
