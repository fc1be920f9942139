"""Keras 3's callbacks for `fit` (keras/src/callbacks/*.py), with its semantics: History (always on, called
after the user's callbacks so it records what they log), EarlyStopping, ModelCheckpoint,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN, LambdaCallback; and rnnkit's ResetStates.
"""

from __future__ import annotations

import collections
import csv
import math
import os
import warnings

import numpy as np
import torch.distributed as dist

from .. import checks, optimizers


class Callback:
    """Hooks called by `fit` (and by `evaluate` and `predict`, and by fit's validation: the test hooks);
    `self.model` is set before they run, `self.params` holds epochs, steps and batch_size.
    `on_train_batch_begin/end` default to Keras 2's `on_batch_begin/end`; every hook gets a logs dict
    (on_test_batch_end the running loss and metrics, on_predict_batch_end {"outputs": ...})."""

    model = None
    params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch: int, logs=None): ...
    def on_epoch_end(self, epoch: int, logs=None): ...
    def on_batch_begin(self, batch: int, logs=None): ...
    def on_batch_end(self, batch: int, logs=None): ...

    def on_train_batch_begin(self, batch: int, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch: int, logs=None): ...
    def on_test_batch_end(self, batch: int, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch: int, logs=None): ...
    def on_predict_batch_end(self, batch: int, logs=None): ...


def _less(a, b) -> bool:
    return a < b


def _greater(a, b) -> bool:
    return a > b


class MonitorCallback(Callback):
    """What EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share (keras/src/callbacks/monitor_callback.py):
    which way `monitor` improves, and by how much it must. mode "auto" reads it from the loss (down) or the
    compiled metric of that name (its direction: an accuracy up, an error down); anything else is a
    ValueError asking for mode="min"/"max"."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.best, self.min_delta = monitor, mode, baseline, abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            self.monitor_op = _less
        elif self.mode == "max":
            self.monitor_op = _greater
        else:
            name = self.monitor.removeprefix("val_")
            # each compiled metric says which way it improves (Keras's Metric._direction)
            directions = {metric_name: getattr(metric, "_direction", None)
                          for metric, metric_name in getattr(self.model, "metric_fns", [])}
            if name == "loss" or directions.get(name) == "down":
                self.monitor_op = _less
            elif directions.get(name) == "up":
                self.monitor_op = _greater
            else:
                raise ValueError(f"{type(self).__name__} callback received monitor={self.monitor}, but Keras isn't "
                                 "able to automatically determine whether that metric should be maximized or "
                                 "minimized. Pass `mode='max'` in order to monitor based on the highest metric value, "
                                 "or pass `mode='min'` in order to use the lowest value.")
        if self.monitor_op is _less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


class History(Callback):
    """Per-epoch logs: `history.history["loss"]`, `["val_loss"]`, ...; `history.epoch`; also `model.history`."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


def _get_weights(model):
    if hasattr(model, "get_weights"):
        return model.get_weights()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _set_weights(model, weights) -> None:
    if hasattr(model, "set_weights"):
        model.set_weights(weights)
    else:
        model.load_state_dict(weights)


class EarlyStopping(MonitorCallback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs (never at epoch
    0, nor before `start_from_epoch`). With a `baseline`, patience runs until the baseline is beaten.
    `restore_best_weights` puts back the weights of the best epoch when training ends."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0

    def on_train_begin(self, logs=None):  # a callback reused across fit calls starts afresh
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. Available "
                          f"metrics are: {','.join(logs or {})}", stacklevel=2)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = _get_weights(self.model), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _get_weights(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0  # only when it beats both the baseline and the previous best
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            _set_weights(self.model, self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model every epoch (or every `save_freq` batches; Keras 2's `period`: every N epochs), or
    with save_best_only only when `monitor` improves on the best so far (`initial_value_threshold` to start
    from), atomically.

    `filepath` may hold format fields: "ckpt-{epoch:02d}-{val_loss:.3f}.rnnkit". The file holds the
    kept states too, so a stateful model resumes mid-sequence after `rnnkit.load`.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold=None, period: int = 1):
        if not isinstance(period, int) or period < 1:
            raise ValueError(f"period (save every N epochs) must be a positive integer, received {period!r}.")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only and str(filepath).lower().endswith(".keras"):
            raise ValueError("When using save_weights_only=True in ModelCheckpoint, the filepath must not name a "
                             "whole-model .keras file: end it in .weights.h5 (Keras's weights format) or .rnnkit. "
                             f"Received: filepath={filepath}")
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath, self.verbose = str(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq, self.period = save_freq, period
        self.saved: list[str] = []  # paths written, in order
        self._epoch, self._batches_since_save, self._last_batch = 0, 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        new_epoch = self._last_batch is None or batch <= self._last_batch
        self._batches_since_save += batch + 1 if new_epoch else batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch" and (epoch + 1) % self.period == 0:
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: dict) -> None:
        fields = dict(logs, epoch=epoch + 1) if batch is None else dict(logs, epoch=epoch + 1, batch=batch + 1)
        try:
            path = self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} names a field fit does not log "
                             f"({err}); logged: epoch, {', '.join(sorted(logs))}.") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:  # Keras saves anyway (model_checkpoint.py, _should_save_model)
                warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            elif self._is_improvement(current, self.best):
                if self.verbose > 0:
                    best = "None" if self.best is None else f"{self.best:.5f}"
                    print(f"Epoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model "
                          f"to {path}")
                self.best = current
            else:
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.saved.append(path)


def _optimizer(model):
    """The model's torch optimizer, or before it exists (its weights are made by the first batch) the
    OptimizerSpec it will be built from: either holds the learning rate a callback reads and sets."""
    if not model.optimizer_built and isinstance(model.optimizer_config, optimizers.OptimizerSpec):
        return model.optimizer_config
    return model.optimizer


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` (down to `min_lr`) once `monitor` has not improved by
    `min_delta` for `patience` epochs, then wait `cooldown` epochs. Logs "learning_rate" every epoch."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor, self.min_lr, self.patience, self.verbose = factor, min_lr, patience, verbose
        self.cooldown = cooldown
        self.cooldown_counter, self.wait = 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _reduce(self, epoch: int) -> bool:
        reduced = False
        for name, optimizer in optimizers.learning_rate_owners(_optimizer(self.model)):  # each of a MultiOptimizer's
            old_lr = optimizers.get_learning_rate(optimizer)
            if old_lr <= np.float32(self.min_lr):
                continue
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizers.set_learning_rate(optimizer, new_lr)
            if self.verbose > 0:
                which = "" if name is None else f" {name}"
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{which} learning rate to {new_lr}.")
            reduced = True
        return reduced

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        log_learning_rates(self.model, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate to schedule(epoch, lr) (or schedule(epoch)) at the start of every epoch;
    logs "learning_rate" every epoch."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        for name, optimizer in optimizers.learning_rate_owners(_optimizer(self.model)):  # each of a MultiOptimizer's
            try:  # Keras tries the two-argument form first and falls back on any TypeError
                learning_rate = self.schedule(epoch, optimizers.get_learning_rate(optimizer))
            except TypeError:
                learning_rate = self.schedule(epoch)
            if not isinstance(learning_rate, (float, np.float32, np.float64)):
                raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
            optimizers.set_learning_rate(optimizer, float(learning_rate))
            if self.verbose > 0:
                which = "" if name is None else f" {name}"
                print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting{which} learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            log_learning_rates(self.model, logs)


def log_learning_rates(model, logs: dict) -> None:
    """logs["learning_rate"], or for a MultiOptimizer Keras's logs["learning_rate_<name>"] of each inner one."""
    for name, optimizer in optimizers.learning_rate_owners(_optimizer(model)):
        logs["learning_rate" if name is None else f"learning_rate_{name}"] = optimizers.get_learning_rate(optimizer)


class CSVLogger(Callback):
    """One CSV row per epoch: "epoch" (from 0) and the logs in sorted order, "NA" where an epoch lacks one
    (with no validation, the val_ columns are still written, as Keras does); `append` continues a file."""

    def __init__(self, filename, separator=",", append=False):
        self.sep, self.filename, self.append = separator, os.fspath(filename), append
        self.writer, self.keys, self.append_header, self.csv_file = None, None, True, None

    def on_train_begin(self, logs=None):
        if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
            self.csv_file = None  # a distributed fit: rank 0 writes the file (every rank has the same logs)
            return
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not bool(len(f.readline()))
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer, self.keys = None, None

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None:
            return
        logs = logs or {}

        def handle_value(k):
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not (isinstance(k, np.ndarray) and k.ndim == 0):
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if not self.writer:
            dialect = type("CustomDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch, **{key: handle_value(logs.get(key, "NA")) for key in self.keys}}
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite (`raise_error=True`: raise a
    RuntimeError there instead, so no callback's on_train_end runs)."""

    def __init__(self, raise_error: bool = False):
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                                   "Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class ResetStates(Callback):
    """Reset a stateful model's states at the start of every epoch (or every N batches).

    The seeds' `for i in range(100): model.fit(..., epochs=1, shuffle=False); model.reset_states()`
    becomes `model.fit(..., epochs=100, shuffle=False, callbacks=[ResetStates()])`.
    """

    def __init__(self, every: str | int = "epoch"):
        if every != "epoch" and not (isinstance(every, int) and every > 0):
            raise ValueError(f"every must be 'epoch' or a positive number of batches, received {every!r}.")
        self.every = every

    def on_epoch_begin(self, epoch, logs=None):
        if self.every == "epoch":
            self.model.reset_states()

    def on_batch_begin(self, batch, logs=None):
        if isinstance(self.every, int) and batch % self.every == 0:
            self.model.reset_states()


class LambdaCallback(Callback):
    """Callbacks from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...). Keras 2's
    on_batch_begin/on_batch_end are accepted too; other keyword arguments become attributes, as in Keras."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, on_batch_begin=None, on_batch_end=None,
                 **kwargs):
        self.__dict__.update(kwargs)
        for name, fn in list(locals().items()):
            if name not in ("self", "kwargs") and fn is not None:
                setattr(self, name, fn)
