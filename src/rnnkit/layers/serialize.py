"""Layers to and from plain configs ({"class_name": ..., "config": {...}}), for saving and the spec parser.

>>> from rnnkit.layers import LSTM
>>> spec = serialize(LSTM(4, return_sequences=True, name="enc"))
>>> spec["class_name"], spec["config"]["units"], deserialize(spec).return_sequences
('LSTM', 4, True)
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from .. import activations
from ..cells.base import Cell
from ..registry import BUILTIN, all_custom_objects, get_registered, register_rebuilder, registered, registered_name
from .base import Layer

_ACTIVATION_KEYS = ("activation", "recurrent_activation")


def builtin_layers() -> dict[str, type]:
    """{class name: class} of rnnkit's own layers (what the spec parser may build)."""
    return {k: v for k, v in registered(Layer).items() if ">" not in k and v.__module__.startswith(BUILTIN)}


def serialize(layer: nn.Module) -> dict:
    """{"class_name", "config"} for a registered layer or cell; a custom one needs registering and get_config."""
    name = registered_name(type(layer))
    if name is None or not hasattr(layer, "get_config"):
        raise TypeError(f"Cannot save a {type(layer).__name__}: a layer is saved by its registered name and its "
                        "get_config(). Decorate the class with @rnnkit.register_serializable() and give it "
                        "get_config() returning its constructor arguments, or save the weights with "
                        "torch.save(model.state_dict()).")
    return {"class_name": name, "config": layer.get_config()}


def deserialize(spec: dict, custom_objects: dict[str, Callable] | None = None) -> Layer:
    """Rebuild a layer from `serialize`'s output. custom_objects maps custom activation names to functions
    (the registered objects and those of a `custom_object_scope` are found too)."""
    name = spec.get("class_name")
    cls = get_registered(name, custom_objects) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Unknown layer {name!r}. Known layers: {', '.join(sorted(registered(Layer)))}. A custom "
                         "layer class is found when decorated with @rnnkit.register_serializable(), or passed "
                         "as custom_objects={'Name': cls}.")
    return rebuild(cls, spec.get("config", {}), custom_objects)


def rebuild(cls: type, config: dict, custom_objects: dict[str, Callable] | None = None):
    """The layer or cell of class `cls` that `config` (its get_config()) describes: nested layers and
    cells rebuilt, activations and a Lambda's function looked up (`Layer.from_config`)."""
    name = registered_name(cls) or cls.__name__
    custom_objects = all_custom_objects(custom_objects)
    config = dict(config or {})
    if isinstance(config.get("layer"), dict):  # wrappers hold the config of the layer they wrap
        config["layer"] = deserialize(config["layer"], custom_objects)
    if isinstance(config.get("cell"), dict):  # RNN holds the config of its cell
        config["cell"] = deserialize(config["cell"], custom_objects)
    if isinstance(config.get("cells"), list):  # StackedRNNCells holds its cells' configs
        config["cells"] = [deserialize(c, custom_objects) if isinstance(c, dict) else c for c in config["cells"]]
    for key in _ACTIVATION_KEYS:
        if key in config:
            config[key] = _activation(config[key], custom_objects)
    if name == "Lambda":
        config["function"] = _function(config, custom_objects)
    batch_input_shape = config.pop("batch_input_shape", None)
    try:
        layer = cls(**config)
    except TypeError as err:
        raise ValueError(f"Cannot rebuild {name} from its config {sorted(config)}: {err}.") from None
    if batch_input_shape is not None:
        layer.batch_input_shape = tuple(batch_input_shape)
    return layer


register_rebuilder(Layer, rebuild)  # Layer.from_config, and deserialize_keras_object for layers and cells
register_rebuilder(Cell, rebuild)


def _activation(name, custom_objects):
    if name is None or callable(name):
        return name
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    try:
        activations.get(name)
    except ValueError:
        raise ValueError(f"The saved model uses the activation {name!r}, which is not a Keras activation. "
                         f"Pass its function: custom_objects={{{name!r}: fn}}.") from None
    return name


def _function(config: dict, custom_objects):
    name = config["function"]
    if custom_objects and config.get("name") in custom_objects and name == "<lambda>":
        return custom_objects[config["name"]]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    key = config.get("name") if name == "<lambda>" else name
    raise ValueError(f"Lambda layer {config.get('name')!r} holds the function {name!r}, whose code is not stored in "
                     f"the file. Pass it: custom_objects={{{key!r}: fn}}, or rebuild the model in code and call "
                     "model.load_weights(path).")
