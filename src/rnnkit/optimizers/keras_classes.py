"""Keras's optimizer classes, each a function taking Keras's arguments and defaults and returning the
OptimizerSpec compile builds the torch optimizer from (with Keras's `from_config`); `get` resolves the
names and config dicts compile takes. Each class registers with `serialization`, so Keras's
`deserialize` finds it by name."""

from __future__ import annotations

import re

import torch

from .. import schedules
from . import validation
from .arguments import learning_rate_argument, make_spec
from .serialization import deserialize, register
from .spec import OptimizerSpec


def Adam(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
         clipnorm=None, clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's Adam defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""
    return make_spec("adam", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon or 1e-7, amsgrad=amsgrad), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def AdamW(learning_rate=None, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
          clipnorm=None, clipvalue=None, global_clipnorm=None, **kwargs):
    """Keras's AdamW: Adam with decoupled weight decay, default 0.004 (w -= w * weight_decay * lr each step)."""
    if weight_decay is None:
        raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
    return make_spec("adamw", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon or 1e-7, amsgrad=amsgrad), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def SGD(learning_rate=None, momentum=0.0, nesterov=False, lr=None, clipnorm=None, clipvalue=None,
        weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's SGD defaults: learning_rate 0.01, no momentum."""
    return make_spec("sgd", learning_rate_argument(learning_rate, lr, 0.01), dict(momentum=momentum, nesterov=nesterov),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def RMSprop(learning_rate=None, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, lr=None,
            clipnorm=None, clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's RMSprop defaults: learning_rate 0.001, rho 0.9, epsilon 1e-7."""
    return make_spec("rmsprop", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adagrad(learning_rate=None, initial_accumulator_value=0.1, epsilon=1e-7, lr=None, clipnorm=None,
            clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    return make_spec("adagrad", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adadelta(learning_rate=None, rho=0.95, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
             weight_decay=None, global_clipnorm=None, **kwargs):
    return make_spec("adadelta", learning_rate_argument(learning_rate, lr, 0.001), dict(rho=rho, epsilon=epsilon),
                 clipnorm, clipvalue, weight_decay, global_clipnorm, kwargs)


def Adamax(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
           weight_decay=None, global_clipnorm=None, **kwargs):
    return make_spec("adamax", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def Nadam(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
          weight_decay=None, global_clipnorm=None, **kwargs):
    return make_spec("nadam", learning_rate_argument(learning_rate, lr, 0.001),
                 dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def Lion(learning_rate=None, beta_1=0.9, beta_2=0.99, lr=None, clipnorm=None, clipvalue=None,
         weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's Lion: w -= lr * sign(beta_1 * m + (1 - beta_1) * g), then m = beta_2 * m + (1 - beta_2) * g."""
    if beta_1 <= 0 or beta_1 > 1:
        raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
                         f"SignSGD. Received: beta_1={beta_1}.")
    return make_spec("lion", learning_rate_argument(learning_rate, lr, 0.001), dict(beta_1=beta_1, beta_2=beta_2), clipnorm, clipvalue,
                 weight_decay, global_clipnorm, kwargs)


def Ftrl(learning_rate=None, learning_rate_power=-0.5, initial_accumulator_value=0.1, l1_regularization_strength=0.0,
         l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0, beta=0.0, lr=None, clipnorm=None,
         clipvalue=None, weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's FTRL-Proximal (McMahan et al., 2013) with L1, L2 and L2-shrinkage regularization."""
    for arg, value in (("initial_accumulator_value", initial_accumulator_value),
                       ("learning_rate_power", learning_rate_power),
                       ("l1_regularization_strength", l1_regularization_strength),
                       ("l2_regularization_strength", l2_regularization_strength),
                       ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
        power = arg == "learning_rate_power"  # Keras's messages, word for word
        if (value > 0.0) if power else (value < 0.0):
            sign = "negative or zero" if power else "positive or zero"
            raise ValueError(f"`{arg}` needs to be {sign}. Received: {arg}={value}.")
    options = dict(learning_rate_power=learning_rate_power, initial_accumulator_value=initial_accumulator_value,
                   l1_regularization_strength=l1_regularization_strength,
                   l2_regularization_strength=l2_regularization_strength,
                   l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength, beta=beta)
    return make_spec("ftrl", learning_rate_argument(learning_rate, lr, 0.001), options, clipnorm, clipvalue,
                     weight_decay, global_clipnorm, kwargs)


def Adafactor(learning_rate=None, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
              relative_step=True, lr=None, clipnorm=None, clipvalue=None, weight_decay=None, global_clipnorm=None,
              **kwargs):
    """Keras's Adafactor (Shazeer & Stern, 2018): a factored second moment for weights of two or more axes."""
    options = dict(beta_2_decay=beta_2_decay, epsilon_1=epsilon_1, epsilon_2=epsilon_2,
                   clip_threshold=clip_threshold, relative_step=relative_step)
    return make_spec("adafactor", learning_rate_argument(learning_rate, lr, 0.001), options, clipnorm, clipvalue,
                     weight_decay, global_clipnorm, kwargs)


def Lamb(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, clipnorm=None, clipvalue=None,
         weight_decay=None, global_clipnorm=None, **kwargs):
    """Keras's Lamb (You et al., 2019): Adam's step scaled per weight tensor by |w| / |step|."""
    validation.betas("Lamb", beta_1=beta_1, beta_2=beta_2)
    validation.number("Lamb", "epsilon", epsilon, 0.0, fix=_EPSILON_FIX)
    return make_spec("lamb", learning_rate_argument(learning_rate, lr, 0.001),
                     dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), clipnorm, clipvalue,
                     weight_decay, global_clipnorm, kwargs)


_EPSILON_FIX = "It keeps the step's denominator away from 0: 1e-7 is Keras's usual value."


def Muon(learning_rate=None, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004, epsilon=1e-7,
         weight_decay=0.004, clipnorm=None, clipvalue=None, global_clipnorm=None, exclude_layers=None,
         exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95,
         ns_steps=5, nesterov=True, rms_rate=0.2, lr=None, **kwargs):
    """Keras's Muon: 2-D weights step along their orthogonalised momentum (Newton-Schulz), the others by
    AdamW (`optimizers.muon_update`). Pass the name of the output Dense layer in `exclude_layers` (patterns
    searched in each weight's Keras-style path, `training.variable_paths`); Embedding tables take AdamW unless
    exclude_embeddings=False."""
    where = "Muon"
    validation.betas(where, adam_beta_1=adam_beta_1, adam_beta_2=adam_beta_2, momentum=momentum)
    validation.number(where, "epsilon", epsilon, 0.0, fix=_EPSILON_FIX)
    for name, value in (("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)):
        validation.number(where, name, value, fix="Keras's values, 3.4445, -4.7750 and 2.0315, are recommended.")
    validation.number(where, "adam_lr_ratio", adam_lr_ratio, 0.0,
                      fix="The AdamW weights step at learning_rate * adam_lr_ratio; 1 is Keras's default.")
    validation.integer(where, "ns_steps", ns_steps, 0, fix="It is the number of Newton-Schulz iterations; 5 is usual.")
    validation.boolean(where, "nesterov", nesterov)
    validation.boolean(where, "exclude_embeddings", exclude_embeddings)
    validation.number(where, "rms_rate", rms_rate, 0.0, low_open=True, none=True,
                      fix="0.2 matches the update's RMS to AdamW's (Liu et al., 2025); None leaves it unscaled.")
    validation.number(where, "adam_weight_decay", adam_weight_decay, none=True)
    if exclude_layers is not None and (isinstance(exclude_layers, str) or not all(
            isinstance(k, str) for k in exclude_layers)):
        raise ValueError(f"Muon: `exclude_layers` must be a list of strings (patterns searched in weight paths, such "
                         f"as ['output_dense']). Received: exclude_layers={exclude_layers!r}")
    for pattern in exclude_layers or ():
        re.compile(pattern)
    options = dict(adam_beta_1=adam_beta_1, adam_beta_2=adam_beta_2, epsilon=epsilon,
                   exclude_layers=list(exclude_layers or []), muon_a=muon_a, muon_b=muon_b, muon_c=muon_c,
                   adam_lr_ratio=adam_lr_ratio, momentum=momentum, ns_steps=ns_steps, nesterov=nesterov,
                   exclude_embeddings=exclude_embeddings, adam_weight_decay=adam_weight_decay, rms_rate=rms_rate)
    return make_spec("muon", learning_rate_argument(learning_rate, lr, 0.001), options, clipnorm, clipvalue,
                     weight_decay, global_clipnorm, kwargs)


def ScheduleFreeAdamW(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0, weight_decay=None,
                      clipnorm=None, clipvalue=None, global_clipnorm=None, lr=None, **kwargs):
    """Keras's ScheduleFreeAdamW (Defazio et al., 2024): no schedule needed; the weights are an interpolation
    of the gradient steps and their running average (`optimizers.schedule_free_update`). With
    warmup_steps > 0 the rate rises linearly from 0 over that many steps."""
    where = "ScheduleFreeAdamW"
    validation.number(where, "beta_1", beta_1, 0.0, 1.0, low_open=True,
                      fix="It weighs the average in the weights (and divides when recovering it): 0.9 is usual.")
    validation.betas(where, beta_2=beta_2)
    validation.number(where, "epsilon", epsilon, 0.0, fix=_EPSILON_FIX)
    validation.integer(where, "warmup_steps", warmup_steps, 0, fix="0 means no warmup.")
    return make_spec("schedulefreeadamw", learning_rate_argument(learning_rate, lr, 0.0025),
                     dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, warmup_steps=warmup_steps), clipnorm,
                     clipvalue, weight_decay, global_clipnorm, kwargs)


# The names compile takes, as keras.optimizers.get resolves them (any case). Keras 3.15.1's get refuses
# "lamb" (Lamb is missing from its ALL_OBJECTS); rnnkit accepts it.
_BY_NAME = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "adamax": Adamax, "nadam": Nadam, "adamw": AdamW, "lion": Lion, "ftrl": Ftrl, "adafactor": Adafactor,
            "lamb": Lamb, "muon": Muon, "schedulefreeadamw": ScheduleFreeAdamW}
# Keras's wrappers (optimizers.wrappers): deserialize and from_config take them, compile's names do not
_WRAPPER_NAMES = ("lossscaleoptimizer", "multioptimizer")


def _from_config(cls):
    def from_config(config: dict, custom_objects: dict | None = None) -> OptimizerSpec:
        """The spec `get_config()` (rnnkit's or Keras's) describes; a schedule's dict becomes the schedule."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)
    from_config.__qualname__ = f"{cls.__name__}.from_config"
    return from_config


for _cls in _BY_NAME.values():  # Keras's classmethod, spelled the same: optimizers.Adam.from_config(config)
    _cls.from_config = _from_config(_cls)
    register(_cls)


def get(optimizer) -> OptimizerSpec | torch.optim.Optimizer | type:
    """Resolve a Keras name, a Keras config dict, an `OptimizerSpec`, a torch optimizer (instance or class).

    >>> get("adam").learning_rate
    0.001
    >>> get({"class_name": "Ftrl", "config": {"learning_rate": 0.1}}).get_config()["learning_rate"]
    0.1
    """
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key in _WRAPPER_NAMES:
            raise ValueError(f"{optimizer!r} wraps another optimizer, so a name alone cannot make one: pass "
                             "optimizers.LossScaleOptimizer(optimizers.Adam()) or optimizers.MultiOptimizer("
                             "optimizers.OptimizerMap(optimizers.Adam(), {...})) to compile.")
        if key not in _BY_NAME:
            raise ValueError(f"Unknown optimizer {optimizer!r}. Expected one of {sorted(_BY_NAME)}, an "
                             "rnnkit.optimizers spec such as Adam(learning_rate=0.01), or a torch optimizer.")
        return _BY_NAME[key]()
    if isinstance(optimizer, dict):
        return deserialize(optimizer)
    if isinstance(optimizer, (OptimizerSpec, torch.optim.Optimizer)):
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise TypeError(f"optimizer must be a name, an rnnkit.optimizers spec or a torch optimizer, received "
                    f"{type(optimizer).__name__}.")
