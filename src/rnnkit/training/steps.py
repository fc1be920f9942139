"""The steps of Keras's training API, mixed into every model through Trainer: compile and the per-batch steps.

What the steps use lives beside them: the data boundary (`training.boundary`), the loss and metrics
(`training.loss_and_metrics`), the optimizer and loss scale (`training.optimizer_step`), and what compile's
arguments mean (`training.compile_utils`).

The steps are Keras's override points. `fit` calls `train_step((x, y))` once per batch, `evaluate`
calls `test_step`, `predict` calls `predict_step`; a subclass that overrides one of them changes what
those calls do, as in Keras:

    class Weighted(Sequential):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = 2.0 * self.compute_loss(x, y, y_pred)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            return {"loss": float(loss)}

Data reaches the steps already converted (`rnnkit.convert`): tensors on the model's device.
"""

from __future__ import annotations

import torch

from .. import keras_mask, losses, optimizers
from . import compiled
from .boundary import DataBoundary
from .compile_utils import compiled_metrics, output_losses, single_loss
from .loss_and_metrics import LossAndMetrics
from .optimizer_step import OptimizerStep


def _unpack(data) -> tuple:
    """(x, y, sample_weight) from a step's data, as Keras's `unpack_x_y_sample_weight`: (x, y),
    (x, y, sample_weight), or x alone."""
    if isinstance(data, tuple) and len(data) in (2, 3):
        return data[0], data[1], (data[2] if len(data) == 3 else None)
    return data, None, None


class Steps(DataBoundary, LossAndMetrics, OptimizerStep):
    """compile and the per-batch steps (train_step, test_step, predict_step) with what they use."""

    def _init_trainer(self) -> None:
        self.loss_fn = None
        self.loss_name: str | None = None
        self.loss_weight: float | None = None  # compile's loss_weights for a model with one output
        self._output_losses: list | None = None  # OutputLoss per output with a loss (a list of outputs)
        self._compiled_metrics: list = []  # CompiledMetric: metric, log name, output read, weighted
        self.metric_fns: list = []  # (metric, log name) of each compiled metric
        self.optimizer_config = None  # an OptimizerSpec, or a torch optimizer given to compile
        self._optimizer: torch.optim.Optimizer | None = None
        self.stop_training = False
        self.jit_compile = False
        self.steps_per_execution = 1
        self._train_function = None  # what fit calls per batch, made on its first batch
        self.auto_scale_loss = True
        self._loss_scaler: tuple[str, torch.amp.GradScaler] | None = None  # made on first use, per device type

    # -- compile ------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics: list | tuple | dict | None = None,
                jit_compile: bool | str = False, auto_scale_loss: bool = True, loss_weights=None,
                weighted_metrics: list | tuple | dict | None = None, steps_per_execution: int = 1) -> None:
        """Choose the optimizer (Keras name, rnnkit.optimizers spec or torch optimizer), loss and metrics.

        `metrics` is a list of Keras metric names ("mse", "root_mean_squared_error", "accuracy", ...),
        `rnnkit.metrics` objects or functions metric(y_true, y_pred); the logs name each as Keras 3 does
        (the string given, else the metric's name) and report its value over the epoch
        (`rnnkit.metrics`).

        `jit_compile=True` makes `fit` run the train step as one graph compiled by torch.compile:
        several times faster per batch for small models and short sequences, after a cold start of
        seconds per batch shape (see `rnnkit.training.compiled`). Keras's default "auto" means False
        here, because the cold start only pays back over long fits.

        `auto_scale_loss=True` (Keras's default) scales the loss while the model's dtype policy is
        "mixed_float16", as Keras's LossScaleOptimizer does (`rnnkit.mixed_precision`).

        `loss_weights` scales the loss (a number), or each output's loss for a model with several outputs
        (a list or a dict by output name), whose `loss` and `metrics` may be lists or dicts too;
        `weighted_metrics` are metrics weighted by fit's sample_weight (`training.compile_utils`).

        `steps_per_execution=N` runs N batches per "execution", as Keras does on JAX and TensorFlow: the
        batch hooks of callbacks (and `on_predict_batch_end`'s outputs, concatenated) see one call per N
        batches, numbered 0, N, 2N... at the start and N-1, 2N-1... at the end; training is unchanged."""
        if loss is None:
            raise ValueError(f"compile needs a loss, e.g. loss='mse'. Known names: {sorted(losses.LOSSES)}.")
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', received {jit_compile!r}.")
        if not isinstance(auto_scale_loss, bool):
            raise TypeError(f"auto_scale_loss must be True or False, received {auto_scale_loss!r}.")
        if type(steps_per_execution) is not int or steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be a positive integer (batches run per callback call), "
                             f"received {steps_per_execution!r}.")
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile is True
        self.auto_scale_loss = auto_scale_loss
        self._train_function = None
        self._loss_scaler = None
        self.optimizer_config = optimizers.get(optimizer)
        self._optimizer = self.optimizer_config if isinstance(self.optimizer_config, torch.optim.Optimizer) else None
        names = self.output_names_for_compile()
        if names is not None:  # a list of outputs: a loss, weight and metrics per output (Keras's CompileLoss)
            self._output_losses = output_losses(loss, loss_weights, names)
            self.loss_fn, self.loss_name, self.loss_weight = self._output_losses, None, None
        else:
            self._output_losses = None
            self.loss_fn, self.loss_name, self.loss_weight = single_loss(loss, loss_weights)
        self._compiled_metrics = compiled_metrics(metrics, weighted_metrics, names)
        self.metric_fns = [(c.metric, c.log_name) for c in self._compiled_metrics]

    @property
    def compiled(self) -> bool:
        return self.loss_fn is not None

    def _require_compiled(self) -> None:
        if self.loss_fn is None:
            raise RuntimeError("The model is not compiled: call model.compile(optimizer='adam', loss='mse') first.")

    # -- the steps (Keras's override points) --------------------------------------------------------
    def _training_forward(self, x, y, state_store=None):
        """The forward pass of a train step; Seq2Seq overrides it to feed the targets (teacher forcing)."""
        if state_store is None:
            return self(x, training=True)
        return self(x, training=True, state_store=state_store)

    def train_step(self, data) -> dict[str, float]:
        """One optimisation step on one batch: forward, loss, backward, clip, update. Returns the
        batch's loss and metrics."""
        x, y, sample_weight = _unpack(data)
        y_pred = self._training_forward(x, y)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        optimizer = self.optimizer  # after the forward, which creates lazily sized weights
        optimizer.zero_grad(set_to_none=True)
        self.scale_loss(loss).backward()
        self.apply_gradients()
        y_pred = keras_mask.detach(y_pred)
        return {"loss": float(loss.detach()), **self.compute_metrics(x, y, y_pred, sample_weight)}

    def test_step(self, data) -> dict[str, float]:
        """Loss and metrics of one batch, in inference mode."""
        x, y, sample_weight = _unpack(data)
        with torch.no_grad():
            y_pred = self(x, training=False)
            return {"loss": float(self.compute_loss(x, y, y_pred, sample_weight)),
                    **self.compute_metrics(x, y, y_pred, sample_weight)}

    def predict_step(self, data):
        """The outputs of one batch (tensors; predict turns them into NumPy)."""
        x, _, _ = _unpack(data)
        with torch.no_grad():
            return self(x, training=False)

    def make_train_function(self):
        """What fit runs per batch: `train_step`, or with jit_compile=True its compiled form."""
        if self._train_function is None:
            self._train_function = compiled.train_function(self) if self.jit_compile else self.train_step
        return self._train_function

    def threads_state_store(self) -> bool:
        """Whether forward(..., state_store=) reaches every stateful layer (the compiled step needs it)."""
        return not self.stateful


Steps.train_step._rnnkit_default = True  # jit_compile compiles this step its own way (training.compiled)
