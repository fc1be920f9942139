"""Keras's optimizer arguments made into an OptimizerSpec: the learning rate (float or schedule), and
Keras's checks on the arguments every optimizer takes."""

from __future__ import annotations

import numbers

from .. import schedules
from .spec import OptimizerSpec


def learning_rate_argument(learning_rate, lr, default):
    # Old Keras spelled it `lr` (seed 000 writes Adam(lr=0.009)); both are accepted.
    return lr if lr is not None else (learning_rate if learning_rate is not None else default)


# Keras's base optimizer arguments rnnkit does not implement, with the value that means "off" (accepted).
_UNSUPPORTED = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}


def check_arguments(kind: str, kwargs: dict, clipnorm, clipvalue, global_clipnorm) -> None:
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


def make_spec(kind: str, learning_rate, options: dict, clipnorm, clipvalue, weight_decay=None, global_clipnorm=None,
          kwargs=None) -> OptimizerSpec:
    """An OptimizerSpec for a float learning rate or a LearningRateSchedule."""
    check_arguments(kind, kwargs or {}, clipnorm, clipvalue, global_clipnorm)
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
