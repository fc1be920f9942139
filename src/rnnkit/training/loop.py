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
from .batches import BatchSource, is_batch_source, is_iterator, pair, source_name
from .progress import EpochProgress

Tensor = torch.Tensor


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: np.random.Generator | None) -> list[np.ndarray]:
    order = generator.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


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
    first = lambda a, s: [None if v is None else v[s] for v in a] if isinstance(a, (list, tuple)) else a[s]
    train, held = slice(0, cut), slice(cut, n)
    if sample_weight is None:
        return first(x, train), first(y, train), None, (first(x, held), first(y, held))
    return (first(x, train), first(y, train), take_weights(sample_weight, train),
            (first(x, held), first(y, held), take_weights(sample_weight, held)))


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


def sample_weights(sample_weight, n: int, device, where: str) -> Tensor:
    """sample_weight as a float tensor with one row per sample, checked (finite)."""
    w = convert.to_tensor(sample_weight, device, integers_as_float=True).float()
    if w.dim() == 0 or w.shape[0] != n:
        raise ValueError(f"{where}: sample_weight must have one row per sample ({n}), received shape "
                         f"{tuple(w.shape)}. Pass shape ({n},) (a weight per sample) or ({n}, time_steps) (per step).")
    if not bool(torch.isfinite(w).all()):
        raise ValueError(f"{where}: sample_weight holds NaN or infinite values; give finite weights.")
    return w


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


def take_targets(y, index):
    """Rows `index` of y: a tensor, or one per output (None for an output without targets)."""
    if isinstance(y, (list, tuple)):
        return [None if t is None else convert.take(t, index) for t in y]
    return convert.take(y, index)


def take_weights(sample_weight, index):
    """Rows `index` of a sample_weight tensor, or of each output's (a list or dict of them)."""
    if isinstance(sample_weight, dict):
        return {k: w[index] for k, w in sample_weight.items()}
    if isinstance(sample_weight, (list, tuple)):
        return [None if w is None else w[index] for w in sample_weight]
    return sample_weight[index]


def _hooks(callbacks: list, name: str, *args) -> None:
    """Call hook `name` of every callback that has it (evaluate's and predict's hooks are Keras 3's
    additions, so a duck-typed callback of fit's may lack them)."""
    for cb in callbacks:
        hook = getattr(cb, name, None)
        if hook is not None:
            hook(*args)


def fit(model, x, y, batch_size: int, epochs: int, verbose: int, callbacks: list[Callback],
        validation_data, shuffle: bool, initial_epoch: int, steps_per_epoch: int | None,
        validation_steps: int | None, seed: int | None = None, distribute=None, sample_weight=None,
        class_weight=None, validation_freq: int = 1) -> History:
    """Train `model` (compiled, its data converted and checked by `Trainer.fit`); returns its History.
    Callbacks run in the order given, then History (so it records what they log), as in Keras; they see
    validation through their test hooks, as Keras's fit runs evaluate with them."""
    history = History()
    callbacks = [*callbacks, history]
    source = BatchSource(x, steps_per_epoch) if is_batch_source(x) else None
    steps = source.steps_per_epoch if source is not None else -(-convert.num_samples(x) // batch_size)
    if is_batch_source(validation_data):
        validation_data = BatchSource(validation_data, validation_steps)
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
            batches = _epoch_batches(model, x, y, batch_size, shuffle, rng, source, shard, sample_weight,
                                     class_weight)
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
                    raise ValueError(no_batch_message("fit", f"steps_per_epoch={steps_per_epoch}", x))
                needed = None if steps_per_epoch is None else \
                    f"steps_per_epoch * epochs = {steps_per_epoch * (epochs - initial_epoch)}"
                warnings.warn(ran_out_message("fit", trained, needed, "training", x), UserWarning, stacklevel=3)
                model.stop_training = True
                if not seen:  # nothing trained in this epoch: no epoch to report
                    break
            logs = model.metrics_result({k: v / max(seen, 1) for k, v in totals.items()})
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


def array_batches(x, y, sample_weight=None, batch_size: int = 32) -> Iterator[tuple]:
    """Converted (x, y[, sample_weight]) in order, `batch_size` rows at a time."""
    for index in batch_indices(convert.num_samples(x), batch_size, False, None):
        batch = (convert.take(x, index), take_targets(y, index))
        yield batch if sample_weight is None else (*batch, take_weights(sample_weight, index))


def evaluate(model, batches, callbacks: list | None = None) -> dict[str, float]:
    """Keras's test loop: test_step on each batch, the logs the row-weighted mean of its values so far
    (what on_test_batch_end sees), with the test hooks; `model.stop_evaluating = True` in a callback
    ends it after that batch."""
    callbacks = callbacks or []
    model.eval()
    model.stop_evaluating = False
    _hooks(callbacks, "on_test_begin", {})
    totals, seen, logs = {}, 0, {}
    for step, batch in enumerate(batches):
        _hooks(callbacks, "on_test_batch_begin", step, {})
        values = model.test_step(batch)
        n = convert.num_samples(batch[0])
        seen += n
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + v * n
        logs = model.metrics_result({k: v / seen for k, v in totals.items()})
        _hooks(callbacks, "on_test_batch_end", step, dict(logs))
        if model.stop_evaluating:
            break
    _hooks(callbacks, "on_test_end", dict(logs))
    return logs


def predict(model, batches, callbacks: list | None = None) -> list:
    """Keras's predict loop: predict_step on each converted x, as NumPy, with the predict hooks
    (on_predict_batch_end gets {"outputs": ...}); `model.stop_predicting = True` ends it."""
    callbacks = callbacks or []
    model.eval()
    model.stop_predicting = False
    _hooks(callbacks, "on_predict_begin", {})
    chunks = []
    for step, xb in enumerate(batches):
        _hooks(callbacks, "on_predict_batch_begin", step, {})
        out = convert.to_numpy(model.predict_step((xb, None)))
        chunks.append(out)
        _hooks(callbacks, "on_predict_batch_end", step, {"outputs": out})
        if model.stop_predicting:
            break
    _hooks(callbacks, "on_predict_end", {})
    return chunks
