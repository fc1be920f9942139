"""Keras's `keras.models` names, so `from keras.models import Model, load_model` ports by changing the import."""

from __future__ import annotations

import zipfile
from pathlib import Path

import h5py

from .functional import Model
from .model import Sequential
from .persist import load


def load_model(path, custom_objects: dict | None = None, compile: bool = True):
    """An rnnkit file (with its kept states), or a Keras `.keras` / legacy `.h5` model file."""
    path = Path(path)
    if path.is_file() and (zipfile.is_zipfile(path) or h5py.is_hdf5(path)):
        from .keras_import import load_keras
        return load_keras(path)
    return load(path, custom_objects=custom_objects, compile=compile)


__all__ = ["Model", "Sequential", "load_model"]
