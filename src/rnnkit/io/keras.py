"""Read Keras models (`.keras` zip files and legacy `.h5` files) into rnnkit, without importing Keras.

A `.keras` file is a zip of `config.json` (the architecture) and `model.weights.h5` (weights under
`layers/<snake_case class name>[_k]/.../vars/<i>`, `k` counting earlier layers of the class in Keras's
`model.layers` order); a legacy `.h5` file holds the config as the `model_config` attribute and weights
under `model_weights/<layer name>` in `weight_names` order. Both are read with h5py; the layers keep
Keras's weight layout through `set_keras_weights`. Sequential models come back as their layers,
functional ones as rnnkit symbols (`keras_graph`); `keras_tables` says which layers and config keys.

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
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .keras_graph import FunctionalConfig
from .keras_safety import MAX_CONFIG_BYTES, RESAVE, KerasFileError, check_h5, open_h5, read_zip, show
from .keras_tables import (_ALIASES, _CLASSES, _CONV_LSTM_RANK, _KEYS, _MAX_LAYERS, _MAX_RANK, _MAX_SIZE,
                           _MAX_WEIGHTS, _MAX_WRAPPING, ANY_SHAPE, MULTI_INPUT, SUPPORTED, _batch_shape,
                           _check_weight_count, _checked, _plan)

# (Keras class name, rnnkit layer, the shapes of the Keras weights it takes), in the order Keras lists them
Entry = tuple[str, object, list]


@dataclass
class KerasModel:
    """What a Keras model file holds, as rnnkit objects with the file's weights loaded."""

    name: str | None
    layers: list  # a Sequential's layers, in order (empty for a functional model)
    input_shape: tuple | None = None  # a Sequential's declared batch shape
    inputs: object = None  # a functional model's Input(s) and output symbol(s), as Model(inputs, outputs) takes them
    outputs: object = None

    @property
    def functional(self) -> bool:
        return self.inputs is not None


def read_keras(path) -> KerasModel:
    """The model in a Keras 3 `.keras` or legacy `.h5` file, Sequential or functional, as rnnkit layers
    (or symbols) with the file's weights; `rnnkit.load_keras` makes it a Sequential or a Model.

    Keras does not save the states of stateful layers, so the layers start with fresh states.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No Keras model at {str(path)!r}.")
    where = repr(str(path))
    if zipfile.is_zipfile(path):
        config, weights = read_zip(path, where)
        model, entries, graph = _build(_parse_config(config, where))
        with open_h5(weights, f"model.weights.h5 in {where}") as f:
            check_h5(f, "/layers", where)
            _load_keras3_weights(f, entries, where)
    elif h5py.is_hdf5(path):
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
            model, entries, graph = _build(_parse_config(raw, where))
            _load_legacy_weights(f[tree], entries, where)
    else:
        raise KerasFileError(f"{where} is neither a .keras (zip) nor a legacy .h5 (HDF5) Keras model file.")
    if graph is not None:  # the weights first: a layer is built from the file's arrays, not at random
        model.inputs, model.outputs = graph.build()
    return model


def model_from_keras_config(raw, where: str = "the model config") -> KerasModel:
    """The model a Keras model config describes (`model.to_json()`'s text, or its dict), as rnnkit layers
    (or symbols) with new weights: what `rnnkit.models.model_from_json` makes of Keras's JSON. The config
    is checked as a file's is."""
    config = _parse_config(raw, where) if isinstance(raw, (str, bytes)) else _object(raw, where)
    model, _, graph = _build(config)
    if graph is not None:
        model.inputs, model.outputs = graph.build()
    return model


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




def _build(config: dict) -> tuple[KerasModel, list[Entry], FunctionalConfig | None]:
    """The model a Keras config describes (its layers without weights), its layers in the order Keras
    lists them with the weight shapes each takes, and for a functional model its checked graph."""
    kind = config.get("class_name")
    if kind in ("Functional", "Model"):
        body = _object(config.get("config"), f"the {kind} model's 'config'")
        name = _model_name(body, kind)
        graph = FunctionalConfig(body, _layer)
        entries = [(graph.kinds[n], graph.layers[n], graph.plans[n]) for n in graph.layer_order()]
        return KerasModel(name, []), entries, graph
    if kind != "Sequential":
        raise KerasFileError(f"load_keras reads Sequential and functional models; this file holds a {show(kind)} "
                             "model (a subclassed Keras model has no config to rebuild it from). Rebuild it with "
                             "rnnkit's functional Model and load the weights layer by layer with "
                             "layer.set_keras_weights(...).")
    body = _object(config.get("config"), "the Sequential's 'config'")
    specs, name = body.get("layers"), _model_name(body, "Sequential")
    if not isinstance(specs, list) or len(specs) > _MAX_LAYERS:
        raise KerasFileError(f"the Sequential's 'layers' must be a list of at most {_MAX_LAYERS} layer configs, "
                             f"received a {type(specs).__name__}: {show(specs)}.{RESAVE}")
    input_shape, entries = None, []
    for i, spec in enumerate(specs):
        spec = _object(spec, f"layer {i}")
        c = _object(spec.get("config"), f"layer {i} 'config'")
        given = _class_name(spec, f"layer {i}")
        if given == "InputLayer":
            key = "batch_shape" if c.get("batch_shape") else "batch_input_shape"
            input_shape = _batch_shape(c.get(key), f"InputLayer {show(c.get('name'))}", key)
            continue
        if _ALIASES.get(given, given) in MULTI_INPUT:
            raise KerasFileError(f"layer {i}: Keras layer {given!r} joins several tensors, which a Sequential "
                                 "cannot pass it; it belongs in a functional model.")
        if input_shape is None and c.get("batch_input_shape"):  # Keras 2 files
            input_shape = _batch_shape(c["batch_input_shape"], f"{given} {show(c.get('name'))}",
                                       "batch_input_shape")
        layer, plan = _layer(spec, f"layer {i}")
        entries.append((_ALIASES.get(given, given), layer, plan))
    return KerasModel(name, [layer for _, layer, _ in entries], input_shape), entries, None


def _model_name(body: dict, kind: str) -> str | None:
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise KerasFileError(f"the {kind}'s 'name' must be a string, received {show(name)}.{RESAVE}")
    return name


def _class_name(spec: dict, what: str) -> str:
    kind = spec.get("class_name")
    if not isinstance(kind, str):
        raise KerasFileError(f"{what}: 'class_name' must be a str naming a Keras layer, received a "
                             f"{type(kind).__name__}: {show(kind)}. Supported layers: {', '.join(SUPPORTED)}.")
    return kind


def _layer(spec: dict, what: str, depth: int = 0):
    """An rnnkit layer from a Keras layer config, and the shapes of the Keras weights it takes (an axis
    the config does not fix is named, e.g. "input features")."""
    given = _class_name(spec, what)
    kind = _ALIASES.get(given, given)
    if kind == "Lambda":
        raise KerasFileError("Keras layer 'Lambda' is not supported by load_keras: it holds Python code, and "
                             "load_keras never runs code from a file. Rebuild the model in rnnkit with "
                             "rnnkit.layers.Lambda(your_function) and load the other layers' weights with "
                             "layer.set_keras_weights(...).")
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
    _check_unsupported_settings(kind, name, c)
    if kind == "BatchNormalization" and isinstance(kwargs.get("axis"), list):
        if len(kwargs["axis"]) != 1:
            raise KerasFileError(f"{owner}: axis={kwargs['axis']} normalizes over several axes; rnnkit's "
                                 "BatchNormalization takes one (the features axis).")
        kwargs["axis"] = kwargs["axis"][0]  # Keras 2 wrote [3] for 3
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


def _check_unsupported_settings(kind: str, name, c: dict) -> None:
    # Keras settings that change what a layer computes and that rnnkit's layer does not have.
    refused = None
    if kind == "Conv2D" and (c.get("data_format", "channels_last") != "channels_last"
                             or c.get("dilation_rate", 1) not in (1, [1], [1, 1])):
        refused = "only channels_last without dilation is supported"
    elif kind == "BatchNormalization" and c.get("renorm"):
        refused = "batch renormalization (renorm=True) is not supported: it keeps extra moving statistics"
    elif kind in _CONV_LSTM_RANK and c.get("zero_output_for_mask"):
        refused = ("zero_output_for_mask=True is not supported: rnnkit's ConvLSTM repeats the last output at "
                   "masked steps, Keras's default")
    if refused:
        raise KerasFileError(f"{kind} {name!r}: {refused}. Save the model without it in Keras, or rebuild it in "
                             "rnnkit and load the weights with layer.set_keras_weights(...).")


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


def group_keys(kinds: list[str]) -> list[str]:
    """Keras's name for each layer's group in its weights files, in model.layers' order: the class in
    snake_case, numbered from the second layer of a class on ("lstm", "lstm_1", "dense")."""
    used: dict[str, int] = defaultdict(int)
    keys = []
    for kind in kinds:
        base = _snake_case(kind)
        keys.append(base if used[base] == 0 else f"{base}_{used[base]}")
        used[base] += 1
    return keys


def keras3_datasets(f: h5py.File, key: str, where: str) -> list[h5py.Dataset]:
    """The weights a Keras 3 weights file keeps for the layer group `layers/<key>`, in Keras's order
    ([] when the file has no such group)."""
    root = _group(f["layers"], where) if "layers" in f else {}
    return _keras3_datasets(_group(root[key], where), where) if key in root else []


def legacy_datasets(group: h5py.Group, name: str, where: str) -> list[h5py.Dataset]:
    """The weights a legacy file lists (its `weight_names`) for layer `name`, in order ([] when the file
    has no group for it); a listed name must be a relative path to a dataset inside the layer's group."""
    if name not in group:
        return []
    g = _group(group[name], where)
    try:
        raw = np.asarray(g.attrs.get("weight_names", []))
    except (OSError, TypeError, ValueError) as err:
        raise KerasFileError(f"{where}: layer {name!r} has unreadable weight_names ({err}).{RESAVE}") from None
    names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in raw.ravel().tolist()]
    datasets = []
    for n in names:
        if not isinstance(n, str) or n.startswith("/") or ".." in n.split("/"):
            raise KerasFileError(f"{where}: layer {name!r} lists weight {show(n)}; weight names are relative paths "
                                 f"inside the layer's group {g.name!r}, without '..'.{RESAVE}")
        found = g.get(n)
        if not isinstance(found, h5py.Dataset):
            raise KerasFileError(f"{where}: layer {name!r} lists weight {n!r}, which is not a dataset in "
                                 f"{g.name!r}.{RESAVE}")
        datasets.append(found)
    return datasets


def _load_keras3_weights(f: h5py.File, entries: list[Entry], where: str) -> None:
    for (_, layer, plan), key in zip(entries, group_keys([kind for kind, _, _ in entries])):
        _set(layer, plan, keras3_datasets(f, key, where), f"/layers/{key}", where)


def _load_legacy_weights(group, entries: list[Entry], where: str) -> None:
    group = _group(group, where)
    for _, layer, plan in entries:
        _set(layer, plan, legacy_datasets(group, layer.name, where), layer.name, where)


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
        if want is ANY_SHAPE:  # one size per input axis after the batch, which only the data fixes
            want = ("input axis",) * len(got) if 1 <= len(got) < _MAX_RANK else ("input axes",)
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


def _shape_text(shape: tuple | None) -> str:
    if shape is ANY_SHAPE:
        return "(one size per input axis after the batch)"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
