"""Keras's optimizer arguments made into an OptimizerSpec: the learning rate (float or schedule), and
Keras's checks on the arguments every optimizer takes."""

from __future__ import annotations

import numbers
import warnings

from .. import schedules
from . import validation
from .hooks import CalledEachStep
from .spec import KERAS_CLASSES, OptimizerSpec


def learning_rate_argument(learning_rate, lr, default):
    # Old Keras spelled it `lr` (seed 000 writes Adam(lr=0.009)); both are accepted.
    return lr if lr is not None else (learning_rate if learning_rate is not None else default)


def check_arguments(kind: str, kwargs: dict, clipnorm, clipvalue, global_clipnorm) -> dict:
    """Keras's checks on the base arguments every optimizer takes; returns those of them an OptimizerSpec
    keeps (name, use_ema, ema_momentum, ema_overwrite_frequency, gradient_accumulation_steps,
    loss_scale_factor)."""
    kwargs, where = dict(kwargs), KERAS_CLASSES.get(kind, kind)
    base = {"name": kwargs.pop("name", None), "use_ema": bool(kwargs.pop("use_ema", False)),
            "ema_momentum": kwargs.pop("ema_momentum", 0.99),
            "ema_overwrite_frequency": kwargs.pop("ema_overwrite_frequency", None),
            "gradient_accumulation_steps": kwargs.pop("gradient_accumulation_steps", None)}
    base["loss_scale_factor"] = kwargs.pop("loss_scale_factor", None)
    validation.number(where, "loss_scale_factor", base["loss_scale_factor"], 0.0, low_open=True, none=True,
                      fix="The loss is multiplied by it and the gradients divided by it (a fixed loss scale); "
                          "None leaves the loss as it is. For a scale that adapts, wrap the optimizer in "
                          "LossScaleOptimizer.")
    if kwargs:
        raise TypeError(f"Argument(s) not recognized by rnnkit's {kind} optimizer: {kwargs}")
    for name, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
        validation.number(where, name, value, 0.0, none=True,
                          fix="Keras skips clipping for a value <= 0; set None for no clipping.")
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                         f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
    steps = base["gradient_accumulation_steps"]  # 0, as None, means off in Keras
    if steps and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2):
        raise ValueError("`gradient_accumulation_steps` must be an integer >= 2 (the number of batches whose "
                         f"mean gradient makes one update), or None. Received: gradient_accumulation_steps={steps!r}")
    if base["use_ema"]:
        momentum, frequency = base["ema_momentum"], base["ema_overwrite_frequency"]
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={momentum!r}")
        # Keras lets 0 through, and then its JAX backend overwrites on every step, the others never
        if frequency is not None and (isinstance(frequency, bool) or not isinstance(frequency, numbers.Integral)
                                      or frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                             f"ema_overwrite_frequency={frequency!r}. Use 1 to overwrite the weights with their "
                             "average every step, None to overwrite them only at the end of fit.")
    return base


def legacy_decay(kind: str, learning_rate, decay):
    """Keras 2's `decay` argument (seed 000: `Adam(lr=0.009, decay=0.01)`): the rate of update t (from 0)
    was lr / (1 + decay * t). Keras 3 warns and ignores it, which changes what such a script trains; rnnkit
    keeps Keras 2's meaning, as the schedule InverseTimeDecay(lr, decay_steps=1, decay_rate=decay), and
    says so once."""
    if decay is None or decay == 0:
        return learning_rate
    where = KERAS_CLASSES.get(kind, kind)
    validation.number(where, "decay", decay, 0.0, fix="Keras 2's rate of update t was lr / (1 + decay * t).")
    if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
        raise ValueError(f"{where}: `decay` (Keras 2's inverse-time decay of the learning rate) needs a float "
                         f"learning_rate to decay; received learning_rate={learning_rate!r} with decay={decay!r}. "
                         "Put the decay in the schedule or function instead, and leave `decay` out.")
    warnings.warn(f"{where}(decay={decay}) is Keras 2's argument; Keras 3 ignores it. rnnkit applies it as Keras 2 "
                  f"did, lr / (1 + decay * iterations): the same as learning_rate=schedules.InverseTimeDecay("
                  f"{learning_rate}, decay_steps=1, decay_rate={decay}), which is how it is saved.", UserWarning,
                  stacklevel=4)
    return schedules.InverseTimeDecay(float(learning_rate), decay_steps=1, decay_rate=float(decay))


def make_spec(kind: str, learning_rate, options: dict, clipnorm, clipvalue, weight_decay=None, global_clipnorm=None,
              kwargs=None) -> OptimizerSpec:
    """An OptimizerSpec for a float learning rate, a LearningRateSchedule or a function of no arguments
    (called before every update for that update's rate, as Keras calls it; `hooks.CalledEachStep`)."""
    kwargs = dict(kwargs or {})
    learning_rate = legacy_decay(kind, learning_rate, kwargs.pop("decay", None))
    validation.number(KERAS_CLASSES.get(kind, kind), "weight_decay", weight_decay, none=True,
                      fix="Each update first takes w * weight_decay * learning_rate off every weight.")
    extra = dict(weight_decay=weight_decay, global_clipnorm=global_clipnorm,
                 **check_arguments(kind, kwargs, clipnorm, clipvalue, global_clipnorm))
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        spec = OptimizerSpec(kind, float(learning_rate(0)), options, clipnorm, clipvalue,
                             schedule=schedules.serialize(learning_rate), **extra)
        spec._schedule = learning_rate
        return spec
    if callable(learning_rate) and not isinstance(learning_rate, type):
        spec = OptimizerSpec(kind, CalledEachStep(learning_rate)(0), options, clipnorm, clipvalue, **extra)
        spec._rate_function = learning_rate
        return spec
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise ValueError("Argument `learning_rate` should be float, or an instance of LearningRateSchedule "
                         "(rnnkit.optimizers.schedules), or a function of no arguments that returns the rate. "
                         f"Received instead: learning_rate={learning_rate!r}")
    return OptimizerSpec(kind, float(learning_rate), options, clipnorm, clipvalue, **extra)
