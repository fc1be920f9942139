"""Keras functional models: the graph a Keras config describes, rebuilt as rnnkit layer calls on symbols,
and the order in which Keras lists the layers, which is where model.weights.h5 keeps their weights.

A Keras 3 functional config lists each layer with its `inbound_nodes`, one per call: the call's `args`
and `kwargs`, where a tensor is `{"class_name": "__keras_tensor__", "config": {"keras_history": [layer
name, node index, output index]}}`. `FunctionalConfig` checks all of it, then calls the rnnkit layers on
rnnkit symbols in the order Keras's `functional_from_config` does. `keras_layer_order` is Keras's
`map_graph` (keras/src/ops/function.py): layers by depth from the outputs, deepest first, ties by the
order a depth-first walk from the outputs first meets them; the exporter writes weights in it too.
"""

from __future__ import annotations

from typing import Callable, Hashable

from ..layers.core import Input
from .keras_safety import RESAVE, KerasFileError, show
from .keras_tables import _ALIASES, _MAX_LAYERS, _batch_shape

_MAX_NODES = 100_000  # layer calls in one model (an unrolled decoder of 150 steps has ~750)
_MAX_NESTING = 16  # lists in lists in one call's arguments
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
_CONTEXT = ("training",)  # call arguments Keras records that the model's own call decides


def keras_layer_order(parents: dict, op_of: dict, outputs: list) -> list:
    """The ops (layers) of a graph in Keras's `model.layers` order.

    `parents[node]`: the nodes whose outputs a node reads, in Keras's order (its arguments flattened,
    dict keys sorted); a node without an entry is an input. `op_of[node]`: the op that node calls.
    `outputs`: the nodes making the model's outputs, in order. Nodes and ops are any hashable keys.
    ValueError if the graph has a loop.
    """
    index: dict = {}
    order: list = []  # nodes, inputs first
    started: set = set()
    finished: set = set()
    for out in outputs:  # iterative: a decoder unrolled over many steps is a long chain
        stack = [(out, False)]
        while stack:
            item, expanded = stack.pop()
            if item in finished:
                continue
            if expanded:
                finished.add(item)
                order.append(item)
                continue
            if item in started:  # met again below itself: only a loop leads back to a node being walked
                raise ValueError(f"the graph has a loop through {item!r}")
            started.add(item)
            index.setdefault(op_of[item], len(index))
            stack.append((item, True))
            for parent in reversed(parents.get(item, [])):
                if parent not in finished:
                    stack.append((parent, False))
    node_depth: dict = {}
    op_depth: dict = {}
    for item in reversed(order):
        depth = max(node_depth.setdefault(item, 0), op_depth.get(op_of[item], 0))
        op_depth[op_of[item]] = node_depth[item] = depth
        for parent in parents.get(item, []):
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    return sorted(op_depth, key=lambda op: (-op_depth[op], index[op]))


class FunctionalConfig:
    """A Keras functional config, checked: its layers (built by `make_layer`), its Inputs and its calls.

    `make_layer(spec, what)` builds one rnnkit layer from its Keras config and returns (layer, plan): the
    weight shapes it takes.
    """

    def __init__(self, body: dict, make_layer: Callable):
        specs = body.get("layers")
        if not isinstance(specs, list) or len(specs) > _MAX_LAYERS:
            raise KerasFileError(f"the functional model's 'layers' must be a list of at most {_MAX_LAYERS} layer "
                                 f"configs, received a {type(specs).__name__}: {show(specs)}.{RESAVE}")
        self.names: list[str] = []  # in the config's order
        self.kinds: dict[str, str] = {}
        self.layers: dict = {}  # name -> rnnkit layer, or an Input
        self.plans: dict[str, list] = {}
        self.calls: dict[str, list[tuple[list, dict]]] = {}  # name -> each call's (args, kwargs), JSON
        self.ops: set[str] = set()  # keras.ops calls (NotEqual, Any, LogicalOr...), not layers
        count = 0
        for i, spec in enumerate(specs):
            if not isinstance(spec, dict):
                raise KerasFileError(f"layer {i} must be a JSON object ({{...}}), received {show(spec)}.{RESAVE}")
            config = spec.get("config")
            name = spec.get("name", config.get("name") if isinstance(config, dict) else None)
            if not isinstance(name, str) or not 0 < len(name) <= 256 or name in self.layers:
                raise KerasFileError(f"layer {i} of the functional model: its name {show(name)} must be a string "
                                     f"of 1 to 256 characters no other layer has (calls refer to layers by name)."
                                     f"{RESAVE}")
            kind = spec.get("class_name")
            if not isinstance(kind, str):
                raise KerasFileError(f"layer {i} ({name!r}): 'class_name' must be a str naming a Keras layer, "
                                     f"received {show(kind)}.{RESAVE}")
            if kind == "InputLayer":
                self.layers[name], self.plans[name] = self._input(config, name), []
            elif _is_op(spec):  # a keras.ops call recorded in the graph; kept only if it computes a mask
                self.layers[name], self.plans[name] = None, []
                self.ops.add(name)
            else:
                self.layers[name], self.plans[name] = make_layer(spec, f"layer {i}")
            self.kinds[name] = _ALIASES.get(kind, kind)
            self.names.append(name)
            nodes = spec.get("inbound_nodes", [])
            if not isinstance(nodes, list):
                raise KerasFileError(f"layer {name!r}: 'inbound_nodes' must be a list of calls, received "
                                     f"{show(nodes)}.{RESAVE}")
            count += len(nodes)
            if count > _MAX_NODES:
                raise KerasFileError(f"the functional model makes more than {_MAX_NODES} layer calls; no Keras "
                                     f"model does.{RESAVE}")
            self.calls[name] = [self._call(node, name) for node in nodes]
        self.inputs, self.multi_input = self._ends(body.get("input_layers"), "input_layers")
        self.outputs, self.multi_output = self._ends(body.get("output_layers"), "output_layers")
        for name, _, _ in self.inputs:
            if self.kinds.get(name) != "InputLayer":
                raise KerasFileError(f"the functional model's input {name!r} is not an InputLayer; load_keras reads "
                                     f"models that start from Inputs.{RESAVE}")
        self._check_refs()
        # Keras's layer order counts every call, the mask computations included
        self.parents = {(name, k): [(layer, node) for _, layer, node, _ in _tensors([args, kwargs])]
                        for name, calls in self.calls.items() for k, (args, kwargs) in enumerate(calls)}
        self._drop_mask_ops()

    # -- checking ------------------------------------------------------------------------------------
    def _input(self, config, name: str) -> Input:
        if not isinstance(config, dict):
            raise KerasFileError(f"InputLayer {name!r}: 'config' must be a JSON object, received {show(config)}."
                                 f"{RESAVE}")
        key = "batch_shape" if "batch_shape" in config else "batch_input_shape"
        shape = _batch_shape(config.get(key), f"InputLayer {name!r}", key)
        dtype = config.get("dtype", "float32")
        if isinstance(dtype, dict):  # a DTypePolicy
            policy = dtype.get("config")
            dtype = policy.get("name") if isinstance(policy, dict) else policy
        if dtype not in _DTYPES or shape is None or config.get("sparse") or config.get("ragged"):
            raise KerasFileError(f"InputLayer {name!r}: load_keras reads dense inputs of a declared shape and one "
                                 f"of the dtypes {', '.join(_DTYPES)}; received {key}={show(shape)}, "
                                 f"dtype={show(dtype)}, sparse={show(config.get('sparse'))}, "
                                 f"ragged={show(config.get('ragged'))}.")
        return Input(batch_shape=shape, name=name, dtype=dtype)

    def _call(self, node, name: str) -> tuple[list, dict]:
        if isinstance(node, list):
            raise KerasFileError(f"layer {name!r}: its calls are in Keras 2's format (lists of [layer, node, "
                                 "tensor, kwargs]); load_keras reads functional models saved by Keras 3. Load the "
                                 "model in Keras 3 and save it again (model.save('model.keras')).")
        if not isinstance(node, dict) or not isinstance(node.get("args", []), list) \
                or not isinstance(node.get("kwargs", {}), dict):
            raise KerasFileError(f"layer {name!r}: a call must be {{'args': [...], 'kwargs': {{...}}}}, received "
                                 f"{show(node)}.{RESAVE}")
        args = [self._value(a, name, 0) for a in node.get("args", [])]
        kwargs = {k: self._value(v, name, 0) for k, v in node.get("kwargs", {}).items()
                  if k not in _CONTEXT and not (k == "mask" and v is None)}
        return args, kwargs

    def _value(self, value, name: str, depth: int):
        """A call argument with each tensor as ("tensor", layer, node, output); plain values as they are."""
        if depth > _MAX_NESTING:
            raise KerasFileError(f"layer {name!r}: a call's arguments are nested more than {_MAX_NESTING} deep; "
                                 f"no Keras model's are.{RESAVE}")
        if isinstance(value, list):
            return [self._value(v, name, depth + 1) for v in value]
        if isinstance(value, dict) and "class_name" in value:
            if value["class_name"] != "__keras_tensor__":
                raise KerasFileError(f"layer {name!r} is called with a saved object of class "
                                     f"{show(value['class_name'])}; load_keras builds no objects from a file but "
                                     "layers, and reads calls on tensors and plain values (numbers, strings).")
            history = (value.get("config") or {}).get("keras_history") if isinstance(value.get("config"), dict) \
                else None
            return ("tensor", *self._ref(history, f"layer {name!r}: a call's tensor"))
        if isinstance(value, dict):
            return {k: self._value(v, name, depth + 1) for k, v in value.items()}
        return value

    def _ref(self, ref, what: str) -> tuple[str, int, int]:
        if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < _MAX_NODES for i in ref[1:])):
            raise KerasFileError(f"{what} must be [layer name, node index, tensor index], received {show(ref)}."
                                 f"{RESAVE}")
        return ref[0], ref[1], ref[2]

    def _ends(self, ends, key: str) -> tuple[list[tuple[str, int, int]], bool]:
        if isinstance(ends, list) and ends and isinstance(ends[0], str):
            return [self._ref(ends, f"the functional model's {key!r}")], False
        if not isinstance(ends, list) or not ends or len(ends) > _MAX_LAYERS:
            raise KerasFileError(f"the functional model's {key!r} must be [layer, node, tensor] or a list of them, "
                                 f"received {show(ends)}. (A dict of inputs or outputs is not supported: load "
                                 "the model in Keras and save it with a list.)")
        return [self._ref(e, f"the functional model's {key!r}") for e in ends], True

    def _drop_mask_ops(self) -> None:
        """Keras 3 records the mask computations of Masking, Embedding and merges as keras.ops calls and
        passes their result as `mask=`; rnnkit's Model propagates the same masks itself (as Keras does
        when nothing is recorded), so those `mask=` arguments and the ops go. Any other use of an op's
        output is a computation rnnkit does not rebuild."""
        for name, calls in self.calls.items():
            if name in self.ops:
                continue
            for _, kwargs in calls:
                refs = _tensors(kwargs.get("mask"))
                if refs and all(layer in self.ops for _, layer, _, _ in refs):
                    del kwargs["mask"]
        used = [(name, layer) for name, calls in self.calls.items() if name not in self.ops
                for _, layer, _, _ in _tensors([list(call) for call in calls]) if layer in self.ops]
        used += [("the model's outputs", layer) for layer, _, _ in self.outputs if layer in self.ops]
        if used:
            reader, op = used[0]
            reader = reader if reader.startswith("the model") else f"layer {reader!r}"
            raise KerasFileError(f"{reader} reads the result of {self.kinds[op]} {op!r}, a keras.ops computation in "
                                 "the model; load_keras rebuilds Keras layers (and the mask computations Keras "
                                 "records), not keras.ops code. Rebuild that part with rnnkit layers (a Lambda for "
                                 "the computation) and load the weights with layer.set_keras_weights(...).")

    # -- Keras's layer order -------------------------------------------------------------------------
    def layer_order(self) -> list[str]:
        """The layer names (Inputs included) in Keras's `model.layers` order: keras.ops calls take part
        in the depths, as in Keras's graph, but are no layers."""
        op_of: dict[Hashable, str] = {node: node[0] for node in self.parents}
        for node_list in self.parents.values():
            op_of.update({node: node[0] for node in node_list})
        for name, node, _ in self.outputs:
            op_of.setdefault((name, node), name)
        try:
            order = keras_layer_order(self.parents, op_of, [(name, node) for name, node, _ in self.outputs])
        except ValueError as err:
            raise KerasFileError(f"the functional model's calls read one another in a loop ({err}); a model's "
                                 f"layers read only earlier layers' outputs.{RESAVE}") from None
        return [name for name in order if name not in self.ops]

    def _check_refs(self) -> None:
        for name, calls in self.calls.items():
            for args, kwargs in calls:
                for _, layer, node, _ in _tensors([args, kwargs]):
                    self._check_node(layer, node, f"layer {name!r} reads")
        for layer, node, _ in [*self.inputs, *self.outputs]:
            self._check_node(layer, node, "the model's inputs or outputs name")

    def _check_node(self, layer: str, node: int, what: str) -> None:
        count = 1 if self.kinds.get(layer) == "InputLayer" else len(self.calls.get(layer, []))
        if layer not in self.layers or node >= count:
            held = f"it lists {count} call(s) of it, counted from 0" if layer in self.layers else "no such layer"
            raise KerasFileError(f"{what} call {node} of layer {layer!r}, which the config does not hold ({held})."
                                 f"{RESAVE}")

    # -- the graph -----------------------------------------------------------------------------------
    def build(self) -> tuple:
        """Call the layers on symbols in Keras's order: (inputs, outputs), each a list or one symbol."""
        made: dict[str, list[list]] = {name: [[self.layers[name]]] for name in self.names
                                       if self.kinds[name] == "InputLayer"}
        pending = {name: list(self.calls[name]) for name in self.names if self.kinds[name] != "InputLayer"
                   and name not in self.ops and self.calls[name]}
        while pending:
            progress = False
            for name in self.names:  # Keras's functional_from_config: by layer, each layer's calls in order
                queue = pending.get(name, [])
                while queue and _ready(queue[0], made):
                    args, kwargs = (_filled(part, made, name) for part in queue.pop(0))
                    out = self._run(name, args, kwargs)
                    made.setdefault(name, []).append(out if isinstance(out, list) else [out])
                    progress = True
                if name in pending and not queue:
                    del pending[name]
            if not progress:
                raise KerasFileError(f"the functional model's calls of {', '.join(map(repr, list(pending)[:5]))} "
                                     f"read tensors no call makes (a loop in the graph).{RESAVE}")
        inputs = [made[name][0][0] for name, _, _ in self.inputs]
        outputs = [_output(made, ref) for ref in self.outputs]
        return (inputs if self.multi_input else inputs[0]), (outputs if self.multi_output else outputs[0])

    def _run(self, name: str, args: list, kwargs: dict):
        try:
            return self.layers[name](*args, **kwargs)
        except (ValueError, TypeError) as err:
            raise KerasFileError(f"{self.kinds[name]} {name!r}: the call the file describes fails in rnnkit "
                                 f"({err}).{RESAVE}") from None


def _is_op(spec: dict) -> bool:
    # Keras 3 serializes a keras.ops call in a functional graph with its module (keras.src.ops.numpy);
    # its legacy .h5 config has no modules, and there an op's config lacks the "trainable" every
    # layer's has but SpatialDropout's (NotEqual: {"name"}; ZerosLike: {"name", "dtype"}).
    module, config = spec.get("module"), spec.get("config")
    if isinstance(module, str):
        return module.startswith(("keras.src.ops.", "keras.ops."))
    kind = spec.get("class_name")
    return (isinstance(config, dict) and "trainable" not in config
            and not (isinstance(kind, str) and kind.startswith("SpatialDropout")))


def _tensors(value) -> list[tuple]:
    # The ("tensor", layer, node, output) entries of a decoded argument, in Keras's flattening order.
    if isinstance(value, tuple):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in _tensors(value[k])]
    return []


def _ready(call: tuple[list, dict], made: dict) -> bool:
    return all(node < len(made.get(layer, [])) for _, layer, node, _ in _tensors(list(call)))


def _filled(value, made: dict, name: str):
    if isinstance(value, tuple):
        return _output(made, value[1:], f"layer {name!r} reads")
    if isinstance(value, list):
        return [_filled(v, made, name) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, made, name) for k, v in value.items()}
    return value


def _output(made: dict, ref: tuple, what: str = "the model's outputs name") -> object:
    layer, node, index = ref
    outs = made[layer][node]
    if index >= len(outs):
        raise KerasFileError(f"{what} output {index} of layer {layer!r}, which makes {len(outs)}.{RESAVE}")
    return outs[index]
