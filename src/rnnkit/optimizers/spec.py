"""The Keras-style description of an optimizer (`OptimizerSpec`) and the torch optimizer it builds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from .. import keras_optimizers, schedules
from .hooks import (FUNCTION_FIXED, SCHEDULE_FIXED, CalledEachStep, assign_learning_rate, count_iterations, current_learning_rate, decay_weights,
                    exclude_from_decay, follow_schedule, keras_flavoured)
from .muon_update import Muon, muon_param_groups
from .schedule_free_update import ScheduleFreeAdamW
from .slots import add_slots

# kind -> Keras's class name
KERAS_CLASSES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                 "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam", "lion": "Lion", "ftrl": "Ftrl",
                 "adafactor": "Adafactor", "lamb": "Lamb", "muon": "Muon", "schedulefreeadamw": "ScheduleFreeAdamW",
                 "loss_scale_optimizer": "LossScaleOptimizer", "multi_optimizer": "MultiOptimizer"}


@dataclass
class OptimizerSpec:
    """A Keras-style optimizer description; `build(params)` makes the torch optimizer.

    `schedule` is a LearningRateSchedule's serialized form ({"class_name", "config"}, plain JSON so that
    checkpoints keep it); `learning_rate` is then the schedule's rate at step 0.
    """

    kind: str
    learning_rate: float
    options: dict = field(default_factory=dict)
    clipnorm: float | None = None
    clipvalue: float | None = None
    schedule: dict | None = None
    weight_decay: float | None = None  # Keras's decoupled decay: w -= w * weight_decay * lr before each update
    global_clipnorm: float | None = None  # all gradients scaled by c / max(global norm, c) (apply_gradients)
    use_ema: bool = False  # Keras's moving average of the weights (optimizers.slots)
    ema_momentum: float = 0.99
    ema_overwrite_frequency: int | None = None
    gradient_accumulation_steps: int | None = None  # one update per this many batches, with their mean gradient
    name: str | None = None  # Keras's optimizer name (its config's "name")
    loss_scale_factor: float | None = None  # a fixed loss scale: loss * factor, gradients / factor
    weight_decay_exclusions: list[str] | None = None  # exclude_from_weight_decay's var_names

    def __post_init__(self):
        """Nothing for a plain optimizer; a wrapper's spec (`optimizers.wrappers.WrapperSpec`) revives its inner
        specs here."""

    def rate_spec(self) -> "OptimizerSpec":
        """The spec whose learning rate this optimizer's is: its own (a LossScaleOptimizer's is its inner one's)."""
        return self

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Keras's `optimizer.exclude_from_weight_decay`: no weight decay for the tensors in `var_list`, nor
        for the weights whose Keras name ("kernel", "bias", "embeddings", ...; `training.variable_paths`) any of
        the `var_names` patterns finds (`re.search`). Each call replaces the previous one's choice; call it
        before the optimizer is made (the first train step). The names travel in checkpoints, and so does
        which tensors the made optimizer leaves out."""
        if self.__dict__.get("_built"):
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built "
                             "(its first train step). Call it on the spec before fit, or compile again with a "
                             "fresh spec.")
        names = None if var_names is None or isinstance(var_names, str) else list(var_names)
        if isinstance(var_names, str) or (names is not None and not all(isinstance(n, str) for n in names)):
            raise ValueError(f"`var_names` must be a list of strings (patterns found in weight names such as "
                             f"'bias'). Received: var_names={var_names!r}")
        for pattern in names or ():
            re.compile(pattern)
        self.weight_decay_exclusions = names or None
        self._excluded_tensors = {id(v) for v in var_list or ()}

    def learning_rate_schedule(self) -> schedules.LearningRateSchedule | CalledEachStep | None:
        """The schedule object: the one given to the optimizer, or rebuilt from `schedule`; a learning-rate
        function (which no checkpoint keeps) as a `CalledEachStep`."""
        function = self.rate_function()
        if function is not None:
            return CalledEachStep(function)
        if self.schedule is None:
            return None
        given = self.__dict__.get("_schedule")  # an unregistered custom schedule only lives here
        return given if given is not None else schedules.deserialize(self.schedule)

    def rate_function(self):
        """The function of no arguments given as `learning_rate`, or None."""
        return self.__dict__.get("_rate_function")

    def uses_rate_function(self) -> bool:
        """Whether this optimizer (or one inside it) takes its learning rate from a function (which no
        checkpoint can keep)."""
        return self.rate_function() is not None

    def build(self, params, paths: dict | None = None) -> torch.optim.Optimizer:
        """The torch optimizer over `params`; `paths` ({param: Keras-style path}, `training.variable_paths`)
        tells Muon, MultiOptimizer and `exclude_from_weight_decay` which weight is which (a weight without
        one is Keras's default "variable")."""
        params = list(params)
        paths = {p: (paths or {}).get(p, "variable") for p in params}
        self._built = True
        return self._make(params, paths)

    def _make(self, params: list, paths: dict) -> torch.optim.Optimizer:
        """`build`'s optimizer, over a list of weights each with its path (a wrapper's spec makes its own)."""
        optimizer = keras_flavoured(self._build(params, paths))
        schedule = self.learning_rate_schedule()
        if schedule is not None:
            follow_schedule(optimizer, schedule)
        count_iterations(optimizer)
        decay_weights(optimizer, None if self.weight_decay is None else float(self.weight_decay))
        exclude_from_decay(optimizer, paths, self.weight_decay_exclusions, self.__dict__.get("_excluded_tensors"))
        add_slots(optimizer, self.use_ema, self.ema_momentum, self.ema_overwrite_frequency,
                  self.gradient_accumulation_steps)
        return optimizer

    def get_config(self) -> dict:
        """Keras's `optimizer.get_config()` for this optimizer: the base arguments, then the class's own (a
        schedule as its serialized dict). The class's `from_config` (e.g. `optimizers.Adam.from_config`)
        rebuilds the spec from it, and so do Keras's."""
        base = {"name": self.name or snake_case(KERAS_CLASSES[self.kind]),
                "learning_rate": self.schedule if self.schedule is not None else self.learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}
        function = self.rate_function()
        if function is not None:  # Keras serializes a function by its name; rnnkit cannot rebuild it from that
            base["learning_rate"] = {"module": getattr(function, "__module__", None), "class_name": "function",
                                     "config": getattr(function, "__name__", repr(function)), "registered_name": None}
        return {**base, **self.options}

    def _build(self, params: list, paths: dict) -> torch.optim.Optimizer:
        o, lr = self.options, self.learning_rate
        if self.kind == "muon":
            groups = muon_param_groups(params, paths, o, self.weight_decay)
            return Muon(groups, lr=lr, **{k: v for k, v in o.items() if k not in MUON_SELECTION})
        if self.kind == "schedulefreeadamw":
            return ScheduleFreeAdamW(params or [{"params": []}], lr=lr, **o)
        fused = {"fused": True} if can_fuse(params) else {}
        params = params or [{"params": []}]  # a MultiOptimizer's optimizer that no weight falls to
        # AdamW is Adam with weight_decay (decay_weights). Keras's epsilon-hat: advance_schedule sets each step's eps
        if self.kind in ("adam", "adamw"):
            optimizer = torch.optim.Adam(params, lr=lr, betas=(o["beta_1"], o["beta_2"]), eps=o["epsilon"],
                                         amsgrad=o.get("amsgrad", False), **fused)
            optimizer.param_groups[0]["keras_epsilon"] = o["epsilon"]
            return optimizer
        if self.kind == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"], **fused)
        if self.kind == "rmsprop":  # torch's RMSprop divides by sqrt(v) + eps, Keras by sqrt(v + eps)
            return keras_optimizers.RMSprop(params, lr=lr, rho=o["rho"], momentum=o["momentum"],
                                            epsilon=o["epsilon"], centered=o["centered"])
        if self.kind == "adagrad":  # Keras: g / sqrt(acc + eps) = torch with eps 0, acc started eps higher
            start = o["initial_accumulator_value"] + o["epsilon"]
            return torch.optim.Adagrad(params, lr=lr, eps=0.0, initial_accumulator_value=start, **fused)
        if self.kind == "adadelta":
            return torch.optim.Adadelta(params, lr=lr, rho=o["rho"], eps=o["epsilon"])
        if self.kind == "adamax":  # torch puts eps inside the running max, Keras adds it after
            return keras_optimizers.Adamax(params, lr=lr, betas=(o["beta_1"], o["beta_2"]),
                                           epsilon=o["epsilon"])
        if self.kind == "nadam":  # Keras's momentum cache is 0.96 ** t: torch's momentum_decay=1
            return torch.optim.NAdam(params, lr=lr, betas=(o["beta_1"], o["beta_2"]), eps=o["epsilon"],
                                     momentum_decay=1.0)
        if self.kind == "lion":
            return keras_optimizers.Lion(params, lr=lr, betas=(o["beta_1"], o["beta_2"]))
        if self.kind == "ftrl":
            return keras_optimizers.Ftrl(params, lr=lr, **o)
        if self.kind == "lamb":
            return keras_optimizers.Lamb(params, lr=lr, betas=(o["beta_1"], o["beta_2"]), epsilon=o["epsilon"])
        if self.kind == "adafactor":
            return keras_optimizers.Adafactor(params, lr=lr, **o)
        raise ValueError(f"unknown optimizer kind {self.kind!r}")


MUON_SELECTION = ("exclude_layers", "exclude_embeddings", "adam_weight_decay")  # which weights, not the rule


def snake_case(name: str) -> str:
    """Keras's default optimizer name for a class (keras/src/utils/naming.py to_snake_case): "adam_w"."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def can_fuse(params: list[torch.Tensor]) -> bool:
    """Whether torch's fused (one kernel for all parameters) Adam/SGD/Adagrad step applies.

    The fused step does the same arithmetic as the per-tensor one (tests/test_optimizers.py checks
    they agree) in one call instead of a dozen small ops per parameter: on the bit-sum model it cuts
    the optimizer step from ~150 us to ~50 us per batch, a tenth of the whole training step.
    """
    if not params:
        return False
    devices = {p.device.type for p in params}
    return (len(devices) == 1 and devices <= {"cpu", "cuda"}
            and all(p.is_floating_point() and not p.is_sparse for p in params))


def build(optimizer, params, paths: dict | None = None) -> torch.optim.Optimizer:
    """The torch optimizer `optimizer` (a spec, a torch optimizer class or instance) makes over `params`."""
    if isinstance(optimizer, OptimizerSpec):
        return optimizer.build(params, paths)
    if isinstance(optimizer, type):
        return optimizer(params)
    return optimizer


def get_learning_rate(optimizer) -> float:
    """The learning rate `optimizer` (a torch optimizer or an unbuilt OptimizerSpec) takes next, as
    Keras's `optimizer.learning_rate` reads it (a schedule's value at the current iteration)."""
    if isinstance(optimizer, OptimizerSpec):
        optimizer = optimizer.rate_spec()
        function = optimizer.rate_function()
        return CalledEachStep(function)() if function is not None else float(optimizer.learning_rate)
    if hasattr(optimizer, "parts"):  # a MultiOptimizer: Keras's AttributeError
        return optimizer.learning_rate
    return current_learning_rate(optimizer)


def set_learning_rate(optimizer, value: float) -> None:
    """Keras's `optimizer.learning_rate = value` on a torch optimizer (every param group) or an unbuilt
    OptimizerSpec; a TypeError, as in Keras, where a schedule sets the rate."""
    if isinstance(optimizer, OptimizerSpec):
        optimizer = optimizer.rate_spec()
        if optimizer.rate_function() is not None:
            raise TypeError(FUNCTION_FIXED)
        if optimizer.schedule is not None:
            raise TypeError(SCHEDULE_FIXED)
        optimizer.learning_rate = float(value)
        return
    if hasattr(optimizer, "parts"):  # a MultiOptimizer: Keras's AttributeError
        optimizer.learning_rate = value
    assign_learning_rate(optimizer, value)
