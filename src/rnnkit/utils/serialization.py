"""Keras's `serialize_keras_object` / `deserialize_keras_object` (keras/src/saving/serialization_lib.py)
for what rnnkit serializes: layers and cells, models, losses, metrics, optimizers, learning rate
schedules, regularizers, constraints, initializers, functions (activations and loss functions by name,
registered functions by their registered name), and the plain values inside configs (NumPy arrays,
tensors, bytes, slices, Ellipsis).

An object becomes Keras's dict: {"module", "class_name", "config", "registered_name"}, with its
`get_config()` as the config; rnnkit's own classes name their public module ("rnnkit.layers",
"rnnkit.losses", ...), a user's class its own module and its registered name ("Custom>MyLayer").
Deserializing looks the class up, never imports a module named by the config: the custom object scope,
the registered objects and `custom_objects` first (as Keras), then rnnkit's classes of the family the
module names (Keras's module names work too: "keras.losses", "keras.optimizers", ...), and calls its
`from_config`. A Python lambda is never rebuilt: rnnkit runs no code from a config, so
`safe_mode=False` does not allow it either.

>>> from rnnkit.losses import Huber
>>> config = serialize_keras_object(Huber(delta=2.0))
>>> config["module"], config["class_name"], config["config"]["delta"]
('rnnkit.losses', 'Huber', 2.0)
>>> deserialize_keras_object(config).get_config() == Huber(delta=2.0).get_config()
True
"""

from __future__ import annotations

import inspect
import types
import warnings

import numpy as np
import torch

from .. import activations, constraints, initializers, losses, metrics, optimizers, regularizers, registry
from ..loss_functions.base import Loss
from ..optimizers.serialization import CLASSES as OPTIMIZER_CLASSES
from ..symbolic import Symbol

PLAIN_TYPES = (str, int, float, bool)
_MARKERS = ("function", "__numpy__", "__tensor__", "__bytes__", "__slice__", "__ellipsis__", "__lambda__")
_PUBLIC = {"loss_functions": "losses", "keras_optimizers": "optimizers"}  # rnnkit modules -> their public one
_FAMILY_OF = {"layers": "registry", "models": "registry", "cells": "registry", "schedules": "registry",
              "losses": "losses", "metrics": "metrics", "optimizers": "optimizers", "regularizers": "regularizers",
              "constraints": "constraints", "activations": "activations", "initializers": "initializers"}


# -- serializing -------------------------------------------------------------------------------------------------
def serialize_keras_object(obj):
    """The plain (JSON-able) dict that `deserialize_keras_object` turns back into `obj`; plain values,
    lists, tuples and dicts are serialized item by item."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return serialize_dict(obj)
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {"start": serialize_keras_object(obj.start),
                                                      "stop": serialize_keras_object(obj.stop),
                                                      "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, Symbol):
        raise TypeError(f"Cannot serialize the symbolic tensor {obj!r}: serialize the model it belongs to.")
    if isinstance(obj, torch.Tensor):
        return {"class_name": "__tensor__", "config": {"value": obj.detach().cpu().tolist(),
                                                       "dtype": str(obj.dtype).replace("torch.", "")}}
    if type(obj).__module__ == np.__name__:
        if isinstance(obj, np.ndarray) and obj.ndim > 0:
            return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
        return obj.item()  # NumPy scalars as plain values
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return _serialize_function(obj)
    if isinstance(obj, optimizers.OptimizerSpec):
        return optimizers.serialize(obj)
    return _serialize_object(obj)


def serialize_dict(obj: dict) -> dict:
    return {key: serialize_keras_object(value) for key, value in obj.items()}


def _public_module(cls) -> str:
    """rnnkit.layers.core -> rnnkit.layers, rnnkit.loss_functions.ctc -> rnnkit.losses; a user's as it is."""
    parts = cls.__module__.split(".")
    if parts[0] != registry.BUILTIN or len(parts) < 2:
        return cls.__module__
    return f"{registry.BUILTIN}.{_PUBLIC.get(parts[1], parts[1])}"


def _serialize_object(obj) -> dict:
    cls = type(obj)
    if getattr(obj, "init_config", None) is not None:  # rnnkit's topologies: their constructor's arguments
        config = dict(obj.init_config)
    elif hasattr(obj, "get_config"):
        config = obj.get_config()
        if not isinstance(config, dict):
            raise TypeError(f"The `get_config()` method of {obj} should return a dict. It returned: {config}")
    else:
        raise TypeError(f"Cannot serialize object {obj} of type {cls}. To be serializable, a class must implement "
                        "the `get_config()` method.")
    name = registry.registered_name(cls)
    custom = name is not None and ">" in name or not cls.__module__.startswith(f"{registry.BUILTIN}.")
    return {"module": _public_module(cls), "class_name": cls.__name__, "config": serialize_dict(config),
            "registered_name": (name or cls.__name__) if custom else None}


def _serialize_function(fn) -> dict:
    if fn.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`, which rnnkit cannot load back: it never "
                      "runs code from a config. Use a named function registered with "
                      "@rnnkit.utils.register_keras_serializable() instead.", stacklevel=3)
        return {"class_name": "__lambda__", "config": {"value": None}}
    name = registry.registered_name(fn)
    if name is not None:
        return {"module": fn.__module__, "class_name": "function", "config": name, "registered_name": name}
    for module, table in (("rnnkit.activations", _activation), ("rnnkit.losses", _loss_function)):
        if table(fn.__name__) is fn:
            return {"module": module, "class_name": "function", "config": fn.__name__, "registered_name": fn.__name__}
    return {"module": fn.__module__, "class_name": "function", "config": fn.__name__, "registered_name": fn.__name__}


# -- deserializing -----------------------------------------------------------------------------------------------
def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs):
    """The object `serialize_keras_object` described (or a Keras config of an object rnnkit has: a loss,
    metric, optimizer, schedule, regularizer or constraint). `custom_objects` ({"name": class or
    function}) are seen by the nested configs too, as inside a `custom_object_scope`."""
    if config is None or isinstance(config, PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode) for key, value in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _special(class_name, inner, custom_objects, safe_mode)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered_name = config.get("registered_name", class_name)
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(f"Expected 'config' to be a non-null str for a function classname,\ninstead got "
                            f"{type(inner)}\nFull config: {config}")
        return _retrieve_function(inner, registered_name, module, config, custom_objects)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name},\ninstead got {type(inner)}\n"
                        f"Full config: {config}")
    inner = _resolve_markers(inner, custom_objects, safe_mode)
    found = _retrieve_class(class_name, registered_name, module, config, custom_objects)
    if found is OPTIMIZER_CLASSES.get(str(class_name).lower()):  # rnnkit's optimizers: functions making specs
        return found.from_config(inner, custom_objects)
    if isinstance(found, types.FunctionType):
        return found
    with registry.CustomObjectScope(registry.scope_objects(), custom_objects):
        try:
            from_config = getattr(found, "from_config", None)
            if from_config is not None:
                return from_config(inner)
            return registry.rebuild(found, inner, custom_objects)
        except TypeError as e:
            raise TypeError(f"{found} could not be deserialized properly. Please ensure that components that are "
                            "Python object instances (layers, models, etc.) returned by `get_config()` are "
                            f"explicitly deserialized in the model's `from_config()` method.\n\nconfig={config}.\n\n"
                            f"Exception encountered: {e}") from e


_NOT_SPECIAL = object()


def _special(class_name, inner, custom_objects, safe_mode):
    """The value of Keras's special configs (arrays, tensors, bytes, slices, Ellipsis), or _NOT_SPECIAL."""
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tensor__":
        return torch.tensor(inner["value"], dtype=getattr(torch, inner["dtype"]))
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k], custom_objects, safe_mode) for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        raise ValueError("Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary "
                         "code execution and thus it is disallowed: rnnkit never runs code from a config, with "
                         "safe_mode=False too. Use a named function registered with "
                         "@rnnkit.utils.register_keras_serializable(), or pass it as custom_objects={'name': fn}.")
    if class_name in ("__keras_tensor__", "__typespec__"):
        raise TypeError(f"Cannot deserialize a {class_name!r} config: Keras symbolic tensors and TensorFlow type "
                        "specs have no rnnkit counterpart.")
    return _NOT_SPECIAL


def _resolve_markers(value, custom_objects, safe_mode):
    """A config with the functions, arrays, tensors, ... inside it deserialized (objects' own configs are
    left to their from_config, as Keras's)."""
    if isinstance(value, dict):
        if value.get("class_name") in _MARKERS and "config" in value:
            return deserialize_keras_object(value, custom_objects, safe_mode)
        return {k: _resolve_markers(v, custom_objects, safe_mode) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_markers(v, custom_objects, safe_mode) for v in value]
    return value


def _family(module) -> str | None:
    """Which of rnnkit's tables a config's module points to ("keras.losses", "rnnkit.layers",
    "keras.src.backend.torch.optimizers.torch_adam", "keras.optimizers.schedules", ...)."""
    if not isinstance(module, str):
        return None
    parts = module.split(".")
    if "schedules" in parts:
        return "registry"
    for part in reversed(parts):
        if part in _FAMILY_OF:
            return _FAMILY_OF[part]
    return None


def _loss_classes() -> dict[str, type]:
    return {name: obj for name, obj in vars(losses).items() if inspect.isclass(obj) and issubclass(obj, Loss)}


def _class_tables() -> dict[str, dict]:
    return {"registry": {k: v for k, v in registry.registered().items() if ">" not in k},
            "losses": _loss_classes(), "metrics": metrics.NAMES,
            "optimizers": {k: v for k, v in OPTIMIZER_CLASSES.items()},
            "regularizers": regularizers.NAMES, "constraints": constraints.NAMES, "initializers": initializers.NAMES}


def _retrieve_class(name, registered_name, module, full_config, custom_objects):
    for key in (registered_name, name):
        if isinstance(key, str):
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    tables = _class_tables()
    family = _family(module)
    order = [family] if family in tables else list(tables)
    for table in order:
        key = name.lower() if table == "optimizers" and isinstance(name, str) else name
        if key in tables[table]:
            _assert_no_registered_name_for_builtin(full_config, name, f"rnnkit's {name}")
            return tables[table][key]
    raise TypeError(f"Could not locate class '{name}'. Make sure custom classes and functions are decorated with "
                    "`@rnnkit.utils.register_keras_serializable()` (or passed as custom_objects={'Name': cls}). If "
                    "they are already decorated, make sure they are all imported so that the decorator is run "
                    f"before trying to load them. Full object config: {full_config}")


def _assert_no_registered_name_for_builtin(full_config: dict, name: str, resolved: str) -> None:
    """Keras's check: a config that resolved to a built-in must not name another registered object."""
    explicit = full_config.get("registered_name")
    if not explicit or explicit in (name, full_config.get("class_name")):
        return
    raise ValueError(f"`registered_name={explicit!r}` was provided in the config, but '{resolved}' resolved to a Keras "
                     "built-in (rnnkit's own) and does not use registered names. Remove the `registered_name` field "
                     f"from the config. Full object config: {full_config}")


def _activation(name: str):
    try:
        return activations.get(name)
    except (ValueError, TypeError, KeyError):
        return None


def _loss_function(name: str):
    return losses.LOSSES.get(name)


def _retrieve_function(name: str, registered_name, module, full_config, custom_objects):
    for key in (registered_name, name):
        if isinstance(key, str):
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    family = _family(module)
    lookups = {"activations": _activation, "losses": _loss_function}
    for fam in ([family] if family in lookups else list(lookups)):
        found = lookups[fam](name)
        if found is not None:
            _assert_no_registered_name_for_builtin(full_config, name, f"rnnkit's {name}")
            return found
    if ">" not in name:  # Keras <= 3.6 saved a registered function by its bare name: "package>name" it is
        for key, obj in registry.all_custom_objects(custom_objects).items():
            if key.endswith(f">{name}"):
                return obj
    raise TypeError(f"Could not locate function '{name}'. Make sure custom classes and functions are decorated with "
                    "`@rnnkit.utils.register_keras_serializable()` (or passed as custom_objects={'name': fn}). If "
                    "they are already decorated, make sure they are all imported so that the decorator is run "
                    f"before trying to load them. Full object config: {full_config}")
