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
from . import carried
from .checkpoint import atomic_write, encode
from .checkpoint import load_weights as load_rnnkit_weights
from .keras import _keras3_datasets
from .keras_export import KERAS_FORMAT, _weights_h5, keras_bytes, keras_layers
from .keras_safety import KerasFileError, check_h5, open_h5

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
    with distributed.whole_states(model.__dict__.get("_shard")):
        if not distributed.is_main():
            return
        ours = encode(model, scaler, include_optimizer)
        if kind is None:
            atomic_write(path, ours)
            return
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
    config, layers, keys = keras_layers(model)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["keras_version"] = KERAS_FORMAT
        f.attrs["backend"] = "torch"
        f.attrs["model_config"] = json.dumps(_legacy_config(config))
        _legacy_weights(f.create_group("model_weights"), model, layers, keys)
        f.create_dataset(carried.H5_DATASET, data=np.frombuffer(ours, dtype=np.uint8))
    return buffer.getvalue()


def _legacy_config(config: dict) -> dict:
    # Keras's legacy config: the model and each of its layers as {"class_name", "config"}, without
    # Keras 3's module and registered name (kept inside: Bidirectional's layer, dtype policies).
    bare = lambda d: {k: v for k, v in d.items() if k not in ("module", "registered_name", "build_config")}
    body = dict(config["config"])
    body["layers"] = [bare(layer) for layer in body["layers"]]
    return {**bare(config), "config": body}


def _legacy_weights(group: h5py.Group, model, layers: list, keys: list[str]) -> None:
    """Keras's legacy weights layout: `layer_names` in order, and per layer a group whose `weight_names`
    list its arrays (Keras's weight order) by their paths inside the group."""
    names = [getattr(layer, "name", key) for layer, key in zip(layers, keys)]
    group.attrs["layer_names"] = _names(names)
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = KERAS_FORMAT.encode()
    with h5py.File(io.BytesIO(_weights_h5(layers, model.name)), "r") as f:
        for name, key in zip(names, keys):
            arrays = [d[()] for d in _keras3_datasets(f["layers"][key], "")]
            g = group.create_group(name)
            paths = [f"{model.name}/{name}/{i}" for i in range(len(arrays))]
            g.attrs["weight_names"] = _names(paths)
            for p, a in zip(paths, arrays):
                g.create_dataset(p, data=a)
    group.create_group("top_level_model_weights").attrs["weight_names"] = _names([])


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
        with distributed.whole_states(model.__dict__.get("_shard")):
            if distributed.is_main():
                atomic_write(path, encode(model, None, include_optimizer=False))
        return
    _, layers, keys = keras_layers(model)
    if distributed.is_main():
        if kind == "weights.h5":
            data = _weights_h5(layers, model.name)
        else:
            buffer = io.BytesIO()
            with h5py.File(buffer, "w") as f:
                _legacy_weights(f, model, layers, keys)
            data = buffer.getvalue()
        atomic_write(path, data, rnnkit_format=False)


def load_weights(model, path) -> None:
    """What `model.load_weights(path)` does: an rnnkit file, a Keras 3 `.weights.h5` or a legacy `.h5`
    weights (or model) file. Every array is checked against the model first: on a mismatch it raises
    and changes nothing."""
    where = repr(str(path))
    head = Path(path).read_bytes()[:8] if Path(path).is_file() else b""
    if head != carried.H5_MAGIC:  # rnnkit files, and Keras zips carrying one, go to the checkpoint reader
        load_rnnkit_weights(model, path)
        return
    _, layers, keys = keras_layers(model)
    with open_h5(path, where) as f:
        check_h5(f, "/", where)
        if f.id.links.exists(carried.H5_DATASET.encode()):  # a legacy model file model.save wrote
            load_rnnkit_weights(model, path)
            return
        if "layer_names" not in f.attrs and not f.id.links.exists(b"model_weights"):  # Keras 3's layout
            found = {key: _keras3_datasets(f["layers"][key], where) if key in f["layers"] else []
                     for key in keys}
            arrays = [[d[()] for d in found[key]] for key in keys]
        else:
            arrays = _legacy_arrays(f["model_weights"] if "model_weights" in f else f, layers, where)
    _set_all(layers, arrays, where)


def _legacy_arrays(group, layers: list, where: str) -> list[list[np.ndarray]]:
    """As Keras reads a legacy file: the i-th layer with weights in the file's `layer_names` goes to the
    i-th layer with weights in the model (not by name: a rebuilt model names its layers anew)."""
    names = [_text(n) for n in np.asarray(group.attrs.get("layer_names", [])).ravel()]
    stored = [a for a in (_layer_arrays(group, n, where) for n in names if n in group) if a]
    owners = [i for i, layer in enumerate(layers) if hasattr(layer, "keras_weights") and layer.keras_weights()]
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


def _layer_arrays(group, name: str, where: str) -> list[np.ndarray]:
    g = group[name]
    if not isinstance(g, h5py.Group):
        raise KerasFileError(f"{where}: {name!r} is a dataset where Keras writes a layer's group.")
    names = [_text(n) for n in np.asarray(g.attrs.get("weight_names", [])).ravel()]
    out = []
    for n in names:
        found = g.get(n) if not n.startswith("/") and ".." not in n.split("/") else None
        if not isinstance(found, h5py.Dataset):
            raise KerasFileError(f"{where}: layer {name!r} lists weight {n!r}, which is not a dataset in its group.")
        out.append(found[()])
    return out


def _set_all(layers: list, arrays: list[list[np.ndarray]], where: str) -> None:
    """Check every layer's arrays against its Keras weights, then set them all (nothing set on a mismatch)."""
    for layer, got in zip(layers, arrays):
        want = [np.shape(w) for w in (layer.keras_weights() if hasattr(layer, "keras_weights") else [])]
        have = [np.shape(a) for a in got]
        if want != have:
            raise ValueError(f"The weights in {where} do not fit this model (nothing was changed): layer "
                             f"{layer.name!r} ({type(layer).__name__}) has weights of shapes {want}, the file holds "
                             f"{have} for it. Was the file saved from a model built the same way?")
    for layer, got in zip(layers, arrays):
        if got:
            layer.set_keras_weights(got)
