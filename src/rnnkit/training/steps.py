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
from .compile_utils import compiled_metrics, output_losses

Tensor = torch.Tensor
_BUILT_IN_LOSSES = set(losses.LOSSES.values())
_WEIGHT = "/weight"  # a weighted metric's companion value (its batch's weight per row), never logged


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
        self.loss_weight: float | None = None  # compile's loss_weights for a model with one output
        self._output_losses: list | None = None  # OutputLoss per output with a loss (a list of outputs)
        self._compiled_metrics: list = []  # CompiledMetric: metric, log name, output read, weighted
        self.metric_fns: list = []  # (metric, log name) of each compiled metric
        self.optimizer_config = None  # an OptimizerSpec, or a torch optimizer given to compile
        self._optimizer: torch.optim.Optimizer | None = None
        self.stop_training = False
        self.jit_compile = False
        self._train_function = None  # what fit calls per batch, made on its first batch
        self.auto_scale_loss = True
        self._loss_scaler: tuple[str, torch.amp.GradScaler] | None = None  # made on first use, per device type

    # -- compile ------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics: list | tuple | dict | None = None,
                jit_compile: bool | str = False, auto_scale_loss: bool = True, loss_weights=None,
                weighted_metrics: list | tuple | dict | None = None) -> None:
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
        `weighted_metrics` are metrics weighted by fit's sample_weight (`training.compile_utils`)."""
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
        names = self.output_names_for_compile()
        if names is not None:  # a list of outputs: a loss, weight and metrics per output (Keras's CompileLoss)
            self._output_losses = output_losses(loss, loss_weights, names)
            self.loss_fn, self.loss_name, self.loss_weight = self._output_losses, None, None
        else:
            self._output_losses = None
            if isinstance(loss, (list, tuple)) and len(loss) == 1:
                loss = loss[0]  # Keras accepts [loss] for one output
            self.loss_fn, self.loss_name = losses.get(loss)
            if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
                loss_weights = loss_weights[0]
            if loss_weights is not None and (isinstance(loss_weights, bool)
                                             or not isinstance(loss_weights, (int, float))):
                raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a list, "
                                 f"tuple, or dict (multiple output case). Received instead: loss_weights="
                                 f"{loss_weights!r} of type {type(loss_weights)}.")
            self.loss_weight = None if loss_weights is None else float(loss_weights)
        self._compiled_metrics = compiled_metrics(metrics, weighted_metrics, names)
        self.metric_fns = [(c.metric, c.log_name) for c in self._compiled_metrics]

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

    def output_names_for_compile(self) -> list[str] | None:
        """The names of the model's outputs when it returns a list of them (a loss per output), else None."""
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
        """x as the model takes it: tensor(s) on the model's device; a dict by input name as a list."""
        names = self.input_names()
        if isinstance(x, dict) and names is not None:
            missing = [name for name in names if name not in x]
            if missing:
                raise ValueError(f"x is a dict, so it must name every input of the model {names}; missing "
                                 f"{missing} (received keys {list(x)}).")
            x = [x[name] for name in names]
        return convert.model_inputs(x, self.input_count(), self.data_device(),
                                    [not ids for ids in self.inputs_are_ids()], names)

    def convert_y(self, y):
        if self._output_losses is None:
            integer_targets = self.loss_name == "sparse_categorical_crossentropy"
            return convert.to_tensors(y, self.data_device(), integers_as_float=not integer_targets)
        return [None if t is None else convert.to_tensor(t, self.data_device(), integers_as_float=not sparse)
                for t, sparse in zip(self._per_output(y, "y"), self._sparse_outputs())]

    def _sparse_outputs(self) -> list[bool]:
        sparse = [False] * len(self.output_names_for_compile())
        for entry in self._output_losses:
            sparse[entry.index] = entry.name == "sparse_categorical_crossentropy"
        return sparse

    def _per_output(self, value, what: str) -> list:
        """y (or sample_weight) of a model with a list of outputs as one entry per output: a list with one
        per output, or one per output with a loss, or a dict by output name; a lone array serves the only
        output with a loss (a lone sample_weight: every output)."""
        names = self.output_names_for_compile()
        with_loss = [entry.index for entry in self._output_losses]
        if isinstance(value, dict):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{what} is a dict, so its keys must be output names {names}; received unknown "
                                 f"keys {sorted(unknown)}.")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)) and len(value) and (value[0] is None or hasattr(value[0], "shape")):
            if len(value) == len(names):
                return list(value)
            if len(value) == len(with_loss):
                out = [None] * len(names)
                for i, v in zip(with_loss, value):
                    out[i] = v
                return out
            raise ValueError(f"{what} must have one entry per output: the model has {len(names)} outputs {names} "
                             f"({len(with_loss)} with a loss), received a list of {len(value)}. Pass a list in the "
                             "outputs' order or a dict {output name: array}.")
        if what == "sample_weight":
            return [value] * len(names)
        if len(with_loss) == 1:
            out = [None] * len(names)
            out[with_loss[0]] = value
            return out
        raise ValueError(f"The model has {len(names)} outputs {names}, so {what} must be a list with one array per "
                         "output or a dict {output name: array}; received one array.")

    # -- the steps (Keras's override points) --------------------------------------------------------
    def _training_forward(self, x, y, state_store=None):
        """The forward pass of a train step; Seq2Seq overrides it to feed the targets (teacher forcing)."""
        if state_store is None:
            return self(x, training=True)
        return self(x, training=True, state_store=state_store)

    def _targets(self, y: Tensor, y_pred, loss_name: str | None = "compiled") -> Tensor:
        """y shaped and typed for the loss (`loss_name`, by default the compiled one) against y_pred, or a
        clear error."""
        self._require_compiled()
        loss_name = self.loss_name if loss_name == "compiled" else loss_name
        if isinstance(y_pred, (list, tuple)):
            raise ValueError(f"{self.name} has {len(y_pred)} outputs, and training a model with several outputs "
                             "is not supported yet. Train a model with one output (e.g. concatenate the "
                             "outputs into one), or train each output's model separately.")
        y = convert.to_tensor(y, y_pred.device, integers_as_float=loss_name != "sparse_categorical_crossentropy")
        if loss_name == "sparse_categorical_crossentropy":
            if not torch.compiler.is_compiling():  # the compiled step's first batch runs eagerly and checks
                _check_class_ids(y, y_pred.shape[-1])
            if y.is_floating_point():
                y = y.long()
        if y.dim() == 1 and y_pred.dim() == 2 and y_pred.shape[1] == 1:
            y = y[:, None]  # Keras accepts (N,) targets for (N, 1) outputs, for any loss (no broadcasting)
        if loss_name in losses.LOSSES:  # built-in losses: refuse shapes that would broadcast
            losses.check_targets(loss_name, tuple(y.shape), tuple(y_pred.shape), None)
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
        if self._output_losses is not None:  # Keras's CompileLoss: sum of weight * loss over the outputs
            loss = None
            for entry, value in self._output_loss_values(y, y_pred, sample_weight):
                value = value if entry.weight is None else value * entry.weight
                loss = value if loss is None else loss + value
        else:
            loss = self._loss_value(self.loss_fn, self._targets(y, y_pred), y_pred, sample_weight)
            loss = loss if self.loss_weight is None else loss * self.loss_weight
        penalties = self.losses
        return loss + sum(penalties) if penalties else loss

    @staticmethod
    def _loss_value(fn, y: Tensor, y_pred: Tensor, sample_weight) -> Tensor:
        if fn in _BUILT_IN_LOSSES:  # these reduce per sample and take the weights themselves
            return fn(y, y_pred, sample_weight)
        return losses.reduce_weighted(fn(y, y_pred), sample_weight)

    def _output_loss_values(self, y, y_pred, sample_weight):
        """(OutputLoss, its unweighted loss) for each output with a loss."""
        if not isinstance(y_pred, (list, tuple)):
            y_pred = [y_pred]
        targets = self._per_output(y, "y")
        weights = [None] * len(y_pred) if sample_weight is None else self._per_output(sample_weight, "sample_weight")
        for entry in self._output_losses:
            i = entry.index
            if targets[i] is None:
                raise ValueError(f"Output {self.output_names_for_compile()[i]!r} has loss {entry.name!r} but y gives "
                                 "it no targets. Pass a target array for every output with a loss.")
            y_i = self._targets(targets[i], y_pred[i], entry.name if entry.name in losses.LOSSES else None)
            yield entry, self._loss_value(entry.fn, y_i, y_pred[i], weights[i])

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict[str, float]:
        """The compiled metrics' values on one batch, in the form the epoch averages: fit and evaluate
        average them over the batches weighted by rows, then `metrics_result` gives the logs (Keras's
        running metrics, e.g. for RMSE the root of the epoch's mean squared error). A model with several
        outputs logs each output's unweighted loss too ("<output>_loss"). A weighted metric under sample
        weights gives sum(value * weight) / rows and sum(weight) / rows, whose ratio is Keras's."""
        values: dict[str, float] = {}
        with torch.no_grad():
            if self._output_losses is not None:
                if len(self._output_losses) > 1:  # Keras tracks them when there are several
                    for entry, value in self._output_loss_values(y, y_pred, sample_weight):
                        values[entry.log_name] = float(value)
                targets = self._per_output(y, "y")
                weights = (self._per_output(sample_weight, "sample_weight") if sample_weight is not None
                           else [None] * len(targets))
            for c in self._compiled_metrics:
                if c.output is None:
                    y_t, y_p, w = self._targets(y, y_pred), y_pred, sample_weight
                else:
                    if targets[c.output] is None:
                        continue
                    y_p, w = y_pred[c.output], weights[c.output]
                    loss_name = next((e.name for e in self._output_losses if e.index == c.output), None)
                    y_t = self._targets(targets[c.output], y_p, loss_name if loss_name in losses.LOSSES else None)
                if c.weighted and w is not None:
                    value, weight = metrics_module.weighted_batch_value(c.metric, y_t, y_p, w)
                    values[c.log_name], values[c.log_name + _WEIGHT] = float(value), float(weight)
                else:
                    values[c.log_name] = float(c.metric.batch_value(y_t, y_p))
        return values

    def metrics_result(self, means: dict[str, float]) -> dict[str, float]:
        """The logs from the row-weighted means of the step values over the batches seen (`compute_metrics`):
        each compiled metric's result from its mean; the loss and other values as they are."""
        finish = {name: metric.result_of_mean for metric, name in self.metric_fns}
        logs = {}
        for k, v in means.items():
            if k.endswith(_WEIGHT):
                continue
            if k + _WEIGHT in means:  # a weighted metric: sum(value * weight) over sum(weight)
                weight = means[k + _WEIGHT]
                v = v / weight if weight else 0.0
            logs[k] = finish[k](v) if k in finish else v
        return logs

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
        y_pred = [p.detach() for p in y_pred] if isinstance(y_pred, (list, tuple)) else y_pred.detach()
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
