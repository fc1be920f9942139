"""Keras's training API on top of the steps: fit, evaluate, predict and the *_on_batch calls.

Each converts its data once at the boundary (`rnnkit.convert`), checks it, and runs the model's
`train_step` / `test_step` / `predict_step` (`training/steps.py`) batch by batch (`training/loop.py` for fit,
`training/evaluate_predict.py` for evaluate and predict).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import checks, convert
from ..callbacks import Callback, History
from ..utils.py_dataset import PyDataset
from . import evaluate_predict, loop
from .arrays import array_batches, batch_indices, split_validation
from .batches import BatchSource, is_batch_source, no_batch_message, predict_input, ran_out_message, source_batches
from .steps import Steps
from .weighting import class_weights_to_sample_weights, sample_weights


def _concat(chunks: list):
    if isinstance(chunks[0], list):
        return [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
    return np.concatenate(chunks)


class Trainer(Steps):
    """compile / fit / evaluate / predict and the per-batch steps; models inherit it."""

    # -- Keras API ------------------------------------------------------------------------------------
    def _batch_size(self, batch_size: int | None, n: int | None, what: str) -> int:
        if batch_size is None:
            kept = [layer.states[0].shape[0] for layer in self.recurrent_layers()
                    if layer.stateful and layer.states is not None]
            batch_size = self._fixed_batch_size() or (kept[0] if kept else 32)
        batch_size = checks.positive_int("batch_size", batch_size, what)
        if self.stateful and n is not None and n % batch_size:
            raise ValueError(
                f"{what}: this model is stateful, so row i of each batch continues row i of the previous "
                f"batch; {n} samples do not split into batches of {batch_size} (remainder {n % batch_size}). "
                f"Use a batch_size that divides {n}, or trim the data to {n - n % batch_size} samples.")
        return batch_size

    def _data(self, x, y, where: str, finite: bool = True):
        """x (and y unless None) converted and checked: not empty, as many samples each, finite (the
        checks every entry point makes once, at the boundary)."""
        x = self.convert_x(x)
        convert.check_not_empty(x, "x", where)
        if finite:
            convert.check_finite(x, "x")
        if y is None:
            return x, None
        y = self.convert_y(y)
        n = convert.num_samples(x)
        for k, target in enumerate(y if self._output_losses is not None else [y]):  # one per output
            if target is None:
                continue
            what = "y" if self._output_losses is None else f"y[{k}]"
            convert.check_not_empty(target, what, where)
            if n != convert.num_samples(target):
                raise ValueError(f"{where}: x has {n} samples but {what} has {convert.num_samples(target)}; they must "
                                 "match (one target per sample).")
            if finite:
                convert.check_finite(target, what)
        return x, y

    def _fixed_batch_size(self) -> int | None:
        return None

    def _sample_weight(self, sample_weight, class_weight, y, n: int, where: str):
        """fit's sample_weight or class_weight as one float tensor with a row per sample (or None)."""
        if sample_weight is not None and class_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if class_weight is not None:
            if self._output_losses is not None:
                raise ValueError(f"{where}: `class_weight` is only supported for models with a single output "
                                 "(Keras's rule); this one has several. Pass sample_weight, one per output.")
            return class_weights_to_sample_weights(y, class_weight)
        if sample_weight is None:
            return None
        if self._output_losses is not None and isinstance(sample_weight, (list, tuple, dict)):
            per_output = self._per_output(sample_weight, "sample_weight")  # one per output, or None
            return [None if w is None else sample_weights(w, n, self.data_device(), where) for w in per_output]
        return sample_weights(sample_weight, n, self.data_device(), where)

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose: int = 1,
            callbacks: list[Callback] | None = None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None, validation_freq: int = 1,
            nb_epoch: int | None = None, seed: int | None = None, distribute=None) -> History:
        """Train for `epochs` passes over (x, y) (or `steps_per_epoch` batches of a generator).

        `sample_weight` (one weight per sample, or per sample and time step for a sequence output) or
        `class_weight` ({class: weight}) weigh the loss as Keras does: sum(loss * weight) / number of loss
        values, so the reported loss is the weighted one; metrics stay unweighted. `validation_data` may
        be (x, y) or (x, y, sample_weight); validation runs every `validation_freq` epochs.

        A stateful model carries its states from batch to batch (row i continues row i), so it needs
        `shuffle=False` and a sample count that `batch_size` divides.

        x may also be a generator or any iterable of batches (a DataLoader), read as it comes, or a
        `rnnkit.utils.PyDataset` (Keras's `Sequence`), whose batches `shuffle` reorders each epoch, as Keras.

        Under torchrun (or in a process group, or with ``distribute=DataParallel()``) fit trains on every
        rank, `batch_size` being the global batch (see `rnnkit.training.distributed`); ``distribute=False``
        trains this process alone.
        """
        self._require_compiled()
        if nb_epoch is not None:  # Keras 1 spelling (seed 000)
            epochs = checks.non_negative_int("nb_epoch", nb_epoch, "fit")
        epochs = checks.non_negative_int("epochs", epochs, "fit")
        initial_epoch = checks.non_negative_int("initial_epoch", initial_epoch, "fit")
        verbose = checks.verbosity(verbose, "fit")
        shuffle = checks.boolean("shuffle", shuffle, "fit")
        steps_per_epoch = checks.optional_positive_int("steps_per_epoch", steps_per_epoch, "fit", "batches per epoch")
        validation_steps = checks.optional_positive_int("validation_steps", validation_steps, "fit")
        validation_split = checks.rate("validation_split", validation_split, "fit",
                                       "the fraction of samples held out for validation")
        validation_freq = checks.positive_int("validation_freq", validation_freq, "fit")
        callbacks = list(callbacks or [])
        if is_batch_source(x):  # a generator, a DataLoader, any iterable of batches: one pass per epoch
            if y is not None:
                raise ValueError(f"fit: x is {type(x).__name__}, a source of (x, y) batches, so y must not be "
                                 "given separately (received y too). Yield (x_batch, y_batch) pairs and drop y.")
            if batch_size is not None:
                checks.positive_int("batch_size", batch_size, "fit")
            if sample_weight is not None:
                raise ValueError("fit: x is a generator, so sample_weight cannot be given separately: yield "
                                 "(x, y, sample_weight) batches.")
            shuffle = shuffle and isinstance(x, PyDataset)  # a PyDataset's batch order, as Keras; others as they come
            if self.stateful and shuffle:
                raise ValueError(
                    "fit: this model is stateful (row i of each batch continues row i of the previous batch), so "
                    "shuffling the PyDataset's batches would feed it pieces of unrelated sequences. Pass "
                    "shuffle=False.")
            validation_data = self._validation_data(validation_data)
            return loop.fit(self, x, None, batch_size or 0, epochs, verbose, callbacks, validation_data, shuffle,
                            initial_epoch, steps_per_epoch, validation_steps, seed, distribute,
                            class_weight=class_weight, validation_freq=validation_freq)
        if x is None or y is None:
            raise ValueError("fit needs x and y (or a generator of (x, y) batches as x).")
        x, y = self._data(x, y, "fit")
        n = convert.num_samples(x)
        sample_weight = self._sample_weight(sample_weight, class_weight, y, n, "fit")
        if validation_split and validation_data is None:
            x, y, sample_weight, validation_data = split_validation(x, y, validation_split, sample_weight)
            n = convert.num_samples(x)
        if self.stateful and shuffle:
            raise ValueError(
                "fit: this model is stateful (row i of each batch continues row i of the previous batch), "
                "so shuffling would feed it pieces of unrelated sequences. Pass shuffle=False.")
        batch_size = self._batch_size(batch_size, n, "fit")
        validation_data = self._validation_data(validation_data)
        return loop.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle,
                        initial_epoch, None, validation_steps, seed, distribute, sample_weight=sample_weight,
                        validation_freq=validation_freq)

    fit_generator = fit  # Keras 2 spelling (seed 002)

    def _validation_data(self, validation_data):
        """fit's validation_data converted and checked: (x, y) or (x, y, sample_weight), or a generator."""
        if validation_data is None or is_batch_source(validation_data):
            return validation_data
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3)):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
                             "or a generator of batches.")
        val_x, val_y = self._data(validation_data[0], validation_data[1], "fit (validation_data)", finite=False)
        convert.check_finite(val_x, "validation x")
        if len(validation_data) == 3 and validation_data[2] is not None:
            return val_x, val_y, self._sample_weight(validation_data[2], None, val_y, convert.num_samples(val_x),
                                                     "fit (validation_data)")
        return val_x, val_y

    def _result(self, values: dict, return_dict: bool):
        """Keras's return value: the logs as a dict, else the loss alone or a list in Keras's order
        (`_flatten_metrics_in_order`): the loss, each output's loss, the metrics whose log name is their
        own name, then the other logs sorted by name (an output's "dense_mse")."""
        if return_dict:
            return dict(values)
        if len(values) == 1:
            return values["loss"]
        known = ["loss", *[e.log_name for e in (self._output_losses or [])], *[m.name for m, _ in self.metric_fns]]
        known = [k for k in dict.fromkeys(known) if k in values]
        if self._output_losses is None:
            known += [k for k in values if k not in known]  # one output: the logs' own order
        return [values[k] for k in known] + [values[k] for k in sorted(values) if k not in known]

    def _callbacks(self, callbacks, verbose: int, steps: int | None) -> list:
        """evaluate's and predict's callbacks, given the model and params as Keras's CallbackList does."""
        callbacks = list(callbacks or [])
        for cb in callbacks:
            cb.set_model(self)
            cb.set_params({"verbose": verbose, "epochs": 1, "steps": steps})
        return callbacks

    def evaluate(self, x, y=None, batch_size: int | None = None, verbose: int = 0, sample_weight=None,
                 steps: int | None = None, callbacks: list | None = None, return_dict: bool = False):
        """The loss (and metrics, as a list [loss, *metrics]) on (x, y), the loss weighted by `sample_weight`
        as in fit. x may be a generator or any iterable of (x, y) batches (a DataLoader): one pass, or
        `steps` batches. `callbacks` get Keras's test hooks (on_test_begin, on_test_batch_end, ...)."""
        self._require_compiled()
        verbose = checks.verbosity(verbose, "evaluate")
        if is_batch_source(x):
            steps = checks.optional_positive_int("steps", steps, "evaluate", "batches to evaluate")
            source = BatchSource(x, steps)
            callbacks = self._callbacks(callbacks, verbose, source.steps_per_epoch)
            values = evaluate_predict.evaluate(self, source_batches(self, source), callbacks)
        else:
            if y is None:
                raise ValueError("evaluate needs y, the targets for x (or a generator of (x, y) batches as x).")
            x, y = self._data(x, y, "evaluate", finite=False)
            convert.check_finite(x, "x")
            n = convert.num_samples(x)
            sample_weight = self._sample_weight(sample_weight, None, y, n, "evaluate")
            batch_size = self._batch_size(batch_size, n, "evaluate")
            callbacks = self._callbacks(callbacks, verbose, -(-n // batch_size))
            values = evaluate_predict.evaluate(self, array_batches(x, y, sample_weight, batch_size), callbacks)
        return self._result(values, return_dict)

    def predict(self, x, batch_size: int | None = None, verbose: int = 0, steps: int | None = None,
                callbacks: list | None = None):
        """Outputs for `x` as NumPy, batch by batch in order (a stateful model carries its states).

        x may be a generator or any iterable of batches (a DataLoader): one pass, or `steps` batches; a
        batch that is (x, y) or (x, y, sample_weight) is predicted on its x, as Keras does. `callbacks` get
        Keras's predict hooks (on_predict_batch_end receives {"outputs": ...})."""
        self.eval()
        verbose = checks.verbosity(verbose, "predict")
        if is_batch_source(x):
            steps = checks.optional_positive_int("steps", steps, "predict", "batches to predict")
            source = BatchSource(x, steps)
            callbacks = self._callbacks(callbacks, verbose, source.steps_per_epoch)
            return _concat(self._predict_source(source, callbacks))
        x, _ = self._data(x, None, "predict", finite=False)
        n = convert.num_samples(x)
        batch_size = self._batch_size(batch_size, n, "predict")
        callbacks = self._callbacks(callbacks, verbose, -(-n // batch_size))
        batches = (convert.take(x, idx) for idx in batch_indices(n, batch_size, False, None))
        return _concat(evaluate_predict.predict(self, batches, callbacks))

    def _predict_source(self, source: BatchSource, callbacks: list) -> list:
        """evaluate_predict.predict on the x of each item of `source`; Keras's warning if it runs out early."""
        def inputs():
            for item in source.epoch():
                yield self._data(predict_input(item, self.input_count()), None, "predict", finite=False)[0]

        chunks = evaluate_predict.predict(self, inputs(), callbacks)
        if not chunks:
            steps = f"steps={source.steps}" if source.steps else "one pass"
            raise ValueError(no_batch_message("predict", steps, source.source))
        if source.ran_out:
            warnings.warn(ran_out_message("predict", len(chunks), f"steps = {source.steps}", "predicting",
                                               source.source), UserWarning, stacklevel=3)
        return chunks

    def predict_on_batch(self, x):
        self.eval()
        x, _ = self._data(x, None, "predict_on_batch", finite=False)
        return convert.to_numpy(self.predict_step((x, None)))

    def train_on_batch(self, x, y, sample_weight=None, class_weight: dict | None = None, return_dict: bool = False):
        """One optimisation step on one batch; returns the loss (or [loss, *metrics])."""
        self._require_compiled()
        x, y = self._data(x, y, "train_on_batch")
        sample_weight = self._sample_weight(sample_weight, class_weight, y, convert.num_samples(x), "train_on_batch")
        self.train()
        try:
            values = self.make_train_function()((x, y) if sample_weight is None else (x, y, sample_weight))
        finally:
            self.eval()
        return self._result(self.metrics_result(values, rows=convert.num_samples(x)), return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict: bool = False):
        self._require_compiled()
        self.eval()
        x, y = self._data(x, y, "test_on_batch", finite=False)
        sample_weight = self._sample_weight(sample_weight, None, y, convert.num_samples(x), "test_on_batch")
        values = self.test_step((x, y) if sample_weight is None else (x, y, sample_weight))
        return self._result(self.metrics_result(values, rows=convert.num_samples(x)), return_dict)
