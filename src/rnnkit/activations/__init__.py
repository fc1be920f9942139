"""Keras 3's activations (`keras.activations`) as functions of torch tensors, and the names layers take.

Every public Keras activation is here with Keras's definition and defaults: `relu(x, negative_slope=0.0,
max_value=None, threshold=0.0)`, `softmax(x, axis=-1)`, `gelu(x, approximate=False)`, Keras 3's
`hard_sigmoid` (relu6(x + 3) / 6)... A layer takes one by name (`activation="relu"`) or as the function
(`activation=activations.relu`, Keras's spelling), and saves it by name either way. A NumPy array is
taken as Keras takes it.

>>> get("relu") is relu, get(None) is linear, serialize(swish)
(True, True, 'silu')
>>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0).tolist()
[0.0, 0.0, 0.0, 5.0, 5.0]
"""

from __future__ import annotations

from typing import Callable

import torch

from .along_an_axis import glu, log_softmax, softmax, sparsemax
from .rectifiers import (celu, elu, exponential, gelu, hard_silu, hard_swish, leaky_relu, linear, mish, relu,
                         relu6, selu, silu, softplus, sparse_plus, squareplus, swish)
from .shrinkage import hard_shrink, soft_shrink, tanh_shrink, threshold
from .squashing import hard_sigmoid, hard_tanh, log_sigmoid, sigmoid, softsign, sparse_sigmoid, tanh

__all__ = ["celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink", "hard_sigmoid",
           "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
           "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
           "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
           "tanh_shrink", "threshold"]

Activation = Callable[[torch.Tensor], torch.Tensor]

_ALL = (relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus, soft_shrink, sparse_plus,
        silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid, sparse_sigmoid, exponential, hard_sigmoid, hard_silu,
        hard_tanh, hard_shrink, linear, mish, log_softmax, log_sigmoid, sparsemax)
# Keras's ALL_OBJECTS_DICT: each function under its own name, and the two aliases.
_ACTIVATIONS: dict[str, Activation] = {fn.__name__: fn for fn in _ALL}
_ACTIVATIONS.update(swish=silu, hard_swish=hard_silu)
_BUILTIN = {id(fn): name for name, fn in _ACTIVATIONS.items() if fn.__name__ == name}


def _unknown(identifier) -> ValueError:
    return ValueError(f"Could not interpret activation function identifier: {identifier!r}. Unknown activation "
                      f"{identifier!r}: expected one of {sorted(_ACTIVATIONS)}, None (linear), a callable, or a "
                      "custom function passed as custom_objects={name: fn} when loading.")


def get(identifier: str | dict | Callable | None) -> Activation:
    """The activation for a Keras name, a `serialize` dict, a callable (returned as it is), or None (linear).

    >>> get("tanh")(torch.zeros(2)).tolist()
    [0.0, 0.0]
    """
    if identifier is None:
        return linear
    obj = deserialize(identifier) if isinstance(identifier, dict) else (
        _ACTIVATIONS.get(identifier) if isinstance(identifier, str) else identifier)
    if callable(obj):
        return obj
    raise _unknown(identifier)


def serialize(activation: Callable) -> str | dict:
    """A built-in activation's name (an alias gives the function's own: swish -> "silu"); for another named
    function, Keras's {"module", "class_name": "function", "config": name, "registered_name": name}, which
    `deserialize` rebuilds from custom_objects. A lambda cannot be saved (its code is not stored)."""
    name = _BUILTIN.get(id(activation))
    if name is not None:
        return name
    fn_name = getattr(activation, "__name__", None)
    if not callable(activation) or not fn_name or fn_name == "<lambda>":
        raise ValueError(f"Cannot serialize the activation {activation!r}: a config holds a built-in activation "
                         f"by name ({', '.join(sorted(_ACTIVATIONS))}) or a named function, rebuilt from "
                         "custom_objects when loading.")
    return {"module": getattr(activation, "__module__", None), "class_name": "function", "config": fn_name,
            "registered_name": fn_name}


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Activation:
    """The activation a name or a `serialize` dict names: custom_objects first, then Keras's names."""
    name = config.get("config") if isinstance(config, dict) else config
    if isinstance(config, dict) and config.get("class_name") not in ("function", None):
        name = config.get("registered_name") or config.get("class_name")
    if isinstance(name, str):
        if custom_objects and callable(custom_objects.get(name)):
            return custom_objects[name]
        if name in _ACTIVATIONS:
            return _ACTIVATIONS[name]
    raise _unknown(name if isinstance(name, str) else config)


def name_of(activation: str | Callable | None) -> str | None:
    """The name an activation given to a layer is saved under: a name as given, a built-in function's
    Keras name (swish -> "silu"), another function's __name__ (loaded back through custom_objects)."""
    if activation is None or isinstance(activation, str):
        return activation
    name = _BUILTIN.get(id(activation))
    return name if name is not None else getattr(activation, "__name__", repr(activation))
