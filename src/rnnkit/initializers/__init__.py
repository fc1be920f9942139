"""Keras 3's initializers (`keras.initializers`), filling PyTorch-layout weights as Keras fills its own.

Classes and names as in Keras: Zeros, Ones, Constant, Identity, STFT, RandomNormal, RandomUniform,
TruncatedNormal, VarianceScaling, GlorotNormal/GlorotUniform, HeNormal/HeUniform, LecunNormal/LecunUniform,
Orthogonal, the lower-case aliases (`glorot_uniform` is GlorotUniform), `get`, `serialize`, `deserialize`.
`init(shape)` returns a new Keras-shaped tensor; a layer's `kernel_initializer=init` fills its weight in
PyTorch's layout with Keras's fans (base.py says how). A layer also takes a name ("he_normal"), a number
(a Constant), a config dict, or a function that fills a weight in place (`torch.nn.init.xavier_uniform_`).

>>> get("glorot_uniform"), get(0.5).value
(GlorotUniform(seed=None, input_axes=None, output_axes=None), 0.5)
>>> serialize(RandomNormal(stddev=1.0, seed=3))
{'class_name': 'RandomNormal', 'config': {'seed': 3, 'mean': 0.0, 'stddev': 1.0}}
>>> weight = HeNormal()(torch.empty(8, 3))  # a Dense(8) kernel on 3 features, PyTorch's layout: fan_in 3
>>> tuple(weight.shape)
(8, 3)
"""

from __future__ import annotations

import inspect
from typing import Callable, Union

import numpy as np
import torch

from ..catalog import Catalog
from .base import Initializer, Tensor, compute_fans, fill, keras_shape, to_torch_layout
from .fixed import Constant, Identity, Ones, Zeros
from .sampled import (GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
                      RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling)
from .spectral import STFT

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer",
           "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer",
           "RandomNormal", "RandomUniform", "STFT", "STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros",
           "compute_fans", "config_value", "configs", "constant", "deserialize", "fill", "get", "glorot_normal",
           "glorot_uniform", "he_normal", "he_uniform", "identity", "keras_shape", "lecun_normal", "lecun_uniform",
           "ones", "orthogonal", "random_normal", "random_uniform", "serialize", "stft", "to_torch_layout",
           "truncated_normal", "variance_scaling", "zeros"]

# Keras's lower-case aliases and compatibility names (keras.initializers.glorot_uniform is GlorotUniform).
zeros, ones, constant, identity, stft = Zeros, Ones, Constant, Identity, STFT
random_normal, random_uniform, truncated_normal, variance_scaling = (RandomNormal, RandomUniform, TruncatedNormal,
                                                                      VarianceScaling)
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, HeUniform
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT

_CLASSES = (Initializer, Constant, Identity, Ones, STFT, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
            LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling)
# The snake-case name of each class (Keras's to_snake_case), which a layer's config writes for a default one.
_SNAKE = {Initializer: "initializer", Constant: "constant", Identity: "identity", Ones: "ones", STFT: "stft",
          Zeros: "zeros", GlorotNormal: "glorot_normal", GlorotUniform: "glorot_uniform", HeNormal: "he_normal",
          HeUniform: "he_uniform", LecunNormal: "lecun_normal", LecunUniform: "lecun_uniform",
          Orthogonal: "orthogonal", RandomNormal: "random_normal", RandomUniform: "random_uniform",
          TruncatedNormal: "truncated_normal", VarianceScaling: "variance_scaling"}
# The names `get` takes, Keras's ALL_OBJECTS_DICT: class names, snake case, compatibility aliases.
NAMES: dict[str, type] = {**{c.__name__: c for c in _CLASSES}, **{name: c for c, name in _SNAKE.items()},
                          "IdentityInitializer": Identity, "normal": RandomNormal, "one": Ones,
                          "STFTInitializer": STFT, "OrthogonalInitializer": Orthogonal, "uniform": RandomUniform,
                          "zero": Zeros}

_CATALOG = Catalog("initializer", _CLASSES, NAMES,
                   "a number (a Constant), an Initializer (e.g. GlorotUniform(seed=1)), a config dict, a tensor "
                   "or array of the variable's shape, or a function that fills a weight tensor in place")
serialize = _CATALOG.serialize


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Initializer:
    """The initializer a `serialize` dict (rnnkit's or Keras's, with its "module" and "registered_name") or a
    name describes; custom_objects and registered classes are looked up too."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    return _CATALOG.deserialize(config, custom_objects)

InitializerLike = Union[str, float, dict, Initializer, Callable[[torch.Tensor], torch.Tensor]]


class _Given(Initializer):
    """The values of a tensor or array given as the initializer (Keras's `get(tensor)`), in Keras's shape."""

    def __init__(self, value):
        self.value = value.detach() if isinstance(value, Tensor) else torch.as_tensor(np.asarray(value))

    def sample_(self, out: Tensor, shape) -> None:
        if tuple(shape) != tuple(self.value.shape):
            raise ValueError(f"Expected `shape` to be {tuple(self.value.shape)} for direct tensor as initializer. "
                             f"Received shape={tuple(shape)}")
        out.copy_(self.value)


class _KerasFunction(Initializer):
    """A function written for Keras, `fn(shape, dtype=None)` returning the values: filled in Keras's shape."""

    def __init__(self, function: Callable):
        self.function = function

    def sample_(self, out: Tensor, shape) -> None:
        value = self.function(tuple(shape), str(out.dtype).removeprefix("torch."))
        out.copy_(value if isinstance(value, Tensor) else torch.as_tensor(np.asarray(value)))


def _takes_shape(fn) -> bool:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return inspect.isfunction(fn) and bool(params) and params[0] == "shape"


def get(identifier: InitializerLike | None):
    """An initializer from a Keras name (a new instance of its class), a number (Constant), a config dict, a
    class (instantiated), an Initializer or a callable (returned as they are), a tensor or array (its values),
    or None (None, as Keras). A function whose first argument is `shape` is Keras's kind and is called so.

    >>> get("zeros")(torch.empty(2)).tolist(), get({"class_name": "Constant", "config": {"value": 2.0}}).value
    ([0.0, 0.0], 2.0)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (int, float)) and not isinstance(identifier, bool):
        return Constant(identifier)
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):  # Keras's deserialize({"class_name": name, "config": {}})
        try:
            obj = deserialize(identifier)
        except ValueError:
            obj = None
    elif isinstance(identifier, (Tensor, np.ndarray, np.generic)):
        obj = _Given(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj) and callable(obj):
        return obj()
    if not isinstance(obj, Initializer) and _takes_shape(obj):
        return _KerasFunction(obj)
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. Unknown initializer "
                     f"{identifier!r}: expected None, one of {sorted(NAMES)}, {_CATALOG.other}.")


def for_weight(identifier: InitializerLike | None):
    """The initializer a layer fills a weight with: `get(identifier)`, and for None Keras's fallback in
    `Layer.add_weight`, GlorotUniform (every rnnkit weight is floating point)."""
    found = get(identifier)
    return GlorotUniform() if found is None else found


# -- rnnkit's in-place helpers (a PyTorch-layout weight filled as Keras fills the Keras-shaped one) -------------
def glorot_uniform_(weight: Tensor) -> Tensor:
    return GlorotUniform()(weight)


def glorot_normal_(weight: Tensor) -> Tensor:
    return GlorotNormal()(weight)


def he_uniform_(weight: Tensor) -> Tensor:
    return HeUniform()(weight)


def he_normal_(weight: Tensor) -> Tensor:
    return HeNormal()(weight)


def orthogonal_(weight: Tensor) -> Tensor:
    return Orthogonal()(weight)


_HELPERS = {glorot_uniform_: "glorot_uniform", glorot_normal_: "glorot_normal", he_uniform_: "he_uniform",
            he_normal_: "he_normal", orthogonal_: "orthogonal"}


def config_value(init):
    """What a layer's config holds for an initializer: the Keras name of a default one ("glorot_uniform"), a
    Constant's number, else its `serialize` dict; None for what a config cannot hold (a plain function, a
    tensor's values), which the layer keeps instead."""
    if isinstance(init, str):
        return init
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return float(init)
    if isinstance(init, Constant) and isinstance(init.value, float):
        return init.value
    if callable(init) and init in _HELPERS:
        return _HELPERS[init]
    name = _SNAKE.get(type(init))
    if name is not None and name != "initializer":
        try:
            if init.get_config() == type(init)().get_config():
                return name
        except (TypeError, ValueError):
            pass
    try:
        return serialize(init)
    except (TypeError, NotImplementedError):
        return None


def configs(**inits) -> dict:
    """{argument: config_value(init)} for a layer's get_config, leaving out what a config cannot hold.

    >>> configs(kernel_initializer=get("he_normal"), bias_initializer=lambda w: w)
    {'kernel_initializer': 'he_normal'}
    """
    values = {key: config_value(init) for key, init in inits.items()}
    return {key: value for key, value in values.items() if value is not None}


def name_of(init) -> str | float | dict:
    """How an initializer shows in messages and configs: config_value, or its repr."""
    value = config_value(init)
    return repr(init) if value is None else value
