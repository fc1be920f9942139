"""Read Keras models (`.keras` zip files and legacy `.h5` files) into rnnkit, without importing Keras.

A `.keras` file is a zip of `config.json` (the architecture) and `model.weights.h5` (weights under
`layers/<snake_case class name>[_k]/.../vars/<i>`); a legacy `.h5` file holds the config as the
`model_config` attribute and weights under `model_weights/<layer name>` in `weight_names` order.
Both are read with h5py; the layers keep Keras's weight layout through `set_keras_weights`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np

from ..layers.serialize import builtin_layers

_RNN_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state",
             "go_backwards", "stateful", "dropout", "recurrent_dropout", "zero_output_for_mask")
# Keras config keys each rnnkit layer takes; the rest (initializers, regularizers, dtype...) do not
# change what a loaded model computes.
_KEYS = {
    "LSTM": (*_RNN_KEYS, "unit_forget_bias"),
    "GRU": (*_RNN_KEYS, "reset_after"),
    "SimpleRNN": tuple(k for k in _RNN_KEYS if k != "recurrent_activation"),
    "Dense": ("units", "activation", "use_bias"),
    "Embedding": ("input_dim", "output_dim", "mask_zero"),
    "Dropout": ("rate",),
    "Activation": ("activation",),
    "Flatten": (),
    "Reshape": ("target_shape",),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "RepeatVector": ("n",),
    "TimeDistributed": (),
    "Bidirectional": ("merge_mode",),
}
_CLASSES = {name: builtin_layers()[name] for name in _KEYS}
_ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}
SUPPORTED = sorted([*_CLASSES, "InputLayer"])


def read_keras(path) -> tuple[list, tuple | None, str | None]:
    """The layers (with Keras's weights), the input batch shape and the name of a Keras 3 `.keras` or
    legacy `.h5` Sequential model; `rnnkit.load_keras` makes them a Sequential.

    Keras does not save the states of stateful layers, so the layers start with fresh states.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No Keras model at {str(path)!r}.")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ValueError(f"{str(path)!r} is a zip file but not a Keras 3 model (it needs config.json "
                                 f"and model.weights.h5; it has {sorted(names)[:5]}).")
            config = json.loads(z.read("config.json"))
            weights = io.BytesIO(z.read("model.weights.h5"))
        layers, input_shape, name = build(config)
        with h5py.File(weights, "r") as f:
            _load_keras3_weights(f, layers)
        return layers, input_shape, name
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise ValueError(f"{str(path)!r} is an HDF5 file without a model config: a weights-only file "
                                 "(save_weights)? Build the model, then call layer.set_keras_weights.")
            raw = f.attrs["model_config"]
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            layers, input_shape, name = build(config)
            _load_legacy_weights(f["model_weights"] if "model_weights" in f else f, layers)
        return layers, input_shape, name
    raise ValueError(f"{str(path)!r} is neither a .keras (zip) nor a legacy .h5 (HDF5) Keras model file.")


def build(config: dict) -> tuple[list, tuple | None, str | None]:
    """rnnkit layers from a Keras Sequential config in Keras's order, its input batch shape and name."""
    kind = config.get("class_name")
    if kind != "Sequential":
        raise ValueError(f"load_keras reads Sequential models; this file holds a {kind!r} model. Rebuild it "
                         "with rnnkit's functional Model and load the weights layer by layer with "
                         "layer.set_keras_weights(...).")
    specs = config["config"]["layers"]
    input_shape = None
    layers = []
    for spec in specs:
        if spec["class_name"] == "InputLayer":
            c = spec["config"]
            input_shape = c.get("batch_shape") or c.get("batch_input_shape")
            continue
        if input_shape is None and spec["config"].get("batch_input_shape"):  # Keras 2 files
            input_shape = spec["config"]["batch_input_shape"]
        layers.append(_layer(spec))
    return layers, (tuple(input_shape) if input_shape else None), config["config"].get("name")


def _layer(spec: dict):
    name = _ALIASES.get(spec["class_name"], spec["class_name"])
    if name not in _CLASSES:
        raise ValueError(f"Keras layer {spec['class_name']!r} is not supported by load_keras. Supported layers: "
                         f"{', '.join(SUPPORTED)}.")
    c = spec["config"]
    kwargs = {k: c[k] for k in _KEYS[name] if k in c}
    for key in ("activation", "recurrent_activation"):
        if isinstance(kwargs.get(key), dict):
            raise ValueError(f"Keras layer {c.get('name')!r} uses a custom {key} ({kwargs[key].get('class_name')}); "
                             "load_keras handles activations given by name.")
    if name == "Conv2D" and (c.get("data_format", "channels_last") != "channels_last"
                             or tuple(np.atleast_1d(c.get("dilation_rate", 1))) not in ((1,), (1, 1))):
        raise ValueError(f"Conv2D {c.get('name')!r}: only channels_last without dilation is supported.")
    if name in ("TimeDistributed", "Bidirectional"):
        kwargs["layer"] = _layer(c["layer"])
    if name == "Bidirectional" and c.get("backward_layer"):
        back, front = c["backward_layer"], c["layer"]
        if back["class_name"] != front["class_name"] or back["config"].get("units") != front["config"].get("units"):
            raise ValueError(f"Bidirectional {c.get('name')!r}: a backward layer unlike the forward one "
                             f"({back['class_name']} vs {front['class_name']}) is not supported.")
    return _CLASSES[name](name=c.get("name"), **kwargs)


def _snake_case(name: str) -> str:
    # Keras's naming of saved layer groups: "SimpleRNN" -> "simple_rnn", "Conv2D" -> "conv2d".
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# Sub-groups in the order Keras lists their weights (h5py lists groups alphabetically).
_CHILD_ORDER = ("cell", "layer", "forward_layer", "backward_layer")


def _vars(group) -> list[np.ndarray]:
    out = []
    if "vars" in group:
        out += [group["vars"][str(i)][()] for i in range(len(group["vars"]))]
    children = [k for k in group if k != "vars"]
    children.sort(key=lambda k: (_CHILD_ORDER.index(k) if k in _CHILD_ORDER else len(_CHILD_ORDER), k))
    for k in children:
        out += _vars(group[k])
    return out


def _load_keras3_weights(f, layers) -> None:
    counts: dict[str, int] = defaultdict(int)
    root = f["layers"] if "layers" in f else {}
    for layer in layers:
        base = _snake_case(type(layer).__name__)
        n = counts[base]
        counts[base] += 1
        key = base if n == 0 else f"{base}_{n}"
        weights = _vars(root[key]) if key in root else []
        _set(layer, weights, key)


def _load_legacy_weights(group, layers) -> None:
    for layer in layers:
        if layer.name not in group:
            _set(layer, [], layer.name)
            continue
        g = group[layer.name]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs.get("weight_names", [])]
        _set(layer, [g[n][()] for n in names], layer.name)


def _set(layer, weights: list, where: str) -> None:
    has_weights = any(True for _ in layer.parameters())
    if not weights:
        if has_weights:
            raise ValueError(f"The Keras file has no weights for layer {layer.name!r} (looked for {where!r}).")
        return
    layer.set_keras_weights(weights)
