"""Read Keras models (`.keras` zip files and legacy `.h5` files) into rnnkit, without importing Keras.

A `.keras` file is a zip of `config.json` (the architecture) and `model.weights.h5` (weights under
`layers/<snake_case class name>[_k]/.../vars/<i>`); a legacy `.h5` file holds the config as the
`model_config` attribute and weights under `model_weights/<layer name>` in `weight_names` order.
Both are read with h5py; the layers keep Keras's weight layout through `set_keras_weights`.

A model file may come from anyone, so nothing in it is trusted before it is checked: `keras_safety`
checks the zip and the HDF5 structure before anything is read; here every size in the config is checked
against a range before anything is allocated, and every weight's shape against what its layer expects
before the weight is read. Whatever fails raises `KerasFileError`.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np

from ..layers.serialize import builtin_layers
from .keras_safety import MAX_CONFIG_BYTES, RESAVE, KerasFileError, check_h5, open_h5, read_zip, show

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
_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
# Sub-groups that hold a layer's weights inside its group of model.weights.h5 (keras_export writes
# them; the reader walks whatever sub-groups a file has, in _CHILD_ORDER).
_WEIGHT_CHILDREN = {**{kind: ("cell",) for kind in _GATES}, "TimeDistributed": ("layer",),
                    "Bidirectional": ("forward_layer", "backward_layer")}

# What a file may declare, far above any real Keras model; checked before anything is allocated.
_MAX_LAYERS = 10_000
_MAX_WRAPPING = 8  # TimeDistributed(Bidirectional(LSTM)) is 2
_MAX_SIZE = 2**24  # any one size: units, vocabulary, features, time steps, batch
_MAX_WINDOW = 2**12  # kernel and pool sizes, strides
_MAX_WEIGHTS = 2**31  # values in one weight array (8 GiB of float32)
_MAX_INPUT_VALUES = 2**28  # values in the example input rnnkit allocates for a declared batch shape
# Filters built into HDF5 and h5py. Any other id makes HDF5 look for a plugin library to load.
_FEATURES, _CHANNELS = "input features", "input channels"  # weight axes the config does not fix




def read_keras(path) -> tuple[list, tuple | None, str | None]:
    """The layers (with Keras's weights), the input batch shape and the name of a Keras 3 `.keras` or
    legacy `.h5` Sequential model; `rnnkit.load_keras` makes them a Sequential.

    Keras does not save the states of stateful layers, so the layers start with fresh states.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No Keras model at {str(path)!r}.")
    where = repr(str(path))
    if zipfile.is_zipfile(path):
        config, weights = read_zip(path, where)
        layers, plans, input_shape, name = _build(_parse_config(config, where))
        with open_h5(weights, f"model.weights.h5 in {where}") as f:
            check_h5(f, "/layers", where)
            _load_keras3_weights(f, layers, plans, where)
        return layers, input_shape, name
    if h5py.is_hdf5(path):
        with open_h5(path, where) as f:
            tree = "/model_weights" if f.id.links.exists(b"model_weights") else "/"
            check_h5(f, tree, where)  # first: looking a name up follows the links on its way
            if "model_config" not in f.attrs:
                raise KerasFileError(f"{where} is an HDF5 file without a model config: a weights-only file "
                                     "(save_weights)? Build the model, then call layer.set_keras_weights.")
            try:
                raw = f.attrs["model_config"]
            except (OSError, TypeError, ValueError) as err:
                raise KerasFileError(f"{where}: the model_config attribute cannot be read ({err}).{RESAVE}") from None
            layers, plans, input_shape, name = _build(_parse_config(raw, where))
            _load_legacy_weights(f[tree], layers, plans, where)
        return layers, input_shape, name
    raise KerasFileError(f"{where} is neither a .keras (zip) nor a legacy .h5 (HDF5) Keras model file.")


# -- the config ----------------------------------------------------------------------------------------
def _parse_config(raw, where: str) -> dict:
    if isinstance(raw, np.ndarray) and raw.ndim == 0:
        raw = raw.item()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise KerasFileError(f"{where}: the model config is not UTF-8 text ({err}).{RESAVE}") from None
    if not isinstance(raw, str):
        raise KerasFileError(f"{where}: the model config must be JSON text, received {type(raw).__name__}.{RESAVE}")
    if len(raw) > MAX_CONFIG_BYTES:
        raise KerasFileError(f"{where}: the model config has {len(raw)} characters; at most {MAX_CONFIG_BYTES} "
                             f"are read.{RESAVE}")
    try:
        config = json.loads(raw)
    except RecursionError:
        raise KerasFileError(f"{where}: the model config is nested too deeply (beyond Python's recursion limit) "
                             f"to be a Keras model.{RESAVE}") from None
    except ValueError as err:
        raise KerasFileError(f"{where}: the model config is not valid JSON ({err}).{RESAVE}") from None
    return _object(config, "the model config")


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise KerasFileError(f"{what} must be a JSON object ({{...}}), received a {type(value).__name__}: "
                             f"{show(value)}.{RESAVE}")
    return value




def _build(config: dict) -> tuple[list, list, tuple | None, str | None]:
    """rnnkit layers from a Keras Sequential config in Keras's order, the shapes of the Keras weights each
    takes, the input batch shape and the model's name."""
    kind = config.get("class_name")
    if kind != "Sequential":
        raise KerasFileError(f"load_keras reads Sequential models; this file holds a {show(kind)} model. Rebuild "
                             "it with rnnkit's functional Model and load the weights layer by layer with "
                             "layer.set_keras_weights(...).")
    body = _object(config.get("config"), "the Sequential's 'config'")
    specs, name = body.get("layers"), body.get("name")
    if not isinstance(specs, list) or len(specs) > _MAX_LAYERS:
        raise KerasFileError(f"the Sequential's 'layers' must be a list of at most {_MAX_LAYERS} layer configs, "
                             f"received a {type(specs).__name__}: {show(specs)}.{RESAVE}")
    if name is not None and not isinstance(name, str):
        raise KerasFileError(f"the Sequential's 'name' must be a string, received {show(name)}.{RESAVE}")
    input_shape, layers, plans = None, [], []
    for i, spec in enumerate(specs):
        spec = _object(spec, f"layer {i}")
        c = _object(spec.get("config"), f"layer {i} 'config'")
        if _class_name(spec, f"layer {i}") == "InputLayer":
            key = "batch_shape" if c.get("batch_shape") else "batch_input_shape"
            input_shape = _batch_shape(c.get(key), f"InputLayer {show(c.get('name'))}", key)
            continue
        if input_shape is None and c.get("batch_input_shape"):  # Keras 2 files
            input_shape = _batch_shape(c["batch_input_shape"], f"{spec['class_name']} {show(c.get('name'))}",
                                       "batch_input_shape")
        layer, plan = _layer(spec, f"layer {i}")
        layers.append(layer)
        plans.append(plan)
    return layers, plans, input_shape, name


def _class_name(spec: dict, what: str) -> str:
    kind = spec.get("class_name")
    if not isinstance(kind, str):
        raise KerasFileError(f"{what}: 'class_name' must be a str naming a Keras layer, received a "
                             f"{type(kind).__name__}: {show(kind)}. Supported layers: {', '.join(SUPPORTED)}.")
    return kind


def _batch_shape(value, owner: str, key: str) -> tuple | None:
    if value is None:
        return None
    fits = (isinstance(value, list) and 1 <= len(value) <= 8
            and all(d is None or _is_int(d, 1, _MAX_SIZE) for d in value))
    if not fits:
        raise _out_of_range(owner, key, value, f"a list of 1 to 8 entries, each null or an integer in [1, {_MAX_SIZE}]")
    values = math.prod(d or 1 for d in value)
    if values > _MAX_INPUT_VALUES:
        raise KerasFileError(f"{owner}: {key}={show(value)} means {values} input values; at most "
                             f"{_MAX_INPUT_VALUES}, as rnnkit allocates an example input of that shape.{RESAVE}")
    return tuple(value)


def _layer(spec: dict, what: str, depth: int = 0):
    """An rnnkit layer from a Keras layer config, and the shapes of the Keras weights it takes (an axis
    the config does not fix is named, e.g. "input features")."""
    given = _class_name(spec, what)
    kind = _ALIASES.get(given, given)
    if kind not in _CLASSES:
        raise KerasFileError(f"Keras layer {given!r} is not supported by load_keras. Supported layers: "
                             f"{', '.join(SUPPORTED)}.")
    c = _object(spec.get("config"), f"{what} ({given}) 'config'")
    name = c.get("name")
    if name is not None and not (isinstance(name, str) and 0 < len(name) <= 256 and "/" not in name
                                 and "\x00" not in name and name not in (".", "..")):
        raise KerasFileError(f"{given}: layer name {show(name)} is not a Keras layer name; names are non-empty "
                             f"strings without '/' (rnnkit looks weights up by name).{RESAVE}")
    owner = f"{kind} {name!r}"
    kwargs = {k: _checked(owner, k, c[k]) for k in _KEYS[kind] if k in c}
    if kind == "Conv2D" and (c.get("data_format", "channels_last") != "channels_last"
                             or c.get("dilation_rate", 1) not in (1, [1], [1, 1])):
        raise KerasFileError(f"Conv2D {name!r}: only channels_last without dilation is supported.")
    inner_plan: list = []
    if kind in ("TimeDistributed", "Bidirectional"):
        if depth >= _MAX_WRAPPING:
            raise KerasFileError(f"{owner}: wrappers nested more than {_MAX_WRAPPING} deep; no Keras model is."
                                 f"{RESAVE}")
        inner = _object(c.get("layer"), f"{owner} 'layer'")
        kwargs["layer"], inner_plan = _layer(inner, f"{owner} 'layer'", depth + 1)
    if kind == "Bidirectional" and c.get("backward_layer"):
        back = _object(c["backward_layer"], f"{owner} 'backward_layer'")
        back_config = _object(back.get("config"), f"{owner} 'backward_layer' 'config'")
        if (back.get("class_name") != inner.get("class_name")
                or back_config.get("units") != inner["config"].get("units")):
            raise KerasFileError(f"Bidirectional {name!r}: a backward layer unlike the forward one "
                                 f"({show(back.get('class_name'))} vs {inner['class_name']}) is not supported.")
    _check_weight_count(owner, kind, kwargs)
    try:
        layer = _CLASSES[kind](name=name, **kwargs)
    except (ValueError, TypeError) as err:
        raise KerasFileError(f"{owner}: {err}{RESAVE}") from None
    return layer, _plan(kind, kwargs, inner_plan)


def _is_int(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _out_of_range(owner: str, key: str, value, allowed: str) -> KerasFileError:
    return KerasFileError(f"{owner}: {key}={show(value)} is out of range; allowed: {allowed}. The file was not "
                          f"written by Keras or was altered.{RESAVE}")


def _checked(owner: str, key: str, value):
    """`value` of config key `key`, or a KerasFileError naming the layer, the key, the value and the range."""
    window = f"an integer or a list of 1 or 2 integers in [1, {_MAX_WINDOW}]"
    if key in ("units", "input_dim", "output_dim", "filters", "n"):
        fits, allowed = _is_int(value, 1, _MAX_SIZE), f"integers in [1, {_MAX_SIZE}]"
    elif key in ("dropout", "recurrent_dropout", "rate"):
        fits = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1
        allowed = "numbers in [0, 1)"
    elif key in ("kernel_size", "strides", "pool_size"):
        fits = (_is_int(value, 1, _MAX_WINDOW) or (key == "strides" and value is None)
                or (isinstance(value, list) and len(value) in (1, 2)
                    and all(_is_int(d, 1, _MAX_WINDOW) for d in value)))
        allowed = window + (" (or null)" if key == "strides" else "")
    elif key == "target_shape":
        fits = (isinstance(value, list) and 1 <= len(value) <= 8 and value.count(-1) <= 1
                and all(d == -1 or _is_int(d, 1, _MAX_SIZE) for d in value))
        allowed = f"a list of 1 to 8 integers in [1, {_MAX_SIZE}], one of which may be -1"
    elif key in ("activation", "recurrent_activation"):
        if isinstance(value, dict):
            raise KerasFileError(f"Keras layer {owner} uses a custom {key} ({show(value.get('class_name'))}); "
                                 "load_keras handles activations given by name.")
        fits, allowed = value is None or isinstance(value, str), "an activation name such as 'tanh'"
    elif key in ("padding", "merge_mode"):
        fits, allowed = isinstance(value, str) or (key == "merge_mode" and value is None), "a string"
    else:  # use_bias, return_sequences, stateful, mask_zero, ...
        fits, allowed = isinstance(value, bool), "true or false"
    if not fits:
        raise _out_of_range(owner, key, value, allowed)
    return value


def _check_weight_count(owner: str, kind: str, kwargs: dict) -> None:
    # The weights the config alone sizes; the other axes are checked against the file's shapes.
    if kind in _GATES and "units" in kwargs:
        count, why = _GATES[kind] * kwargs["units"] ** 2, f"units={kwargs['units']} means"
        what = "weights in the recurrent kernel"
    elif kind == "Embedding" and "input_dim" in kwargs and "output_dim" in kwargs:
        count, why, what = kwargs["input_dim"] * kwargs["output_dim"], "input_dim * output_dim =", "weights"
    else:
        return
    if count > _MAX_WEIGHTS:
        raise KerasFileError(f"{owner}: {why} {count} {what}; at most {_MAX_WEIGHTS} are accepted in one "
                             f"weight array.{RESAVE}")


def _plan(kind: str, kw: dict, inner: list) -> list[tuple]:
    """The shapes of the Keras weights of a layer, in Keras's order."""
    bias = kw.get("use_bias", True)
    if kind in _GATES:
        H = kw["units"]
        GH = _GATES[kind] * H
        return [(_FEATURES, GH), (H, GH)] + ([(2, GH) if kind == "GRU" and kw.get("reset_after", True) else (GH,)]
                                             if bias else [])
    if kind == "Dense":
        return [(_FEATURES, kw["units"])] + ([(kw["units"],)] if bias else [])
    if kind == "Embedding":
        return [(kw["input_dim"], kw["output_dim"])]
    if kind == "Conv2D":
        size = kw["kernel_size"]
        kh, kw_ = (size, size) if isinstance(size, int) else (size[0], size[-1])
        return [(kh, kw_, _CHANNELS, kw["filters"])] + ([(kw["filters"],)] if bias else [])
    return inner * 2 if kind == "Bidirectional" else inner  # TimeDistributed: its layer's; others: none


# -- the weights ---------------------------------------------------------------------------------------
def _snake_case(name: str) -> str:
    # Keras's naming of saved layer groups: "SimpleRNN" -> "simple_rnn", "Conv2D" -> "conv2d".
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# Sub-groups in the order Keras lists their weights (h5py lists groups alphabetically).
_CHILD_ORDER = ("cell", "layer", "forward_layer", "backward_layer")


def _group(obj, where: str) -> h5py.Group:
    if not isinstance(obj, h5py.Group):
        raise KerasFileError(f"{where}: {obj.name!r} is a dataset where Keras writes a group.{RESAVE}")
    return obj


def _keras3_datasets(group: h5py.Group, where: str) -> list[h5py.Dataset]:
    # The walk in _check_h5 bounded the depth and refused loops, so this recursion ends.
    out = []
    if "vars" in group:
        found = _group(group["vars"], where)
        names = sorted(found, key=lambda k: (len(k), k))
        if names != [str(i) for i in range(len(names))]:
            raise KerasFileError(f"{where}: {found.name!r} holds weights {show(names)}; expected them numbered 0 to "
                                 f"{len(names) - 1}.{RESAVE}")
        for n in names:
            if not isinstance(found[n], h5py.Dataset):
                raise KerasFileError(f"{where}: {found[n].name!r} is a group where Keras writes a weight.{RESAVE}")
            out.append(found[n])
    children = [k for k in group if k != "vars"]
    children.sort(key=lambda k: (_CHILD_ORDER.index(k) if k in _CHILD_ORDER else len(_CHILD_ORDER), k))
    for k in children:
        out += _keras3_datasets(_group(group[k], where), where)
    return out


def _load_keras3_weights(f: h5py.File, layers: list, plans: list, where: str) -> None:
    counts: dict[str, int] = defaultdict(int)
    root = _group(f["layers"], where) if "layers" in f else {}
    for layer, plan in zip(layers, plans):
        base = _snake_case(type(layer).__name__)
        n = counts[base]
        counts[base] += 1
        key = base if n == 0 else f"{base}_{n}"
        datasets = _keras3_datasets(_group(root[key], where), where) if key in root else []
        _set(layer, plan, datasets, f"/layers/{key}", where)


def _load_legacy_weights(group, layers: list, plans: list, where: str) -> None:
    group = _group(group, where)
    for layer, plan in zip(layers, plans):
        if layer.name not in group:
            _set(layer, plan, [], layer.name, where)
            continue
        g = _group(group[layer.name], where)
        try:
            raw = np.asarray(g.attrs.get("weight_names", []))
        except (OSError, TypeError, ValueError) as err:
            raise KerasFileError(f"{where}: layer {layer.name!r} has unreadable weight_names ({err}).{RESAVE}"
                                 ) from None
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in raw.ravel().tolist()]
        datasets = []
        for n in names:
            if not isinstance(n, str) or n.startswith("/") or ".." in n.split("/"):
                raise KerasFileError(f"{where}: layer {layer.name!r} lists weight {show(n)}; weight names are "
                                     f"relative paths inside the layer's group {g.name!r}, without '..'.{RESAVE}")
            found = g.get(n)
            if not isinstance(found, h5py.Dataset):
                raise KerasFileError(f"{where}: layer {layer.name!r} lists weight {n!r}, which is not a dataset in "
                                     f"{g.name!r}.{RESAVE}")
            datasets.append(found)
        _set(layer, plan, datasets, layer.name, where)


def _set(layer, plan: list[tuple], datasets: list, looked: str, where: str) -> None:
    owner = f"{type(layer).__name__} {layer.name!r}"
    if not datasets:
        if plan:
            raise KerasFileError(f"The Keras file has no weights for layer {layer.name!r} (looked for {looked!r}).")
        return
    if len(datasets) != len(plan):
        raise KerasFileError(f"{owner}: the file holds {len(datasets)} weight arrays at {looked!r}, expected "
                             f"{len(plan)} of shapes {', '.join(map(_shape_text, plan)) or 'none'}.{RESAVE}")
    for i, (ds, want) in enumerate(zip(datasets, plan)):
        got = ds.shape
        fits = len(got) == len(want) and all(g == w if isinstance(w, int) else 1 <= g <= _MAX_SIZE
                                             for g, w in zip(got, want))
        if not fits or math.prod(got) > _MAX_WEIGHTS:
            free = sorted({w for w in want if isinstance(w, str)})
            ranges = f" with {' and '.join(free)} in [1, {_MAX_SIZE}]" if free else ""
            ranges += f" and at most {_MAX_WEIGHTS} values" if math.prod(got) > _MAX_WEIGHTS else ""
            raise KerasFileError(f"{owner}: weight {i} has shape {got} in the file, expected {_shape_text(want)}"
                                 f"{ranges}.{RESAVE}")
    try:
        weights = [ds[()] for ds in datasets]
    except (OSError, ValueError, TypeError) as err:
        raise KerasFileError(f"{owner}: the weights at {looked!r} in {where} cannot be read ({err}).{RESAVE}"
                             ) from None
    try:
        layer.set_keras_weights(weights)
    except (ValueError, TypeError, RuntimeError, IndexError) as err:
        raise KerasFileError(f"{owner}: the file's weights do not fit the layer ({err}).{RESAVE}") from None


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
