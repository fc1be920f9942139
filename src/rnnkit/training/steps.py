"""The steps of Keras's training API, mixed into every model through Trainer: compile and the per-batch steps.

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

from .. import convert, losses, mixed_precision, optimizers
from .. import metrics as metrics_module
from ..layers.regularization import apply_constraints, collect_losses
from . import compiled

Tensor = torch.Tensor
_BUILT_IN_LOSSES = set(losses.LOSSES.values())


def _unpack(data) -> tuple:
    """(x, y, sample_weight) from a step's data, as Keras's `unpack_x_y_sample_weight`: (x, y),
    (x, y, sample_weight), or x alone."""
    if isinstance(data, tuple) and len(data) in (2, 3):
        return data[0], data[1], (data[2] if len(data) == 3 else None)
    return data, None, None


def _check_class_ids(y: Tensor, classes: int) -> None:
    """Refuse sparse targets that are not class ids in [0, classes): NLL would fail with an IndexError deep
    inside torch (or, for 1.5, silently train on class 1)."""
    if y.numel() == 0:
        return
    if y.is_floating_point():
        fractional = y != y.round()
        if bool(fractional.any()):
            index = tuple(int(i) for i in fractional.nonzero()[0])
            raise ValueError(f"sparse_categorical_crossentropy needs whole-number class ids, received "
                             f"{float(y[index])} in y (first at index {index}). Give each sample the number of "
                             "its class (0, 1, 2, ...), or use categorical_crossentropy for one-hot or soft targets.")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        index = tuple(int(i) for i in (y == bad).nonzero()[0])
        raise ValueError(f"sparse_categorical_crossentropy needs class ids in [0, {classes}), received {bad} in y "
                         f"(first at index {index}): the model's output has {classes} units, one per class. Fix "
                         f"the labels (they count from 0), or give the last layer one unit per class "
                         f"({max(high + 1, classes)} for these labels).")


class Steps:
    """compile and the per-batch steps (train_step, test_step, predict_step) with what they use."""
    """compile / fit / evaluate / predict and the per-batch steps; models inherit it."""

    def _init_trainer(self) -> None:
        self.loss_fn = None
        self.loss_name: str | None = None
        self.metric_fns: list = []
        self.optimizer_config = None  # an OptimizerSpec, or a torch optimizer given to compile
        self._optimizer: torch.optim.Optimizer | None = None
        self.stop_training = False
        self.jit_compile = False
        self._train_function = None  # what fit calls per batch, made on its first batch
        self.auto_scale_loss = True
        self._loss_scaler: tuple[str, torch.amp.GradScaler] | None = None  # made on first use, per device type

    # -- compile ------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics: list | tuple | None = None,
                jit_compile: bool | str = False, auto_scale_loss: bool = True) -> None:
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
        "mixed_float16", as Keras's LossScaleOptimizer does (`rnnkit.mixed_precision`)."""
        if loss is None:
            raise ValueError(f"compile needs a loss, e.g. loss='mse'. Known names: {sorted(losses.LOSSES)}.")
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', received {jit_compile!r}.")
        if not isinstance(auto_scale_loss, bool):
            raise TypeError(f"auto_scale_loss must be True or False, received {auto_scale_loss!r}.")
        self.jit_compile = jit_compile is True
        self.auto_scale_loss = auto_scale_loss
        self._train_function = None
        self._loss_scaler = None
        self.optimizer_config = optimizers.get(optimizer)
        self._optimizer = self.optimizer_config if isinstance(self.optimizer_config, torch.optim.Optimizer) else None
        self.loss_fn, self.loss_name = losses.get(loss)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError("Expected `metrics` argument to be a list or tuple. Received instead: "
                             f"metrics={metrics!r} of type {type(metrics)}. Write metrics=[{metrics!r}].")
        self.metric_fns = [metrics_module.compile_metric(m) for m in (metrics or [])]  # (Metric, name in logs)

    @property
    def compiled(self) -> bool:
        return self.loss_fn is not None

    def _require_compiled(self) -> None:
        if self.loss_fn is None:
            raise RuntimeError("The model is not compiled: call model.compile(optimizer='adam', loss='mse') first.")

    @property
    def trainable_weights(self) -> list[torch.nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer over the trainable weights, made on first use (after the weights exist)."""
        if self._optimizer is None and self.optimizer_config is not None:
            if any(getattr(m, "built", True) is False for m in self.modules()):
                raise RuntimeError("The optimizer is made over the model's weights, and some are not created yet. "
                                   "Call the model on a batch first (train_step does: forward, then optimizer), "
                                   "or give Input a shape.")
            weights = self.trainable_weights
            if not weights:
                raise ValueError(f"{self.name} has no trainable weights, so there is nothing to fit.")
            self._optimizer = optimizers.build(self.optimizer_config, weights)
        return self._optimizer

    @property
    def loss_scaler(self) -> torch.amp.GradScaler | None:
        """The dynamic loss scale (a torch.amp.GradScaler) while the policy is "mixed_float16" and compile's
        auto_scale_loss is True; None otherwise."""
        if not (self.auto_scale_loss and mixed_precision.needs_loss_scaling(self.dtype_policy)):
            return None
        kind = self.data_device().type
        made = self._loss_scaler  # (device type, scaler)
        if made is None or made[0] != kind:  # new, or the model moved to another kind of device: same scale
            scale = mixed_precision.INITIAL_LOSS_SCALE if made is None else made[1].get_scale()
            made = self._loss_scaler = (kind, mixed_precision.loss_scaler(kind, scale))
        return made[1]

    def scale_loss(self, loss: Tensor) -> Tensor:
        """The loss to call backward() on: multiplied by the loss scale under "mixed_float16", else as it is
        (Keras's `optimizer.scale_loss`). A custom train_step calls `self.scale_loss(loss).backward()` and
        then `self.apply_gradients()`, which divides the gradients again."""
        scaler = self.loss_scaler
        return loss if scaler is None else scaler.scale(loss)

    @property
    def optimizer_built(self) -> bool:
        return self._optimizer is not None

    # -- the data boundary -----------------------------------------------------------------------------
    def input_count(self) -> int:
        return 1

    def input_names(self) -> list[str] | None:
        return None

    def inputs_are_ids(self) -> list[bool]:
        """Per input: whether integer data stays integer (ids for an Embedding) rather than float32."""
        return [False] * self.input_count()

    def data_device(self) -> torch.device:
        """Where data goes: the device of the model's weights (looked up once; `.to()` forgets it)."""
        device = self.__dict__.get("_data_device")
        if device is None:
            device = convert.device_of(self)
            if convert.has_weights(self):  # lazily sized weights: ask again later
                self.__dict__["_data_device"] = device
        return device

    def _apply(self, fn, *args, **kwargs):
        self.__dict__.pop("_data_device", None)  # .to(), .cuda(), .half() move the weights
        return super()._apply(fn, *args, **kwargs)

    def convert_x(self, x):
        """x as the model takes it: tensor(s) on the model's device."""
        return convert.model_inputs(x, self.input_count(), self.data_device(),
                                    [not ids for ids in self.inputs_are_ids()], self.input_names())

    def convert_y(self, y):
        integer_targets = self.loss_name == "sparse_categorical_crossentropy"
        return convert.to_tensors(y, self.data_device(), integers_as_float=not integer_targets)

    # -- the steps (Keras's override points) --------------------------------------------------------
    def _training_forward(self, x, y, state_store=None):
        """The forward pass of a train step; Seq2Seq overrides it to feed the targets (teacher forcing)."""
        if state_store is None:
            return self(x, training=True)
        return self(x, training=True, state_store=state_store)

    def _targets(self, y: Tensor, y_pred) -> Tensor:
        """y shaped and typed for the loss against y_pred, or a clear error."""
        self._require_compiled()
        if isinstance(y_pred, (list, tuple)):
            raise ValueError(f"{self.name} has {len(y_pred)} outputs, and training a model with several outputs "
                             "is not supported yet. Train a model with one output (e.g. concatenate the "
                             "outputs into one), or train each output's model separately.")
        y = convert.to_tensor(y, y_pred.device, integers_as_float=self.loss_name != "sparse_categorical_crossentropy")
        if self.loss_name == "sparse_categorical_crossentropy":
            if not torch.compiler.is_compiling():  # the compiled step's first batch runs eagerly and checks
                _check_class_ids(y, y_pred.shape[-1])
            if y.is_floating_point():
                y = y.long()
        if y.dim() == 1 and y_pred.dim() == 2 and y_pred.shape[1] == 1:
            y = y[:, None]  # Keras accepts (N,) targets for (N, 1) outputs, for any loss (no broadcasting)
        if self.loss_name in losses.LOSSES:  # built-in losses: refuse shapes that would broadcast
            losses.check_targets(self.loss_name, tuple(y.shape), tuple(y_pred.shape), None)
        return y

    @property
    def losses(self) -> list[Tensor]:
        """Keras's `model.losses`: activity penalties of the last forward pass and weight penalties
        (regularizers), which `compute_loss` adds to the compiled loss (rnnkit.layers.regularization)."""
        return collect_losses(self)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None) -> Tensor:
        """The compiled loss of y_pred against y (Keras's signature), weighted as Keras weighs it:
        sum(loss * sample_weight) / number of loss values (see `losses.reduce_weighted`), plus the sum
        of `self.losses` (regularization), as Keras's compute_loss."""
        y = self._targets(y, y_pred)
        if self.loss_fn in _BUILT_IN_LOSSES:  # these reduce per sample and take the weights themselves
            loss = self.loss_fn(y, y_pred, sample_weight)
        else:
            loss = losses.reduce_weighted(self.loss_fn(y, y_pred), sample_weight)
        penalties = self.losses
        return loss + sum(penalties) if penalties else loss

    def compute_metrics(self, x, y, y_pred) -> dict[str, float]:
        """The compiled metrics' values on one batch, in the form the epoch averages: fit and evaluate
        average them over the batches weighted by rows, then `metrics_result` gives the logs (Keras's
        running metrics, e.g. for RMSE the root of the epoch's mean squared error)."""
        if not self.metric_fns:
            return {}
        y = self._targets(y, y_pred)
        with torch.no_grad():
            return {name: float(metric.batch_value(y, y_pred)) for metric, name in self.metric_fns}

    def metrics_result(self, means: dict[str, float]) -> dict[str, float]:
        """The logs from the row-weighted means of the step values over the batches seen (`compute_metrics`):
        each compiled metric's result from its mean; the loss and other values as they are."""
        finish = {name: metric.result_of_mean for metric, name in self.metric_fns}
        return {k: finish[k](v) if k in finish else v for k, v in means.items()}

    def apply_gradients(self) -> None:
        """Clip the gradients as compiled (clipnorm, clipvalue) and take one optimizer step. In a
        distributed fit the gradients are first averaged across ranks (training.distributed); under a
        loss scale they are divided by it first, and the step is skipped if one is not finite."""
        spec, optimizer, scaler = self.optimizer_config, self.optimizer, self.loss_scaler
        shard = self.__dict__.get("_shard")
        if shard is not None:  # scaled gradients: a rank's inf reaches every rank, so all skip together
            shard.average_gradients(self.trainable_weights)
        if scaler is not None:
            scaler.unscale_(optimizer)  # clipping sees the true gradients
        if getattr(spec, "clipnorm", None):
            torch.nn.utils.clip_grad_norm_(self.trainable_weights, spec.clipnorm)
        if getattr(spec, "clipvalue", None):
            torch.nn.utils.clip_grad_value_(self.trainable_weights, spec.clipvalue)
        if scaler is None:
            optimizer.step()
        else:  # skipped when a gradient is inf/NaN, and the scale halves (Keras's LossScaleOptimizer)
            scaler.step(optimizer)
            scaler.update()
        apply_constraints(self)  # kernel_constraint=... projects the updated weights, as Keras's optimizer

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
        return {"loss": float(loss.detach()), **self.compute_metrics(x, y, y_pred.detach())}

    def test_step(self, data) -> dict[str, float]:
        """Loss and metrics of one batch, in inference mode."""
        x, y, sample_weight = _unpack(data)
        with torch.no_grad():
            y_pred = self(x, training=False)
            return {"loss": float(self.compute_loss(x, y, y_pred, sample_weight)), **self.compute_metrics(x, y, y_pred)}

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
