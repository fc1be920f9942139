"""`model.save` and `save_weights` under Keras's file names write Keras's own formats.

| call                                   | file                                                         |
|----------------------------------------|--------------------------------------------------------------|
| `model.save("m.keras")`                | Keras 3 zip + rnnkit's whole checkpoint carried inside       |
| `model.save("m.h5")` / `".hdf5"`       | Keras's legacy HDF5 model + rnnkit's checkpoint carried      |
| `model.save_weights("w.weights.h5")`   | Keras 3 weights file (what `keras.Model.load_weights` reads) |
| `model.save_weights("w.h5")`           | Keras's legacy HDF5 weights                                  |
| any other name                         | rnnkit's format (safetensors)                                |

Keras opens the model files as its own and ignores the carried checkpoint (io/carried.py); `rnnkit.load`
and `load_model` read the carried checkpoint, so kept states, optimizer and compile settings survive,
which Keras's format cannot hold. A model Keras has no counterpart for (a layer rnnkit alone has, a
Sequential without an input shape) is written in rnnkit's format with a warning that names the reason.
`load_weights` reads both Keras weights files and rnnkit files, checking every shape before it changes
anything.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import h5py
import numpy as np

from ..training import distributed
from . import carried, checkpoint
from .checkpoint import atomic_write, encode
from .keras import keras3_datasets, legacy_datasets
from .keras_export import KERAS_FORMAT, _weights_h5, keras_bytes, keras_layers
from .keras_safety import check_h5, open_h5

_LEGACY = (".h5", ".hdf5")


def keras_kind(path) -> str | None:
    """'keras', 'h5' or None (rnnkit's format) for a model file name; 'weights.h5' / 'h5' for weights."""
    name = str(path).lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".weights.h5"):
        return "weights.h5"
    return "h5" if name.endswith(_LEGACY) else None


# -- model.save ----------------------------------------------------------------------------------------
def save_model(model, path, scaler=None, include_optimizer: bool = True) -> None:
    """What `model.save(path)` does: see the table above. In a distributed fit rank 0 writes."""
    kind = keras_kind(path) if isinstance(path, (str, Path)) else None
    if kind is None:
        checkpoint.save(model, path, scaler=scaler, include_optimizer=include_optimizer)
        return
    with distributed.whole_states(model.__dict__.get("_shard")):
        if not distributed.is_main():
            return
        ours = encode(model, scaler, include_optimizer)
        try:
            data = (keras_bytes(model, {carried.ZIP_ENTRY: ours}) if kind == "keras"
                    else _legacy_h5(model, ours))
        except ValueError as err:  # no Keras counterpart: rnnkit's format, and say why
            warnings.warn(f"{path}: written in rnnkit's format (which rnnkit.load reads, Keras cannot), not Keras's: "
                          f"{err}", UserWarning, stacklevel=3)
            atomic_write(path, ours, rnnkit_format=False)
            return
        atomic_write(path, data, rnnkit_format=False)


def _legacy_h5(model, ours: bytes) -> bytes:
    """Keras's legacy HDF5 model file (what Keras 3 writes for `model.save("m.h5")`), carrying `ours`."""
    config, layers, _ = keras_layers(model)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["keras_version"] = KERAS_FORMAT
        f.attrs["backend"] = "torch"
        f.attrs["model_config"] = json.dumps(_legacy_config(config))
        _legacy_weights(f.create_group("model_weights"), model.name, layers)
        f.create_dataset(carried.H5_DATASET, data=np.frombuffer(ours, dtype=np.uint8))
    return buffer.getvalue()


def _legacy_config(config: dict) -> dict:
    # Keras's legacy config: the model and each of its layers as {"class_name", "config"}, without
    # Keras 3's module and registered name (kept inside: Bidirectional's layer, dtype policies).
    bare = lambda d: {k: v for k, v in d.items() if k not in ("module", "registered_name", "build_config")}
    body = dict(config["config"])
    body["layers"] = [bare(layer) for layer in body["layers"]]
    return {**bare(config), "config": body}


def _legacy_weights(group: h5py.Group, model_name: str, layers: list) -> None:
    """Keras's legacy weights layout: `layer_names` in order, and per layer a group whose `weight_names`
    list its arrays (Keras's weight order) by their paths inside the group."""
    group.attrs["layer_names"] = _names([layer.name for layer in layers])
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = KERAS_FORMAT.encode()
    for layer in layers:
        arrays = _keras_arrays(layer)
        g = group.create_group(layer.name)
        paths = [f"{model_name}/{layer.name}/{i}" for i in range(len(arrays))]
        g.attrs["weight_names"] = _names(paths)
        for p, a in zip(paths, arrays):
            g.create_dataset(p, data=np.asarray(a, dtype=np.float32))
    group.create_group("top_level_model_weights").attrs["weight_names"] = _names([])


def _keras_arrays(layer) -> list:
    # A layer's weights in Keras's layout and order: what keras_export writes under its group (a wrapper's
    # keras_weights() holds its inner layers', in Keras's order), nothing for a layer without weights.
    return layer.keras_weights() if hasattr(layer, "keras_weights") else []


def _names(names: list[str]) -> np.ndarray:
    # As Keras writes them: byte strings, and an empty float array for none (HDF5 has no empty object array).
    return np.array([n.encode() for n in names], dtype="S") if names else np.array([], dtype=np.float64)


# -- weights -------------------------------------------------------------------------------------------
def save_weights(model, path) -> None:
    """What `model.save_weights(path)` does: see the table above."""
    kind = keras_kind(path) if isinstance(path, (str, Path)) else None
    if kind not in ("weights.h5", "h5"):
        if kind == "keras":
            raise ValueError(f"save_weights({str(path)!r}): a .keras file holds a whole model. Use "
                             "model.save(path) for it, or a name ending in .weights.h5 for the weights (as Keras).")
        checkpoint.save(model, path, include_optimizer=False)
        return
    _, layers, _ = keras_layers(model)
    if distributed.is_main():
        if kind == "weights.h5":
            data = _weights_h5(layers, model.name)
        else:
            buffer = io.BytesIO()
            with h5py.File(buffer, "w") as f:
                _legacy_weights(f, model.name, layers)
            data = buffer.getvalue()
        atomic_write(path, data, rnnkit_format=False)


def load_weights(model, path) -> None:
    """What `model.load_weights(path)` does: an rnnkit file, a Keras 3 `.weights.h5` or a legacy `.h5`
    weights (or model) file. Every array is checked against the model first: on a mismatch it raises
    and changes nothing."""
    where = repr(str(path))
    head = b""
    if Path(path).is_file():
        with open(path, "rb") as f:
            head = f.read(len(carried.H5_MAGIC))
    if head != carried.H5_MAGIC:  # rnnkit files, and Keras zips carrying one, go to the checkpoint reader
        checkpoint.load_weights(model, path)
        return
    _, layers, keys = keras_layers(model)
    wanted = [[np.shape(w) for w in _keras_arrays(layer)] for layer in layers]
    with open_h5(path, where) as f:
        check_h5(f, "/", where)
        if f.id.links.exists(carried.H5_DATASET.encode()):  # a legacy model file model.save wrote
            checkpoint.load_weights(model, path)
            return
        if "layer_names" not in f.attrs and not f.id.links.exists(b"model_weights"):  # Keras 3's layout
            arrays = [[d[()] for d in keras3_datasets(f, key, where)] for key in keys]
        else:
            arrays = _legacy_arrays(f["model_weights"] if "model_weights" in f else f, layers, wanted, where)
    _set_all(layers, wanted, arrays, where)


def _legacy_arrays(group, layers: list, wanted: list, where: str) -> list[list[np.ndarray]]:
    """As Keras reads a legacy file: the i-th layer with weights in the file's `layer_names` goes to the
    i-th layer with weights in the model (not by name: a rebuilt model names its layers anew)."""
    names = [_text(n) for n in np.asarray(group.attrs.get("layer_names", [])).ravel()]
    stored = [a for a in ([d[()] for d in legacy_datasets(group, n, where)] for n in names) if a]
    owners = [i for i, shapes in enumerate(wanted) if shapes]
    if len(stored) != len(owners):
        raise ValueError(f"The weights in {where} do not fit this model (nothing was changed): the file holds "
                         f"weights for {len(stored)} layers, the model has {len(owners)} layers with weights "
                         f"({', '.join(layers[i].name for i in owners)}).")
    arrays: list[list[np.ndarray]] = [[] for _ in layers]
    for i, got in zip(owners, stored):
        arrays[i] = got
    return arrays


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _set_all(layers: list, wanted: list, arrays: list[list[np.ndarray]], where: str) -> None:
    """Check every layer's arrays against its Keras weights' shapes (`wanted`), then set them all
    (nothing set on a mismatch)."""
    for layer, want, got in zip(layers, wanted, arrays):
        have = [np.shape(a) for a in got]
        if want != have:
            raise ValueError(f"The weights in {where} do not fit this model (nothing was changed): layer "
                             f"{layer.name!r} ({type(layer).__name__}) has weights of shapes {want}, the file holds "
                             f"{have} for it. Was the file saved from a model built the same way?")
    for layer, got in zip(layers, arrays):
        if got:
            layer.set_keras_weights(got)
