"""Loading models from files: rnnkit checkpoints and Keras's `.keras` / legacy `.h5` files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import h5py

from ..io.carried import carries_rnnkit
from ..io.checkpoint import load
from ..io.keras import read_keras
from ..layers.core import Input
from .functional import Model
from .sequential import Sequential


def load_keras(path) -> Sequential | Model:
    """A Keras 3 `.keras` or legacy `.h5` model as an rnnkit model with the same outputs: a `Sequential`
    for a Keras Sequential, a functional `Model` for a Keras functional model (several inputs and
    outputs, shared layers, `initial_state`...).

    Keras does not save the states of stateful layers, so the model starts with fresh states.
    """
    found = read_keras(path)
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
