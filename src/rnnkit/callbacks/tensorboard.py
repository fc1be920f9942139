"""Keras 3's TensorBoard callback (keras/src/callbacks/tensorboard.py), writing through PyTorch's
SummaryWriter (`torch.utils.tensorboard`, which needs the `tensorboard` package: `pip install
rnnkit[tensorboard]`).

The same files and tags as Keras, so TensorBoard shows a ported script's runs as Keras's:
- `log_dir/train`: `epoch_<name>` for every log of the epoch that is not validation, plus
  `epoch_learning_rate` (and `epoch_steps_per_second` with write_steps_per_second), at step = epoch;
  with `update_freq="batch"` or N, `batch_<name>` every N-th batch at the global batch number;
  with `histogram_freq=N`, `<layer>/<weight>/histogram` every N epochs.
- `log_dir/validation`: `epoch_<name>` for each `val_<name>`, and after every evaluation run inside fit
  `evaluation_<name>_vs_iterations` at the optimizer's iteration count.
`write_graph=True` writes the model's summary as text (Keras writes its config; a PyTorch graph would
need a traced example input). Profiling (`profile_batch`) is refused, as Keras refuses it on its
PyTorch backend; embeddings (`embeddings_freq`) are TensorFlow's projector, which rnnkit does not write.
"""

from __future__ import annotations

import os
import time

import torch

from .core import Callback, log_learning_rates


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard needs the tensorboard package, which torch.utils.tensorboard writes "
                          "with: pip install tensorboard (or rnnkit[tensorboard]).") from None
    return SummaryWriter


class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq="epoch", profile_batch=0, embeddings_freq: int = 0,
                 embeddings_metadata=None):
        super().__init__()
        if type(histogram_freq) is not int or histogram_freq < 0:
            raise ValueError(f"histogram_freq must be an integer >= 0 (epochs between weight histograms; 0: none), "
                             f"received {histogram_freq!r}.")
        if update_freq not in ("epoch", "batch") and (type(update_freq) is not int or update_freq < 1):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or a positive integer (batches between batch "
                             f"logs), received {update_freq!r}.")
        if profile_batch:
            raise ValueError("Profiling is not available with the PyTorch backend (as in Keras on torch). Received: "
                             f"profile_batch={profile_batch} (must be 0). Use torch.profiler around fit instead.")
        if embeddings_freq:
            raise ValueError(f"embeddings_freq={embeddings_freq}: embedding projections are TensorFlow's projector "
                             "plugin, which rnnkit does not write. Use embeddings_freq=0.")
        self._writer_class = _summary_writer()
        self.log_dir = str(log_dir)
        self.histogram_freq, self.write_graph, self.write_images = histogram_freq, write_graph, write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict[str, object] = {}
        self._global_train_batch = 0
        self._epoch_start = self._batch_start = 0.0
        self._epoch_batches = 0

    # -- writers (made when first written to, as Keras makes them lazily) -----------------------------
    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = self._writer_class(log_dir=os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._close()
        if self.write_graph and hasattr(model, "summary"):
            lines: list[str] = []
            model.summary(print_fn=lines.append)
            self._writer("train").add_text("keras", "\n".join("    " + line for line in lines), 0)

    # -- hooks ----------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.time(), 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_batches += 1
        self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second", 1.0 / max(time.time() - self._batch_start, 1e-9), step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None) if getattr(self.model, "optimizer_built", False) else None
        if optimizer is None or not logs:
            return
        step = int(getattr(optimizer, "iterations", 0))  # Keras's optimizer.iterations (a bare torch one: 0)
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if self.model.compiled and not any(k.startswith("learning_rate") for k in train):
            log_learning_rates(self.model, train)  # a MultiOptimizer's: learning_rate_<name> each
        if self.write_steps_per_second:
            train["steps_per_second"] = self._epoch_batches / max(time.time() - self._epoch_start, 1e-9)
        for which, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for name, weight in layer.named_parameters():
                tag = f"{getattr(layer, 'name', type(layer).__name__)}/{name.replace('.', '/')}"
                values = weight.detach().float().cpu()
                writer.add_histogram(f"{tag}/histogram", values, epoch)
                if self.write_images:
                    writer.add_image(f"{tag}/image", _as_image(values), epoch, dataformats="HW")


def _as_image(weight: torch.Tensor) -> torch.Tensor:
    # Keras's _log_weight_as_image: a bias is a row, a kernel its matrix (transposed if taller than wide),
    # scaled to [0, 1] for display.
    w = weight.squeeze()
    w = w.reshape(1, -1) if w.dim() <= 1 else w.reshape(w.shape[0], -1)
    if w.shape[0] > w.shape[1]:
        w = w.t()
    low, high = w.min(), w.max()
    return (w - low) / (high - low) if high > low else torch.zeros_like(w)
