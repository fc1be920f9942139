"""Keras's optimizer arguments made into an OptimizerSpec: the learning rate (float or schedule), and
Keras's checks on the arguments every optimizer takes."""

from __future__ import annotations

import numbers

from .. import schedules
from .spec import OptimizerSpec


def learning_rate_argument(learning_rate, lr, default):
    # Old Keras spelled it `lr` (seed 000 writes Adam(lr=0.009)); both are accepted.
    return lr if lr is not None else (learning_rate if learning_rate is not None else default)


def check_arguments(kind: str, kwargs: dict, clipnorm, clipvalue, global_clipnorm) -> dict:
    """Keras's checks on the base arguments every optimizer takes; returns those of them an OptimizerSpec
    keeps (name, use_ema, ema_momentum, ema_overwrite_frequency, gradient_accumulation_steps)."""
    kwargs = dict(kwargs)
    base = {"name": kwargs.pop("name", None), "use_ema": bool(kwargs.pop("use_ema", False)),
            "ema_momentum": kwargs.pop("ema_momentum", 0.99),
            "ema_overwrite_frequency": kwargs.pop("ema_overwrite_frequency", None),
            "gradient_accumulation_steps": kwargs.pop("gradient_accumulation_steps", None)}
    scale = kwargs.pop("loss_scale_factor", None)
    if scale is not None:
        raise ValueError(f"Argument `loss_scale_factor` is not supported by rnnkit's optimizers (received "
                         f"loss_scale_factor={scale!r}); leave it at None. For mixed_float16, rnnkit scales the "
                         "loss dynamically (compile(auto_scale_loss=True)), as Keras's LossScaleOptimizer.")
    if kwargs:
        raise TypeError(f"Argument(s) not recognized by rnnkit's {kind} optimizer: {kwargs}")
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


def make_spec(kind: str, learning_rate, options: dict, clipnorm, clipvalue, weight_decay=None, global_clipnorm=None,
              kwargs=None) -> OptimizerSpec:
    """An OptimizerSpec for a float learning rate or a LearningRateSchedule."""
    extra = dict(weight_decay=weight_decay, global_clipnorm=global_clipnorm,
                 **check_arguments(kind, kwargs or {}, clipnorm, clipvalue, global_clipnorm))
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        spec = OptimizerSpec(kind, float(learning_rate(0)), options, clipnorm, clipvalue,
                             schedule=schedules.serialize(learning_rate), **extra)
        spec._schedule = learning_rate
        return spec
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise ValueError("Argument `learning_rate` should be float, or an instance of LearningRateSchedule "
                         f"(rnnkit.optimizers.schedules). Received instead: learning_rate={learning_rate!r}")
    return OptimizerSpec(kind, float(learning_rate), options, clipnorm, clipvalue, **extra)
