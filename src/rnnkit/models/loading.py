"""Loading models from files: rnnkit checkpoints and Keras's `.keras` / legacy `.h5` files; Keras's
`save_model` and `model_from_json` (the architecture alone, from `model.to_json()`)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py

from ..io.carried import carries_rnnkit
from ..io.checkpoint import load
from ..io.keras import KerasModel, model_from_keras_config, read_keras
from ..layers.core import Input
from ..utils.serialization import deserialize_keras_object
from .base import BaseModel
from .functional import Model
from .sequential import Sequential


def load_keras(path) -> Sequential | Model:
    """A Keras 3 `.keras` or legacy `.h5` model as an rnnkit model with the same outputs: a `Sequential`
    for a Keras Sequential, a functional `Model` for a Keras functional model (several inputs and
    outputs, shared layers, `initial_state`...).

    Keras does not save the states of stateful layers, so the model starts with fresh states.
    """
    return _as_model(read_keras(path))


def _as_model(found: KerasModel) -> Sequential | Model:
    if found.functional:
        return Model(found.inputs, found.outputs, name=found.name)
    first = [Input(batch_shape=found.input_shape)] if found.input_shape else []
    return Sequential(first + found.layers, name=found.name)


def load_model(path, custom_objects: dict | None = None, compile: bool = True, device=None):
    """An rnnkit file (with its kept states; also when carried inside a Keras file `model.save` wrote), or a
    Keras `.keras` / legacy `.h5` model file (Keras's name);
    `device` puts it there (see `rnnkit.load`)."""
    path = Path(path)
    if path.is_file() and (zipfile.is_zipfile(path) or h5py.is_hdf5(path)) and not carries_rnnkit(path):
        model = load_keras(path)
        return model if device is None else model.to(device)
    return load(path, custom_objects=custom_objects, compile=compile, device=device)


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Keras's `save_model(model, filepath)`: `model.save(filepath, ...)` (`.keras` / `.h5`: Keras's
    formats; any other name: an rnnkit checkpoint). `overwrite=False` refuses an existing file."""
    if not overwrite and Path(filepath).exists():
        raise FileExistsError(f"save_model: {str(filepath)!r} exists and overwrite=False.")
    model.save(filepath, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """Keras's `model_from_json`: the model (new weights) that `model.to_json()` describes, from rnnkit's
    `to_json` or from Keras's own (a Keras Sequential or functional model's JSON, read as `load_keras`
    reads a file's config). `custom_objects` ({"name": class or function}) names what the JSON uses
    beyond rnnkit's classes and the registered ones."""
    config = json.loads(json_string) if isinstance(json_string, (str, bytes)) else json_string
    module = config.get("module") if isinstance(config, dict) else None
    if isinstance(config, dict) and (str(module).split(".")[0] == "keras" or config.get("class_name") == "Functional"):
        return _as_model(model_from_keras_config(config, "the model JSON"))
    model = deserialize_keras_object(config, custom_objects)
    if not isinstance(model, BaseModel):
        raise ValueError(f"model_from_json: the JSON describes a {type(model).__name__}, not a model. Pass what "
                         "model.to_json() returned.")
    return model
