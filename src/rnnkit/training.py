"""The fit loop, read top to bottom: batches, one optimisation step each, epoch logs, validation."""

from __future__ import annotations

import warnings
from typing import Iterator

import numpy as np
import torch

from .callbacks import Callback, History
from .progress import EpochProgress

Tensor = torch.Tensor


def check_finite(arr, what: str) -> None:
    """Refuse NaN/inf, naming the first bad index (it would silently turn every weight into NaN)."""
    if isinstance(arr, (list, tuple)):
        for k, a in enumerate(arr):
            check_finite(a, f"{what}[{k}]")
        return
    a = arr.detach().cpu().numpy() if isinstance(arr, Tensor) else np.asarray(arr)
    if a.dtype.kind != "f":
        return
    if a.size and bool(_shared_tensor(a).sum().isfinite()):
        return  # fast path: a NaN or inf anywhere makes the sum non-finite (an overflow only sends us on)
    bad = ~np.isfinite(a)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what} contains NaN or inf (first at index {index}, value {a[index]}); "
                         "training on it would turn every weight into NaN. Drop or impute those values "
                         "first, e.g. rnnkit.data.windows(..., nan='interpolate').")


def num_samples(x) -> int:
    return len(x[0]) if isinstance(x, (list, tuple)) else len(x)


def take(x, index):
    """Rows `index` of an array, a tensor, or each of a list of them, as tensors."""
    from .layers.recurrent import as_tensor
    if isinstance(x, (list, tuple)):
        return [take(a, index) for a in x]
    if isinstance(x, Tensor):
        return x[torch.as_tensor(index)]
    return as_tensor(np.asarray(x)[index])


def as_tensors(x):
    """Arrays as tensors once per fit, so that each batch is one index into a tensor, not a NumPy
    gather plus a conversion. Floats become float32 (the per-batch path did the same), integers keep
    their type (class ids for sparse_categorical_crossentropy)."""
    if isinstance(x, (list, tuple)):
        return [as_tensors(a) for a in x]
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fbiu":
        return x
    return _shared_tensor(arr, torch.float32 if arr.dtype.kind == "f" else None)


def _shared_tensor(arr: np.ndarray, dtype=None) -> Tensor:
    """A tensor on the array's memory (a copy only if dtype differs), to be read, never written."""
    with warnings.catch_warnings():
        # windows() hands out read-only strided views; the tensor shares them and is only read
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(arr, dtype=dtype)


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: np.random.Generator) -> list[np.ndarray]:
    order = generator.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def is_iterator(x) -> bool:
    return hasattr(x, "__next__")


def split_validation(x, y, validation_split: float):
    """Keras's validation_split: the last fraction of the samples, taken before any shuffling."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}.")
    n = num_samples(x)
    cut = int(n * (1.0 - validation_split))
    if cut in (0, n):
        raise ValueError(f"validation_split={validation_split} leaves {cut} training samples of {n}.")
    first = lambda a, s: [v[s] for v in a] if isinstance(a, (list, tuple)) else a[s]
    return first(x, slice(0, cut)), first(y, slice(0, cut)), (first(x, slice(cut, n)), first(y, slice(cut, n)))


def _epoch_batches(x, y, batch_size, shuffle, rng, steps) -> Iterator[tuple]:
    if is_iterator(x):
        for _ in range(steps):  # never read the generator past what the epoch needs
            xb, yb = next(x)
            yield xb, yb
        return
    x, y = as_tensors(x), as_tensors(y)
    for index in batch_indices(num_samples(x), batch_size, shuffle, rng):
        yield take(x, index), take(y, index)


def fit(model, x, y, batch_size: int, epochs: int, verbose: int, callbacks: list[Callback],
        validation_data, shuffle: bool, initial_epoch: int, steps_per_epoch: int | None,
        validation_steps: int | None, seed: int | None = None) -> History:
    """Train `model` (already compiled and checked by `Model.fit`); returns its History."""
    history = History()
    callbacks = [history, *callbacks]
    for cb in callbacks:
        cb.set_model(model)
    steps = steps_per_epoch if is_iterator(x) else -(-num_samples(x) // batch_size)
    history.params = {"epochs": epochs, "steps": steps, "batch_size": batch_size}
    # Shuffling follows NumPy's global seed (np.random.seed) unless fit is given its own seed.
    rng = np.random.default_rng(seed if seed is not None else np.random.randint(0, 2**31 - 1))
    progress = EpochProgress(verbose, epochs, steps)
    model.stop_training = False
    for cb in callbacks:
        cb.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        progress.start_epoch(epoch)
        totals: dict[str, float] = {}
        seen = 0
        for b, (xb, yb) in enumerate(_epoch_batches(x, y, batch_size, shuffle, rng, steps)):
            for cb in callbacks:
                cb.on_batch_begin(b)
            values = model._train_step(xb, yb)  # {"loss": ..., metrics...}
            n = num_samples(xb)
            seen += n
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * n
            logs = {k: v / seen for k, v in totals.items()}
            progress.advance(logs)
            for cb in callbacks:
                cb.on_batch_end(b, logs)
        logs = {k: v / max(seen, 1) for k, v in totals.items()}
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
    with model.preserve_states():
        if is_iterator(validation_data):
            if not validation_steps:
                raise ValueError("validation_data is a generator: pass validation_steps (batches per epoch).")
            totals, seen = {}, 0
            for _ in range(validation_steps):
                xb, yb = next(validation_data)
                values = model._evaluate_batch(xb, yb)
                n = num_samples(xb)
                seen += n
                for k, v in values.items():
                    totals[k] = totals.get(k, 0.0) + v * n
            values = {k: v / seen for k, v in totals.items()}
        else:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or a generator of batches.")
            values = model._evaluate_arrays(validation_data[0], validation_data[1], batch_size)
    return {f"val_{k}": v for k, v in values.items()}


def train_step(model, xb, yb) -> dict[str, float]:
    """One optimisation step on one batch: forward, loss, backward, clip, update.

    With `compile(..., jit_compile=True)` forward, loss and backward run as one compiled graph
    (`compiled_step.py`); clipping and the update are the same either way."""
    if not model.training:
        model.train()
    compiled = model._compiled_step()
    result = compiled(xb, yb) if compiled is not None else None
    if result is None:
        out = model._training_forward(xb, yb)
        yb = model._targets(yb, out)
        loss = model.loss_fn(yb, out)
        optimizer = model._ensure_optimizer()  # after the forward, which builds lazily sized weights
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    else:
        loss, out, yb, updated = result  # updated: the graph did Adam's update too
        optimizer = None if updated else model._ensure_optimizer()
    if optimizer is not None:
        spec = model._optimizer_spec
        if getattr(spec, "clipnorm", None):
            torch.nn.utils.clip_grad_norm_(model.parameters(), spec.clipnorm)
        if getattr(spec, "clipvalue", None):
            torch.nn.utils.clip_grad_value_(model.parameters(), spec.clipvalue)
        optimizer.step()
    values = {"loss": float(loss.detach())}
    if model.metric_fns:
        with torch.no_grad():
            for fn, name in model.metric_fns:
                values[name] = float(fn(yb, out))
    return values
