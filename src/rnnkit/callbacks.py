"""Callbacks for `fit`: History (always on), EarlyStopping, ModelCheckpoint, ResetStates, LambdaCallback."""

from __future__ import annotations

import math

from . import checks


def _sign(monitor: str, mode: str) -> float:
    """+1 when a lower `monitor` is better, -1 when higher is ('auto': accuracies go up)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', received {mode!r}.")
    return -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0


class Callback:
    """Hooks called by `fit`; `self.model` is set before training starts."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch: int, logs=None): ...
    def on_epoch_end(self, epoch: int, logs=None): ...
    def on_batch_begin(self, batch: int, logs=None): ...
    def on_batch_end(self, batch: int, logs=None): ...


class History(Callback):
    """Per-epoch metrics: `history.history["loss"]`, `["val_loss"]`, ...; `history.epoch`."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False):
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.sign = _sign(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.stopped_epoch, self.best_state = math.inf, 0, None, None

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.stopped_epoch = math.inf, 0, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit does not log; logged: "
                             f"{sorted(logs or {})}. Pass validation data for val_ metrics.")
        score = self.sign * value
        if score < self.best - self.min_delta:
            self.best, self.wait = score, 0
            if self.restore_best_weights:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait > self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_state is not None:
            self.model.load_state_dict(self.best_state)


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


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when `monitor` improves), atomically.

    `filepath` may hold format fields: "ckpt-{epoch:02d}-{val_loss:.3f}.rnnkit". The file holds the
    kept states too, so a stateful model resumes mid-sequence after `rnnkit.load`.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", period: int = 1):
        if not isinstance(period, int) or period < 1:
            raise ValueError(f"period (save every N epochs) must be a positive integer, received {period!r}.")
        checks.rnnkit_file(filepath, "ModelCheckpoint")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.sign = _sign(monitor, mode)
        self.best = math.inf
        self.period = period  # Keras 2's spelling (seed 002): check every `period` epochs
        self.saved: list[str] = []  # paths written, in order

    def on_train_begin(self, logs=None):
        self.best = math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if (epoch + 1) % self.period:
            return
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} names a field fit does not log "
                             f"({err}); logged: epoch, {', '.join(sorted(logs))}.") from None
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, which fit does not log; logged: "
                                 f"{sorted(logs)}. Pass validation data for val_ metrics.")
            if not self.sign * value < self.best:
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved to {value:.5g}, saving to {path}")
            self.best = self.sign * value
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.saved.append(path)


class LambdaCallback(Callback):
    """Callbacks from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        for name, fn in list(locals().items()):
            if name != "self" and fn is not None:
                setattr(self, name, fn)
