"""Keras optimizer names and classes with Keras's default hyper-parameters, made into torch optimizers."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import torch

from . import keras_optimizers, schedules

_SCHEDULE_FIXED = ("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                   "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                   "to be settable, you should instantiate the optimizer with a float `learning_rate` argument.")


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

    def learning_rate_schedule(self) -> schedules.LearningRateSchedule | None:
        """The schedule object: the one given to the optimizer, or rebuilt from `schedule`."""
        if self.schedule is None:
            return None
        given = self.__dict__.get("_schedule")  # an unregistered custom schedule only lives here
        return given if given is not None else schedules.deserialize(self.schedule)

    def build(self, params) -> torch.optim.Optimizer:
        optimizer = keras_flavoured(self._build(list(params)))
        schedule = self.learning_rate_schedule()
        if schedule is not None:
            follow_schedule(optimizer, schedule)
        count_iterations(optimizer)
        if self.weight_decay:
            decay_weights(optimizer, float(self.weight_decay))
        return optimizer

    def _build(self, params: list) -> torch.optim.Optimizer:
        o, lr = self.options, self.learning_rate
        fused = {"fused": True} if can_fuse(params) else {}
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
        raise ValueError(f"unknown optimizer kind {self.kind!r}")


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


# -- learning-rate schedules on torch optimizers --------------------------------------------------------------
def follow_schedule(optimizer: torch.optim.Optimizer, schedule: schedules.LearningRateSchedule) -> None:
    """Make `optimizer` take schedule(iterations) as its learning rate before every step, as Keras's
    optimizer does (with `count_iterations`, which counts the steps)."""
    optimizer.learning_rate_schedule = schedule
    for group in optimizer.param_groups:
        group["lr"] = float(schedule(group.get("iterations", 0)))


def count_iterations(optimizer: torch.optim.Optimizer) -> None:
    """Count the updates in each param group ("iterations"), as Keras's optimizer.iterations does; the
    count is in the optimizer's state_dict, so a checkpoint resumes it (and a schedule) where it was."""
    for group in optimizer.param_groups:
        group.setdefault("iterations", 0)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: _before_step(opt))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: _rest_epsilon(opt))
    optimizer.register_state_dict_post_hook(_saved_epsilon)


# Keras's Adam adds epsilon to sqrt(v) before the bias correction (keras/src/optimizers/adam.py: the step
# is lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)); torch's Adam divides by
# sqrt(v / (1 - b2^t)) + eps, which is Keras's with eps = epsilon / sqrt(1 - b2^t). A param group rnnkit
# built keeps Keras's epsilon as "keras_epsilon"; before each update "eps" becomes that step's value: a
# float for torch's step (the fused kernel takes floats), a 0-dim tensor for the compiled step
# (training/compiled.py passes it into the graph, where a new float each step would recompile). At rest
# (and in state_dict) "eps" is Keras's epsilon.
def _step_epsilon(group: dict) -> float:
    return group["keras_epsilon"] / (1.0 - group["betas"][1] ** group["iterations"]) ** 0.5


def _before_step(optimizer: torch.optim.Optimizer) -> None:
    advance_schedule(optimizer)
    for group in optimizer.param_groups:
        if "keras_epsilon" in group:
            group["eps"] = _step_epsilon(group)


def _rest_epsilon(optimizer: torch.optim.Optimizer) -> None:
    for group in optimizer.param_groups:
        if "keras_epsilon" in group:
            group["eps"] = group["keras_epsilon"]


def _saved_epsilon(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    for group in state_dict["param_groups"]:  # copies of the groups: after a compiled step "eps" is a tensor
        if "keras_epsilon" in group:
            group["eps"] = group["keras_epsilon"]
    return state_dict


def decay_weights(optimizer: torch.optim.Optimizer, weight_decay: float) -> None:
    """Keras's weight decay (keras/src/optimizers/base_optimizer.py `_apply_weight_decay`): before each update,
    every weight with a gradient becomes w - w * weight_decay * lr, lr the rate of this step (the hook runs
    after count_iterations's, which sets a schedule's rate). The group keeps it as "keras_weight_decay"."""
    for group in optimizer.param_groups:
        group["keras_weight_decay"] = weight_decay
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: _decay(opt))


@torch.no_grad()
def _decay(optimizer: torch.optim.Optimizer) -> None:
    for group in optimizer.param_groups:
        wd = group.get("keras_weight_decay")
        if wd:
            factor = wd * float(group["lr"])
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(p * factor)


def advance_schedule(optimizer: torch.optim.Optimizer) -> None:
    """Before one update: the learning rate for this iteration (with a schedule), and the iteration
    counted where the optimizer counts them (those rnnkit built). The compiled step, which updates
    without optimizer.step(), calls it."""
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    for group in optimizer.param_groups:
        if schedule is not None:
            group["lr"] = float(schedule(group.get("iterations", 0)))
        if schedule is not None or "iterations" in group:
            group["iterations"] = group.get("iterations", 0) + 1
        if "keras_epsilon" in group and "iterations" in group:  # the compiled step's eps, see _step_epsilon
            group["eps"] = torch.tensor(_step_epsilon(group))


def step_undone(optimizer: torch.optim.Optimizer) -> None:
    """Take back the count advance_schedule made for an update that did not happen."""
    for group in optimizer.param_groups:
        if "iterations" in group:
            group["iterations"] -= 1


class KerasAttributes:
    """Keras's optimizer attributes on a torch optimizer: `learning_rate` (also `lr`), read and set as
    Keras's are (a schedule's current value; setting it under a schedule is a TypeError), and
    `iterations`, the number of updates applied."""

    @property
    def learning_rate(self) -> float:
        return get_learning_rate(self)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        set_learning_rate(self, float(value))

    lr = learning_rate

    @property
    def iterations(self) -> int:
        return int(self.param_groups[0].get("iterations", 0))


_FLAVOURED: dict[type, type] = {}


def torch_class(optimizer: torch.optim.Optimizer) -> type:
    """The torch class of `optimizer` (torch.optim.Adam for rnnkit's Keras-flavoured Adam)."""
    return getattr(type(optimizer), "torch_class", type(optimizer))


def keras_flavoured(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """`optimizer`, now also an instance of a subclass of its own class with `KerasAttributes`; its
    arithmetic, state_dict and isinstance checks are unchanged."""
    cls = type(optimizer)
    if not isinstance(optimizer, KerasAttributes):
        if cls not in _FLAVOURED:
            _FLAVOURED[cls] = type(cls.__name__, (KerasAttributes, cls), {
                "__module__": cls.__module__, "__qualname__": cls.__qualname__, "torch_class": cls})
        optimizer.__class__ = _FLAVOURED[cls]
    return optimizer


def get_learning_rate(optimizer) -> float:
    """The learning rate `optimizer` (a torch optimizer or an unbuilt OptimizerSpec) takes next, as
    Keras's `optimizer.learning_rate` reads it (a schedule's value at the current iteration)."""
    if isinstance(optimizer, OptimizerSpec):
        return float(optimizer.learning_rate)
    group = optimizer.param_groups[0]
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    return float(schedule(group["iterations"])) if schedule is not None else float(group["lr"])


def set_learning_rate(optimizer, value: float) -> None:
    """Keras's `optimizer.learning_rate = value` on a torch optimizer (every param group) or an unbuilt
    OptimizerSpec; a TypeError, as in Keras, where a schedule sets the rate."""
    if isinstance(optimizer, OptimizerSpec):
        if optimizer.schedule is not None:
            raise TypeError(_SCHEDULE_FIXED)
        optimizer.learning_rate = float(value)
        return
    if getattr(optimizer, "learning_rate_schedule", None) is not None:
        raise TypeError(_SCHEDULE_FIXED)
    for group in optimizer.param_groups:
        group["lr"] = float(value)


def _lr(learning_rate, lr, default):
    # Old Keras spelled it `lr` (seed 000 writes Adam(lr=0.009)); both are accepted.
    return lr if lr is not None else (learning_rate if learning_rate is not None else default)


# Keras's base optimizer arguments rnnkit does not implement, with the value that means "off" (accepted).
_UNSUPPORTED = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}


def _check_arguments(kind: str, kwargs: dict, clipnorm, clipvalue, global_clipnorm) -> None:
    """Keras's checks on the base arguments, and a clear error for the ones rnnkit lacks."""
    kwargs = dict(kwargs)
    kwargs.pop("name", None)  # Keras's optimizer name: nothing in rnnkit uses it
    for arg, off in _UNSUPPORTED.items():
        if arg in kwargs:
            value = kwargs.pop(arg)
            if value != off:
                raise ValueError(f"Argument `{arg}` is not supported by rnnkit's optimizers (received "
                                 f"{arg}={value!r}); leave it at Keras's default {off!r}.")
    if kwargs:
        raise TypeError(f"Argument(s) not recognized by rnnkit's {kind} optimizer: {kwargs}")
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                         f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")


def _spec(kind: str, learning_rate, options: dict, clipnorm, clipvalue, weight_decay=None, global_clipnorm=None,
          kwargs=None) -> OptimizerSpec:
    """An OptimizerSpec for a float learning rate or a LearningRateSchedule."""
    _check_arguments(kind, kwargs or {}, clipnorm, clipvalue, global_clipnorm)
    extra = dict(weight_decay=weight_decay, global_clipnorm=global_clipnorm)
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        spec = OptimizerSpec(kind, float(learning_rate(0)), options, clipnorm, clipvalue,
                             schedule=schedules.serialize(learning_rate), **extra)
        spec._schedule = learning_rate
        return spec
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise ValueError("Argument `learning_rate` should be float, or an instance of LearningRateSchedule "
                         f"(rnnkit.optimizers.schedules). Received instead: learning_rate={learning_rate!r}")
    return OptimizerSpec(kind, float(learning_rate), options, clipnorm, clipvalue, **extra)


def Adam(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
         clipnorm=None, clipvalue=None, decay=None, weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's Adam defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""
    return _spec("adam", _lr(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon or 1e-7, amsgrad=amsgrad), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def AdamW(learning_rate=None, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
          clipnorm=None, clipvalue=None, global_clipnorm=None, **kwargs):
    """Keras's AdamW: Adam with decoupled weight decay, default 0.004 (w -= w * weight_decay * lr each step)."""
    if weight_decay is None:
        raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
    return _spec("adamw", _lr(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon or 1e-7, amsgrad=amsgrad), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def SGD(learning_rate=None, momentum=0.0, nesterov=False, lr=None, clipnorm=None, clipvalue=None,
        weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's SGD defaults: learning_rate 0.01, no momentum."""
    return _spec("sgd", _lr(learning_rate, lr, 0.01), dict(momentum=momentum, nesterov=nesterov),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def RMSprop(learning_rate=None, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, lr=None,
            clipnorm=None, clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's RMSprop defaults: learning_rate 0.001, rho 0.9, epsilon 1e-7."""
    return _spec("rmsprop", _lr(learning_rate, lr, 0.001),
                 dict(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adagrad(learning_rate=None, initial_accumulator_value=0.1, epsilon=1e-7, lr=None, clipnorm=None,
            clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    return _spec("adagrad", _lr(learning_rate, lr, 0.001),
                 dict(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adadelta(learning_rate=None, rho=0.95, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
             weight_decay=None, global_clipnorm=None, **kwargs):
    return _spec("adadelta", _lr(learning_rate, lr, 0.001), dict(rho=rho, epsilon=epsilon),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adamax(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
           weight_decay=None, global_clipnorm=None, **kwargs):
    return _spec("adamax", _lr(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def Nadam(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
          weight_decay=None, global_clipnorm=None, **kwargs):
    return _spec("nadam", _lr(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def Lion(learning_rate=None, beta_1=0.9, beta_2=0.99, lr=None, clipnorm=None, clipvalue=None,
         weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's Lion: w -= lr * sign(beta_1 * m + (1 - beta_1) * g), then m = beta_2 * m + (1 - beta_2) * g."""
    if beta_1 <= 0 or beta_1 > 1:
        raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
                         f"SignSGD. Received: beta_1={beta_1}.")
    return _spec("lion", _lr(learning_rate, lr, 0.001), dict(beta_1=beta_1, beta_2=beta_2), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


_BY_NAME = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "adamax": Adamax, "nadam": Nadam, "adamw": AdamW, "lion": Lion}


def get(optimizer) -> OptimizerSpec | torch.optim.Optimizer | type:
    """Resolve a Keras name, an `OptimizerSpec`, a torch optimizer (instance or class).

    >>> get("adam").learning_rate
    0.001
    """
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in _BY_NAME:
            raise ValueError(f"Unknown optimizer {optimizer!r}. Expected one of {sorted(_BY_NAME)}, an "
                             "rnnkit.optimizers spec such as Adam(learning_rate=0.01), or a torch optimizer.")
        return _BY_NAME[key]()
    if isinstance(optimizer, (OptimizerSpec, torch.optim.Optimizer)):
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise TypeError(f"optimizer must be a name, an rnnkit.optimizers spec or a torch optimizer, received "
                    f"{type(optimizer).__name__}.")


def build(optimizer, params) -> torch.optim.Optimizer:
    if isinstance(optimizer, OptimizerSpec):
        return optimizer.build(params)
    if isinstance(optimizer, type):
        return optimizer(params)
    return optimizer
