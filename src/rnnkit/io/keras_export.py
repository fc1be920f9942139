"""Write rnnkit models as Keras 3 `.keras` files, which `keras.saving.load_model` loads and predicts with.

A `.keras` file is a zip (entries stored, as Keras writes them) of `metadata.json`, `config.json` (the
architecture, in Keras's serialization) and `model.weights.h5`, where Keras finds each weight by
position: `layers/<snake_case class name>[_k]/[cell|layer|forward_layer|backward_layer/]vars/<i>`, `k`
counting earlier layers of the same class in `model.layers`' order. The layers Keras can rebuild are
the importer's (`io/keras_tables.py`: `_KEYS` says which config keys each carries, `_WEIGHT_CHILDREN`
where its weights sit), and each layer's `keras_weights()` gives its weights in Keras's layout, so a file written
here reads back with `rnnkit.load_keras` too. Keras does not save the states of stateful layers: the
file holds weights, not kept states.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import h5py
import numpy as np

from .checkpoint import atomic_write
from .keras import _snake_case, group_keys
from .keras_graph import keras_layer_order
from .keras_tables import _CLASSES, _KEYS, _WEIGHT_CHILDREN, SUPPORTED

KERAS_FORMAT = "3.15.1"  # the Keras version whose saving_lib layout this follows (checked in the tests)
_KIND_OF = {cls: kind for kind, cls in _CLASSES.items()}


def save_keras(model, path) -> None:
    """Write a Sequential or functional rnnkit model to `path` as a Keras 3 `.keras` file.

    Raises ValueError naming the layer when a layer has no Keras counterpart, and when the model
    declares no input shape (Keras builds its layers from it before it loads the weights).
    """
    atomic_write(path, keras_bytes(model), rnnkit_format=False)


def keras_bytes(model, extra: dict[str, bytes] | None = None) -> bytes:
    """The bytes of the `.keras` file `save_keras` writes; `extra` (entry name -> bytes) is stored beside
    Keras's entries, which Keras's loader ignores (model.save carries rnnkit's own file there)."""
    config, layers = _model_config(model)
    metadata = {"keras_version": KERAS_FORMAT, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
                "written_by": "rnnkit"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", _weights_h5(layers, model.name))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def keras_layers(model) -> tuple[dict, list, list[str]]:
    """Keras's config of `model`, its layers in Keras's order, and each layer's group name in Keras's
    weights files (`layers/<key>`); ValueError naming the layer if Keras has no counterpart for one."""
    config, layers = _model_config(model)
    return config, layers, _layer_keys(layers)


# -- the config ----------------------------------------------------------------------------------------
def _model_config(model) -> tuple[dict, list]:
    """Keras's config of `model` and its layers in the order Keras's `model.layers` lists them
    (InputLayers included for a functional model, as Keras saves their empty groups)."""
    config = model.get_config()
    if "nodes" in config:
        return _functional_config(model, config)
    if "layers" not in config or "input" not in config:
        raise ValueError(f"save as .keras writes Sequential and functional Model objects; received a "
                         f"{type(model).__name__}. Save it with model.save('model.rnnkit').")
    return _sequential_config(model, config)


def _sequential_config(model, config: dict) -> tuple[dict, list]:
    layers = model.layers
    if config["input"] is None:
        raise ValueError(f"Cannot save Sequential {model.name!r} as .keras: it declares no input shape, and Keras "
                         "builds the layers from it before loading their weights. Start the model with "
                         "Input((time_steps, features)) (Input(batch_shape=(batch, time_steps, features)) for "
                         "stateful layers).")
    batch_shape = list(config["input"])
    _check_stateful_batch(layers, batch_shape[0], model.name)
    entries = [_input_layer(batch_shape, model.input_spec.dtype, f"{model.name}_input")]
    entries += [_layer_config(layer) for layer in layers]
    body = {"name": model.name, "trainable": True, "dtype": "float32", "layers": entries,
            "build_input_shape": batch_shape}
    return {"module": "keras", "class_name": "Sequential", "config": body, "registered_name": None,
            "build_config": {"input_shape": batch_shape}}, layers


def _functional_config(model, config: dict) -> tuple[dict, list]:
    inputs, layers = model.inputs, model.layers[len(model.inputs):]
    for spec in config["inputs"]:
        _check_stateful_batch(layers, spec["batch_shape"][0], model.name)
    calls: dict[int, int] = {}  # calls of each layer so far: Keras's node index
    histories = []  # per rnnkit node: [layer name, node index]
    inbound: list[list] = [[] for _ in layers]
    for node in config["nodes"]:
        k = node["layer"]
        histories.append([layers[k].name, calls.get(k, 0)])
        calls[k] = calls.get(k, 0) + 1

    # Keras's tensor entries carry shape and dtype; the config's nodes are model._nodes, in order.
    def tensor(ref: dict) -> dict:
        if "input" in ref:
            spec = config["inputs"][ref["input"]]
            where, shape, dtype = [spec["name"], 0, 0], spec["batch_shape"], spec["dtype"]
        else:
            where = [*histories[ref["node"]], ref["index"]]
            shape, dtype = model._nodes[ref["node"]].outputs[ref["index"]].shape, "float32"
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(shape), "dtype": dtype, "keras_history": where}}

    for node in config["nodes"]:
        inbound[node["layer"]].append({"args": _keras_structure(node["args"], tensor),
                                       "kwargs": _keras_structure(node["kwargs"], tensor)})
    entries = []
    for spec in config["inputs"]:
        entry = _input_layer(spec["batch_shape"], spec["dtype"], spec["name"])
        entries.append({**entry, "name": spec["name"], "inbound_nodes": []})
    for layer, nodes in zip(layers, inbound):
        entries.append({**_layer_config(layer), "name": layer.name, "inbound_nodes": nodes})
    ends = [tensor(r["__symbol__"])["config"]["keras_history"] for r in _flat_refs(config["outputs"])]
    starts = [[s["name"], 0, 0] for s in config["inputs"]]
    body = {"name": model.name, "trainable": True, "layers": entries,
            "input_layers": starts if config.get("multi_input") else starts[0],
            "output_layers": ends if isinstance(config["outputs"], list) else ends[0]}
    keras_config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": body,
                    "registered_name": "Functional", "build_config": {"input_shape": None}}
    return keras_config, _keras_layer_order(model, config, inputs, layers)


def _keras_structure(structure, tensor):
    # rnnkit's encoded call arguments ({"__symbol__": ref} for a tensor) in Keras's encoding.
    if isinstance(structure, dict) and "__symbol__" in structure:
        return tensor(structure["__symbol__"])
    if isinstance(structure, list):
        return [_keras_structure(s, tensor) for s in structure]
    if isinstance(structure, dict):
        return {k: _keras_structure(v, tensor) for k, v in structure.items()}
    return structure


def _flat_refs(structure) -> list[dict]:
    # The tensors in an encoded structure in the order Keras's tree.flatten visits them (dict keys sorted).
    if isinstance(structure, dict) and "__symbol__" in structure:
        return [structure]
    if isinstance(structure, list):
        return [r for s in structure for r in _flat_refs(s)]
    if isinstance(structure, dict):
        return [r for k in sorted(structure) for r in _flat_refs(structure[k])]
    return []


def _keras_layer_order(model, config: dict, inputs: list, layers: list) -> list:
    """The layers (Inputs included) in the order Keras's rebuilt functional model lists them, which is
    where Keras looks for their weights (keras_graph.keras_layer_order, Keras's map_graph)."""
    def key(ref: dict) -> tuple:
        return ("input", ref["input"]) if "input" in ref else ("node", ref["node"])

    nodes = config["nodes"]
    parents = {("node", n): [key(r["__symbol__"]) for r in _flat_refs([spec["args"], spec["kwargs"]])]
               for n, spec in enumerate(nodes)}
    op_of = {("input", i): ("input", i) for i in range(len(inputs))}
    op_of.update({("node", n): ("layer", spec["layer"]) for n, spec in enumerate(nodes)})
    ops = keras_layer_order(parents, op_of, [key(r["__symbol__"]) for r in _flat_refs(config["outputs"])])
    return [inputs[i] if kind == "input" else layers[i] for kind, i in ops]


def _input_layer(batch_shape, dtype: str, name: str) -> dict:
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": list(batch_shape), "dtype": dtype, "sparse": False, "ragged": False,
                       "name": name, "optional": False}}


def _check_stateful_batch(layers, batch_size, model_name: str) -> None:
    stateful = [layer.name for layer in layers if _is_stateful(layer)]
    if stateful and batch_size is None:
        raise ValueError(f"Cannot save {model_name!r} as .keras: layer {stateful[0]!r} is stateful and the input "
                         "declares no batch size, which Keras requires for stateful layers. Declare it: "
                         "Input(batch_shape=(batch, time_steps, features)).")


def _is_stateful(layer) -> bool:
    inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
    return bool(getattr(layer, "stateful", False)) or (inner is not None and _is_stateful(inner))


def _kind(layer) -> str:
    kind = _KIND_OF.get(type(layer))
    if kind is None:
        raise ValueError(f"Cannot save layer {getattr(layer, 'name', '?')!r} ({type(layer).__name__}) as .keras: "
                         f"it has no Keras counterpart rnnkit writes. Layers written to .keras: "
                         f"{', '.join(s for s in SUPPORTED if s != 'InputLayer')}. Save the model with "
                         "model.save('model.rnnkit') instead.")
    return kind


def _layer_config(layer) -> dict:
    """Keras's serialization of one layer: the keys the importer's table lists, from the layer's config."""
    kind = _kind(layer)
    own = layer.get_config()
    config = {"name": layer.name, "trainable": True, "dtype": "float32"}
    if kind == "SpatialDropout1D":  # Keras's takes only rate, seed, name and dtype: 'trainable' is a TypeError
        del config["trainable"]
    for key in _KEYS[kind]:
        if key in own:
            config[key] = _keras_value(layer, key, own[key])
    if kind == "TimeDistributed":
        config["layer"] = _layer_config(layer.layer)
    elif kind == "Bidirectional":
        # Keras rebuilds the backward half as a copy of the forward one with go_backwards flipped.
        config["layer"] = _layer_config(layer.forward_layer)
    return {"module": "keras.layers", "class_name": kind, "config": config, "registered_name": None}


def _keras_value(layer, key: str, value):
    if key in ("activation", "recurrent_activation"):
        if value is None:
            return "linear"
        if not isinstance(value, str) or value.startswith("<"):
            raise ValueError(f"Cannot save layer {layer.name!r} as .keras: its {key} {value!r} is not a Keras "
                             "activation name. Use a name such as 'tanh' or 'relu'.")
    return list(value) if isinstance(value, tuple) else value


# -- the weights ---------------------------------------------------------------------------------------
def _weights_h5(layers: list, model_name: str) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = model_name
        root = f.create_group("layers")
        for layer, key in zip(layers, _layer_keys(layers)):
            _write_layer(root.create_group(key), layer)
    return buffer.getvalue()


def _layer_keys(layers: list) -> list[str]:
    return group_keys(["InputLayer" if type(layer).__name__ == "Input" else _kind(layer) for layer in layers])


def _write_layer(group: h5py.Group, layer) -> None:
    kind = _kind(layer) if type(layer).__name__ != "Input" else "InputLayer"
    _write_vars(group, getattr(layer, "name", kind), [])
    children = _WEIGHT_CHILDREN.get(kind, ())
    if children == ("cell",):  # recurrent layers keep their weights in their cell (ConvLSTM's: conv_lstm_cell)
        cell = _snake_case("ConvLSTMCell" if kind.startswith("ConvLSTM") else f"{kind}Cell")
        _write_vars(group.create_group("cell"), cell, layer.keras_weights())
    elif kind == "TimeDistributed":
        _write_layer(group.create_group("layer"), layer.layer)
    elif kind == "Bidirectional":
        for child, half in zip(children, (layer.forward_layer, layer.backward_layer)):
            _write_layer(group.create_group(child), half)
    elif hasattr(layer, "keras_weights"):
        del group["vars"]
        _write_vars(group, layer.name, layer.keras_weights())


def _write_vars(group: h5py.Group, name: str, weights: list) -> None:
    found = group.create_group("vars")
    found.attrs["name"] = name
    for i, w in enumerate(weights):
        found.create_dataset(str(i), data=np.asarray(w, dtype=np.float32))
