"""Keras's optimizer classes, each a function taking Keras's arguments and defaults and returning the
OptimizerSpec compile builds the torch optimizer from; `get` resolves the names compile takes."""

from __future__ import annotations

import torch

from .arguments import learning_rate_argument, make_spec
from .spec import OptimizerSpec


def Adam(learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
         clipnorm=None, clipvalue=None, decay=None, weight_decay=None, global_clipnorm=None, **kwargs):
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
