"""The fit loop, read top to bottom: batches, one optimisation step each, epoch logs, validation."""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import numpy as np
import torch

from .. import convert
from ..callbacks import Callback, History
from ..layers.base import waiting_for_shape
from ..optimizers import slots as optimizer_slots
from ..state import preserved
from . import distributed
from .arrays import array_batches, batch_indices, take_targets, take_weights
from .batches import (BatchSource, convert_batch, cut_short_message, is_batch_source, is_iterator, no_batch_message,
                      pair, ran_out_message, source_batches)
from .evaluate_predict import evaluate, executions
from .progress import EpochProgress
from .weighting import class_weights_to_sample_weights


def _epoch_batches(model, x, y, batch_size, shuffle, rng, source=None, shard=None, sample_weight=None,
                   class_weight=None) -> Iterator[tuple | None]:
    """(x, y) or (x, y, sample_weight) batches as tensors on the model's device: rows of the converted
    arrays (this rank's share of each in a distributed fit), or the batches of `source` (a BatchSource)
    converted one at a time (then None at the end if it ran out; each rank reads its own source). A
    source's batches get their class weights here; arrays got theirs in `Trainer.fit`."""
    if source is not None:
        for item in source.epoch():  # never reads the source past what the epoch needs
            batch = convert_batch(model, pair(item, "fit", source.source), "fit")
            if class_weight is not None:
                if len(batch) == 3:
                    raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
                batch = (*batch, class_weights_to_sample_weights(batch[1], class_weight))
            if shard is not None:
                shard.local_batch(convert.num_samples(batch[0]))
            yield batch
        if source.ran_out:
            yield None
        elif source.cut_short:
            warnings.warn(cut_short_message("fit", source), UserWarning, stacklevel=3)
        return
    for index in batch_indices(convert.num_samples(x), batch_size, shuffle, rng):
        if shard is not None:
            index = shard.rows(index)
        if sample_weight is None:
            yield convert.take(x, index), take_targets(y, index)
        else:
            yield convert.take(x, index), take_targets(y, index), take_weights(sample_weight, index)


def fit(model, x, y, batch_size: int, epochs: int, verbose: int, callbacks: list[Callback],
        validation_data, shuffle: bool, initial_epoch: int, steps_per_epoch: int | None,
        validation_steps: int | None, seed: int | None = None, distribute=None, sample_weight=None,
        class_weight=None, validation_freq: int = 1) -> History:
    """Train `model` (compiled, its data converted and checked by `Trainer.fit`); returns its History.
    Callbacks run in the order given, then History (so it records what they log), as in Keras; they see
    validation through their test hooks, as Keras's fit runs evaluate with them."""
    history = History()
    callbacks = [*callbacks, history]
    shard = distributed.Shard(model, batch_size) if distributed.wanted(distribute) else None
    if shard is not None:  # one seed for every rank, so all draw the same global batches
        seed, verbose = shard.shared_seed(seed), verbose if shard.rank == 0 else 0
    # Shuffling follows NumPy's global seed (np.random.seed) unless fit is given its own seed.
    rng = np.random.default_rng(seed if seed is not None else np.random.randint(0, 2**31 - 1))
    # shuffle reorders a PyDataset's batches (Keras's PyDatasetAdapter); other sources are read as they come
    source = BatchSource(x, steps_per_epoch, shuffle, rng) if is_batch_source(x) else None
    steps = source.steps_per_epoch if source is not None else -(-convert.num_samples(x) // batch_size)
    if is_batch_source(validation_data):
        validation_data = BatchSource(validation_data, validation_steps)
    for cb in callbacks:
        cb.set_model(model)
        cb.set_params({"epochs": epochs, "steps": steps, "batch_size": batch_size, "verbose": verbose})
    progress = EpochProgress(verbose, epochs, steps)
    train_function = model.make_train_function()
    model.stop_training = False
    trained = 0  # batches over the whole fit
    per = getattr(model, "steps_per_execution", 1)
    logs: dict[str, float] = {}
    with _distributed(model, shard, x, batch_size):
        for cb in callbacks:
            cb.on_train_begin({})  # Keras passes a logs dict to every hook
        for epoch in range(initial_epoch, epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            progress.start_epoch(epoch)
            totals: dict[str, float] = {}
            seen = 0
            ran_out = False
            batches = _epoch_batches(model, x, y, batch_size, shuffle, rng, source, shard, sample_weight,
                                     class_weight)
            for b, chunk in executions(batches, per):  # steps_per_execution batches per callback call
                if chunk[0] is None:
                    ran_out = True
                    break
                for cb in callbacks:
                    cb.on_train_batch_begin(b, logs={})
                for batch in chunk:
                    if batch is None:
                        ran_out = True
                        break
                    trained += 1
                    if not model.training:  # a callback may have predicted in between
                        model.train()
                    n = convert.num_samples(batch[0])
                    if shard is None:
                        values = train_function(batch)  # {"loss": ..., metrics...}
                    else:  # this rank's rows; then the whole batch's loss and metrics, on every rank
                        values = train_function(batch) if n else shard.idle_step()
                        values, n = shard.reduce_logs(values, n)
                    seen += n
                    for k, v in values.items():  # Keras's loss tracker: the mean of batch losses, weighted by rows
                        totals[k] = totals.get(k, 0.0) + v * n
                    # RMSE: the root of the mean; AUC, Precision, ...: from the sum of the batches' states
                    logs = model.metrics_result({k: v / seen for k, v in totals.items()}, rows=seen)
                    progress.advance(logs)
                for cb in callbacks:
                    cb.on_train_batch_end(b + per - 1, logs=logs)
                if ran_out:
                    break
                if model.stop_training and shard is None:  # TerminateOnNaN: the epoch ends here, as in Keras
                    break  # (distributed: at the epoch's end, when the ranks agree, so no rank waits alone)
            if ran_out:
                if not trained:
                    raise ValueError(no_batch_message("fit", f"steps_per_epoch={steps_per_epoch}", x))
                needed = None if steps_per_epoch is None else \
                    f"steps_per_epoch * epochs = {steps_per_epoch * (epochs - initial_epoch)}"
                warnings.warn(ran_out_message("fit", trained, needed, "training", x), UserWarning, stacklevel=3)
                model.stop_training = True
                if not seen:  # nothing trained in this epoch: no epoch to report
                    break
            logs = model.metrics_result({k: v / max(seen, 1) for k, v in totals.items()}, rows=max(seen, 1))
            model.eval()
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                with distributed.whole_states(shard):  # every rank validates the whole stateful batch
                    logs.update(_validate(model, validation_data, batch_size, callbacks))
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            progress.end_epoch(epoch, logs)  # after the callbacks, so it shows what they log (learning_rate)
            if shard is not None:
                model.stop_training = shard.agree(model.stop_training)  # rank 0 decides, every rank follows
            if model.stop_training:
                break
        if epochs > 0 and model.optimizer_built:  # as Keras's fit: with use_ema the weights become their EMA
            optimizer_slots.finalize_variable_values(model.optimizer)
        for cb in callbacks:
            cb.on_train_end(logs)  # the last epoch's logs
    model.eval()
    return history


@contextlib.contextmanager
def _distributed(model, shard, x, batch_size: int):
    """A distributed fit's set-up and tear-down (nothing without a process group)."""
    if shard is None:
        yield
        return
    if waiting_for_shape(model):  # every rank's weights must exist before rank 0's are sent
        if is_batch_source(x):
            raise ValueError("fit: distributed training from a generator needs the model's weights made "
                             "first: declare the input shape (Input((time_steps, features))) or call "
                             "model.build((batch, time_steps, features)).")
        with torch.no_grad(), preserved(model):
            model(convert.take(x, np.arange(1)))
    shard.begin()
    try:
        yield
    finally:
        shard.end()


def _validate(model, validation_data, batch_size: int, callbacks: list) -> dict[str, float]:
    # Validation continues from the training states but must not disturb them: snapshot and restore.
    with preserved(model):
        if isinstance(validation_data, BatchSource):
            if validation_data.steps_per_epoch is None and is_iterator(validation_data.source):
                raise ValueError("validation_data is a generator: pass validation_steps (batches per epoch).")
            batches = source_batches(model, validation_data, "fit (validation_data)")
        else:
            batches = array_batches(*validation_data[:3], batch_size=batch_size)
        values = evaluate(model, batches, callbacks)
    return {f"val_{k}": v for k, v in values.items()}
