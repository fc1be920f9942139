"""The fit loop, read top to bottom: batches, one optimisation step each, epoch logs, validation."""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import numpy as np
import torch

from .. import checks, convert
from ..layers.base import waiting_for_shape
from ..state import preserved
from ..callbacks import Callback, History
from . import distributed
from .progress import EpochProgress

Tensor = torch.Tensor


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: np.random.Generator | None) -> list[np.ndarray]:
    order = generator.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def is_iterator(x) -> bool:
    return hasattr(x, "__next__")


def batches_per_pass(x) -> int | None:
    """len(x) for a generator that knows it (a dataset such as timeseries_dataset_from_array's): the
    batches of one epoch when steps_per_epoch (validation_steps, steps) is not given, as in Keras."""
    try:
        return len(x) or None
    except TypeError:
        return None


def split_validation(x, y, validation_split: float, sample_weight=None):
    """Keras's validation_split: the last fraction of the samples (and of their weights), taken before any
    shuffling. Returns x, y, sample_weight, validation_data."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}.")
    n = convert.num_samples(x)
    cut = int(n * (1.0 - validation_split))
    if cut in (0, n):
        raise ValueError(f"validation_split={validation_split} leaves {cut} training samples of {n}; pass a "
                         "validation_split that keeps at least one sample on each side (e.g. 0.2), or more data.")
    first = lambda a, s: [v[s] for v in a] if isinstance(a, (list, tuple)) else a[s]
    train, held = slice(0, cut), slice(cut, n)
    if sample_weight is None:
        return first(x, train), first(y, train), None, (first(x, held), first(y, held))
    return (first(x, train), first(y, train), sample_weight[train],
            (first(x, held), first(y, held), sample_weight[held]))


def class_weights_to_sample_weights(y: Tensor, class_weight: dict) -> Tensor:
    """Keras's `class_weight_to_sample_weights`: each sample weighs class_weight[its class] (1 for a class
    not named). The class is y itself for (N,) or (N, 1) targets, the argmax for one-hot (N, C) targets."""
    if not hasattr(class_weight, "items") or not hasattr(class_weight, "get"):
        raise ValueError("`class_weight` must be a dict-like mapping of class indices to weights. Received: "
                         f"class_weight={class_weight} of type {type(class_weight)}.")
    cleaned = {}
    for key, value in class_weight.items():
        try:
            cleaned[int(key)] = value
        except (TypeError, ValueError):
            raise ValueError("`class_weight` must be a dictionary with integer keys representing class indices. "
                             f"Received an invalid key: {key!r} of type {type(key)}.") from None
    labels = y.detach().cpu().numpy()
    if labels.ndim > 2:
        raise ValueError(f"class_weight needs one class per sample: y of shape (samples,), (samples, 1) or one-hot "
                         f"(samples, classes), received y of shape {labels.shape}. For sequence targets pass "
                         "sample_weight of shape (samples, time_steps) instead.")
    if labels.ndim == 2:
        labels = labels.argmax(-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
    labels = np.round(labels).astype("int32")
    weights = np.array([cleaned.get(int(c), 1.0) for c in labels], dtype=np.float32)
    return torch.as_tensor(weights, device=y.device)


def no_batch_message(where: str, steps: str) -> str:
    return (f"{where}: x (a generator) yielded no batch: it is exhausted or empty, and {steps} asks for batches. "
            "Pass a fresh generator (one made for this call), and loop inside it with `while True:` so that "
            "it yields as many batches as asked for.")


def ran_out_message(where: str, batches: int, needed: str, what: str) -> str:
    return (f"{where}: x (a generator) ran out of data after {batches} batches; {what} stopped there (as Keras "
            f"does). It must yield at least {needed} batches: loop inside it with `while True:`, or ask for "
            "fewer batches.")


def next_batch(batches, where: str) -> tuple | None:
    """The next (x, y) or (x, y, sample_weight) of a generator, or None once it is exhausted."""
    try:
        item = next(batches)
    except StopIteration:
        return None
    if not (isinstance(item, (tuple, list)) and len(item) in (2, 3)):
        raise ValueError(f"{where}: x is a generator, so each batch must be a pair (x, y), received "
                         f"{checks.kind(item)}{f' of length {len(item)}' if isinstance(item, (tuple, list)) else ''}. "
                         "Yield (x_batch, y_batch) tuples (or (x_batch, y_batch, sample_weight)).")
    return tuple(item) if len(item) == 3 and item[2] is not None else (item[0], item[1])


def convert_batch(model, batch: tuple, where: str, finite: bool = True) -> tuple:
    """A generator's (x, y[, sample_weight]) as tensors on the model's device, checked."""
    xb, yb = model.convert_x(batch[0]), model.convert_y(batch[1])
    for data, name in ((xb, "x"), (yb, "y")) if finite else ((xb, "x"),):
        convert.check_not_empty(data, name, f"{where} (a batch of the generator)")
        convert.check_finite(data, name)
    if len(batch) == 3:
        return xb, yb, sample_weights(batch[2], convert.num_samples(xb), model.data_device(), where)
    return xb, yb


def sample_weights(sample_weight, n: int, device, where: str) -> Tensor:
    """sample_weight as a float tensor with one row per sample, checked (finite)."""
    w = convert.to_tensor(sample_weight, device, integers_as_float=True).float()
    if w.dim() == 0 or w.shape[0] != n:
        raise ValueError(f"{where}: sample_weight must have one row per sample ({n}), received shape "
                         f"{tuple(w.shape)}. Pass shape ({n},) (a weight per sample) or ({n}, time_steps) (per step).")
    if not bool(torch.isfinite(w).all()):
        raise ValueError(f"{where}: sample_weight holds NaN or infinite values; give finite weights.")
    return w


def _epoch_batches(model, x, y, batch_size, shuffle, rng, steps, shard=None, sample_weight=None,
                   class_weight=None) -> Iterator[tuple | None]:
    """(x, y) or (x, y, sample_weight) batches as tensors on the model's device: rows of the converted
    arrays (this rank's share of each in a distributed fit), or a generator's batches converted one at a
    time (then None if the generator runs out before `steps`; each rank reads its own generator). A
    generator's batches get their class weights here; arrays got theirs in `Trainer.fit`."""
    if is_iterator(x):
        for _ in range(steps):  # never read the generator past what the epoch needs
            batch = next_batch(x, "fit")
            if batch is None:
                yield None
                return
            batch = convert_batch(model, batch, "fit")
            if class_weight is not None:
                if len(batch) == 3:
                    raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
                batch = (*batch, class_weights_to_sample_weights(batch[1], class_weight))
            if shard is not None:
                shard.local_batch(convert.num_samples(batch[0]))
            yield batch
        return
    for index in batch_indices(convert.num_samples(x), batch_size, shuffle, rng):
        if shard is not None:
            index = shard.rows(index)
        if sample_weight is None:
            yield convert.take(x, index), convert.take(y, index)
        else:
            yield convert.take(x, index), convert.take(y, index), sample_weight[index]


def fit(model, x, y, batch_size: int, epochs: int, verbose: int, callbacks: list[Callback],
        validation_data, shuffle: bool, initial_epoch: int, steps_per_epoch: int | None,
        validation_steps: int | None, seed: int | None = None, distribute=None, sample_weight=None,
        class_weight=None, validation_freq: int = 1) -> History:
    """Train `model` (compiled, its data converted and checked by `Trainer.fit`); returns its History.
    Callbacks run in the order given, then History (so it records what they log), as in Keras."""
    history = History()
    callbacks = [*callbacks, history]
    steps = steps_per_epoch if is_iterator(x) else -(-convert.num_samples(x) // batch_size)
    for cb in callbacks:
        cb.set_model(model)
        cb.set_params({"epochs": epochs, "steps": steps, "batch_size": batch_size, "verbose": verbose})
    shard = distributed.Shard(model, batch_size) if distributed.wanted(distribute) else None
    if shard is not None:  # one seed for every rank, so all draw the same global batches
        seed, verbose = shard.shared_seed(seed), verbose if shard.rank == 0 else 0
    # Shuffling follows NumPy's global seed (np.random.seed) unless fit is given its own seed.
    rng = np.random.default_rng(seed if seed is not None else np.random.randint(0, 2**31 - 1))
    progress = EpochProgress(verbose, epochs, steps)
    train_function = model.make_train_function()
    model.stop_training = False
    trained = 0  # batches over the whole fit
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
            batches = _epoch_batches(model, x, y, batch_size, shuffle, rng, steps, shard, sample_weight, class_weight)
            for b, batch in enumerate(batches):
                if batch is None:
                    ran_out = True
                    break
                trained += 1
                for cb in callbacks:
                    cb.on_train_batch_begin(b, logs={})
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
                logs = model.metrics_result({k: v / seen for k, v in totals.items()})  # RMSE: root of the mean
                progress.advance(logs)
                for cb in callbacks:
                    cb.on_train_batch_end(b, logs=logs)
                if model.stop_training and shard is None:  # TerminateOnNaN: the epoch ends here, as in Keras
                    break  # (distributed: at the epoch's end, when the ranks agree, so no rank waits alone)
            if ran_out:
                if not trained:
                    raise ValueError(no_batch_message("fit", f"steps_per_epoch={steps_per_epoch}"))
                warnings.warn(ran_out_message("fit", trained, f"steps_per_epoch * epochs = "
                                              f"{steps_per_epoch * (epochs - initial_epoch)}", "training"),
                              UserWarning, stacklevel=3)
                model.stop_training = True
                if not seen:  # nothing trained in this epoch: no epoch to report
                    break
            logs = model.metrics_result({k: v / max(seen, 1) for k, v in totals.items()})
            model.eval()
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                with distributed.whole_states(shard):  # every rank validates the whole stateful batch
                    logs.update(_validate(model, validation_data, batch_size, validation_steps))
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            progress.end_epoch(epoch, logs)  # after the callbacks, so it shows what they log (learning_rate)
            if shard is not None:
                model.stop_training = shard.agree(model.stop_training)  # rank 0 decides, every rank follows
            if model.stop_training:
                break
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
        if is_iterator(x):
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


def _validate(model, validation_data, batch_size: int, validation_steps: int | None) -> dict[str, float]:
    # Validation continues from the training states but must not disturb them: snapshot and restore.
    with preserved(model):
        if is_iterator(validation_data):
            validation_steps = validation_steps or batches_per_pass(validation_data)
            if not validation_steps:
                raise ValueError("validation_data is a generator: pass validation_steps (batches per epoch).")
            values = evaluate_batches(model, validation_data, validation_steps, "fit (validation_data)")
        else:
            values = evaluate_arrays(model, *validation_data[:3], batch_size=batch_size)
    return {f"val_{k}": v for k, v in values.items()}


def evaluate_batches(model, batches, steps: int | None, where: str = "evaluate") -> dict[str, float]:
    """Row-weighted mean of test_step over `steps` batches of a generator (fewer, with Keras's warning,
    if it runs out)."""
    if not steps:
        raise ValueError("x is a generator: pass steps (batches to evaluate).")
    model.eval()
    totals, seen = {}, 0
    for done in range(steps):
        batch = next_batch(batches, where)
        if batch is None:
            if not done:
                raise ValueError(no_batch_message(where, f"steps={steps}"))
            warnings.warn(ran_out_message(where, done, f"steps = {steps}", "evaluation"), UserWarning,
                          stacklevel=3)
            break
        batch = convert_batch(model, batch, where, finite=False)
        values = model.test_step(batch)
        n = convert.num_samples(batch[0])
        seen += n
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + v * n
    return model.metrics_result({k: v / seen for k, v in totals.items()})


def evaluate_arrays(model, x, y, sample_weight=None, batch_size: int = 32) -> dict[str, float]:
    """Mean of test_step over converted (x, y[, sample_weight]), in order, each batch weighted by its rows."""
    model.eval()
    totals, n = {}, convert.num_samples(x)
    for index in batch_indices(n, batch_size, False, None):
        batch = (convert.take(x, index), convert.take(y, index))
        values = model.test_step(batch if sample_weight is None else (*batch, sample_weight[index]))
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + v * len(index)
    return model.metrics_result({k: v / n for k, v in totals.items()})
