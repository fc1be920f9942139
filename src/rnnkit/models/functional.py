"""Functional models: `Model(inputs, outputs)` from layers called on symbolic tensors (Keras's functional API).

A layer object called at several points of the graph is one module with one set of weights (seed
002's decoder LSTMs are called 150 times). The graph is sorted once at construction; running it
walks that list, so the Python cost per call is proportional to the number of layer calls only.

>>> from rnnkit.layers import Input, LSTM, Dense
>>> inputs = Input((None, 5))
>>> out, h, c = LSTM(8, return_state=True)(inputs)
>>> model = Model(inputs, [Dense(1)(out), h])
>>> [a.shape for a in model.predict(np.zeros((2, 30, 5)))]
[(2, 1), (2, 8)]
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import keras_mask
from ..io.checkpoint import build_model, model_config
from ..layers.base import Layer
from ..layers.core import Input
from ..layers.rnn import RNN
from ..layers.serialize import deserialize, serialize
from ..layers.wrappers import Bidirectional, TimeDistributed, accepts_mask
from ..mixed_precision import Policy
from ..registry import BUILTIN, register_serializable
from ..symbolic import Node, Symbol, map_symbols
from .base import BaseModel
from .summary import functional_summary

Tensor = torch.Tensor


def _as_list(x) -> tuple[list, bool]:
    return (list(x), True) if isinstance(x, (list, tuple)) else ([x], False)


def _sorted_nodes(outputs: list[Symbol]) -> tuple[list[Node], list[Symbol]]:
    """Nodes in an order where each comes after the nodes it reads, and the Inputs reached.

    Iterative (not recursive): an unrolled 150-step decoder is a chain of ~750 nodes.
    """
    order, seen, inputs = [], set(), []
    stack = [(s.node, False) if s.node is not None else (s, False) for s in reversed(outputs)]
    while stack:
        item, expanded = stack.pop()
        if isinstance(item, Symbol):  # an Input
            if id(item) not in seen:
                seen.add(id(item))
                inputs.append(item)
            continue
        if id(item) in seen:
            continue
        if expanded:
            seen.add(id(item))
            order.append(item)
            continue
        stack.append((item, True))
        for s in reversed(item.input_symbols()):
            if s.node is None:
                stack.append((s, False))
            elif id(s.node) not in seen:
                stack.append((s.node, False))
    return order, inputs


@register_serializable(package=BUILTIN)
class Model(BaseModel):
    """A model from its inputs and outputs: `Model(inputs, outputs)` or Keras 1's `Model(input=, output=)`.

    Several inputs and outputs are lists; the model can itself be called on symbols as a layer.
    """

    def __init__(self, inputs=None, outputs=None, name: str | None = None, input=None, output=None,
                 dtype: str | Policy | None = None):
        super().__init__(name, dtype)
        inputs = inputs if inputs is not None else input  # Keras 1 spelling (seed 002)
        outputs = outputs if outputs is not None else output
        if inputs is None or outputs is None:
            raise ValueError("Model needs inputs and outputs: inputs = Input((time_steps, features)); "
                             "outputs = LSTM(4)(inputs); Model(inputs, outputs).")
        self.inputs, self._multi_input = _as_list(inputs)
        self.outputs, self._multi_output = _as_list(outputs)
        for s in self.inputs:
            if not isinstance(s, Input):
                made = f"the output of layer {s.name!r}" if isinstance(s, Symbol) else type(s).__name__
                raise TypeError(f"Model inputs must be Input(...) tensors; received {made}. Start the graph "
                                "with inputs = Input((time_steps, features)).")
        for s in self.outputs:
            if not isinstance(s, Symbol):
                raise TypeError(f"Model outputs must be symbolic tensors returned by layers called on an Input, "
                                f"received {type(s).__name__}.")
        self._nodes, reached = _sorted_nodes(self.outputs)
        given = {id(s) for s in self.inputs}
        for s in reached:
            if id(s) not in given:
                raise ValueError(f"The outputs depend on Input {s.name!r} of shape {s.shape}, which is not among "
                                 f"the model's inputs {[i.name for i in self.inputs]}. Add it to inputs.")
        reached_ids = {id(s) for s in reached}
        for s in self.inputs:
            if id(s) not in reached_ids:
                raise ValueError(f"Input {s.name!r} of shape {s.shape} is not connected to the outputs: no output "
                                 "is computed from it. Remove it from inputs or connect it.")
        unique: dict[int, nn.Module] = {}
        for node in self._nodes:
            unique.setdefault(id(node.layer), node.layer)
        # Each layer is registered once however often it is called: shared layers share weights.
        self._graph_layers = nn.ModuleList(unique.values())
        self._calls = [(node, _takes_mask(node.layer), isinstance(node.layer, (Layer, BaseModel)))
                       for node in self._nodes]
        self.adopt_states()

    @property
    def layers(self) -> list:
        """As Keras: the inputs (InputLayer, here the Input itself) first, then each layer once."""
        return [*self.inputs, *self._graph_layers]

    @property
    def input(self):
        """Keras's `model.input`: the Input, or the list of Inputs of a model with several."""
        return list(self.inputs) if self._multi_input else self.inputs[0]

    @property
    def output(self):
        """Keras's `model.output`: the output symbol, or the list of them."""
        return list(self.outputs) if self._multi_output else self.outputs[0]

    @property
    def output_names(self) -> list[str]:
        """Keras's `model.output_names`: the name of the layer that makes each output."""
        return [s.name for s in self.outputs]

    def output_names_for_compile(self) -> list[str] | None:
        return self.output_names if self._multi_output else None

    def _fixed_batch_size(self) -> int | None:
        return self.inputs[0].shape[0]

    def input_count(self) -> int:
        return len(self.inputs)

    def input_names(self) -> list[str]:
        return [s.name for s in self.inputs]

    def inputs_are_ids(self) -> list[bool]:
        return ["int" in s.dtype for s in self.inputs]

    def threads_state_store(self) -> bool:
        return all(any(node.layer is m for node in self._nodes) for m in self._stateful_layers())

    # -- running -------------------------------------------------------------------------------------
    def forward(self, inputs, training: bool | None = None, mask=None, state_store=None):
        given = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(given) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} takes {len(self.inputs)} input(s) "
                             f"{[i.name for i in self.inputs]}, received {len(given)}. Pass a list in that order.")
        values: dict[int, Tensor] = {}
        masks: dict[int, Tensor | None] = {}
        for symbol, x in zip(self.inputs, given):
            if x.dim() != len(symbol.shape) or any(d is not None and d != n for d, n in
                                                   zip(symbol.shape[1:], x.shape[1:])):
                raise ValueError(f"Model {self.name!r}: input {symbol.name!r} expects shape {symbol.shape}, "
                                 f"received {tuple(x.shape)}.")
            values[id(symbol)] = x
        lookup = values.__getitem__
        for node, takes_mask, takes_training in self._calls:
            args = map_symbols(node.args, lambda s: lookup(id(s)))
            kwargs = map_symbols(node.kwargs, lambda s: lookup(id(s)))
            if takes_training:
                kwargs["training"] = training
            first = node.args[0] if node.args and isinstance(node.args[0], Symbol) else None
            in_mask = masks.get(id(first)) if first is not None else None
            if first is None and getattr(node.layer, "list_masks", False) and isinstance(node.args[0], (list, tuple)):
                # a layer of several inputs that reads each one's mask (Attention): the list, as Keras passes it
                listed = [masks.get(id(s)) if isinstance(s, Symbol) else None for s in node.args[0]]
                in_mask = listed if any(m is not None for m in listed) else None
                first = node.args[0][0] if isinstance(node.args[0][0], Symbol) else None
            if kwargs.get("mask") is not None:
                # Keras 3's Layer.__call__: a mask passed explicitly (`GRU(16)(x, mask=mask_input)`) is the
                # one the layer gets, and the one its compute_mask passes on to the next layer
                in_mask = kwargs["mask"]
            elif takes_mask and in_mask is not None:
                kwargs["mask"] = in_mask
            if state_store is not None and isinstance(node.layer, RNN):
                kwargs["state_store"] = state_store
            out = node.layer(*args, **kwargs)
            outs = out if node.returns_list else [out]
            for symbol, value in zip(node.outputs, outs):
                values[id(symbol)] = value
            if isinstance(node.layer, Layer) and first is not None and len(node.outputs) == 1:
                masks[id(node.outputs[0])] = node.layer.compute_mask(args[0], in_mask)
        # each output carries its mask, so the loss and metrics skip the masked steps, as Keras's
        results = [keras_mask.attach(values[id(s)], masks.get(id(s))) for s in self.outputs]
        return results if self._multi_output else results[0]

    # -- description ----------------------------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        print_fn(functional_summary(self))

    def get_config(self) -> dict:
        index = {id(m): k for k, m in enumerate(self._graph_layers)}
        node_of = {id(n): k for k, n in enumerate(self._nodes)}
        input_of = {id(s): k for k, s in enumerate(self.inputs)}

        def ref(s: Symbol):
            return {"input": input_of[id(s)]} if s.node is None else {"node": node_of[id(s.node)], "index": s.index}

        layers = [{"model": model_config(m)} if isinstance(m, BaseModel) else serialize(m) for m in self._graph_layers]
        return {"name": self.name,
                "inputs": [{"name": s.name, "batch_shape": list(s.shape), "dtype": s.dtype} for s in self.inputs],
                "layers": layers,
                "nodes": [{"layer": index[id(n.layer)], "args": _encode(n.args, ref), "kwargs": _encode(n.kwargs, ref)}
                          for n in self._nodes],
                "outputs": _encode(self.outputs if self._multi_output else self.outputs[0], ref),
                "multi_input": self._multi_input, "dtype": self.dtype_policy.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        layers = [build_model(spec["model"], custom_objects) if "model" in spec else deserialize(spec, custom_objects)
                  for spec in config["layers"]]
        inputs = [Input(batch_shape=spec["batch_shape"], name=spec["name"], dtype=spec["dtype"])
                  for spec in config["inputs"]]
        produced: list = []

        def resolve(r):
            return inputs[r["input"]] if "input" in r else _item(produced[r["node"]], r["index"])

        for spec in config["nodes"]:
            args = _decode(spec["args"], resolve)
            kwargs = _decode(spec["kwargs"], resolve)
            produced.append(layers[spec["layer"]](*args, **kwargs))
        outputs = _decode(config["outputs"], resolve)
        return cls(inputs if config.get("multi_input") else inputs[0], outputs, name=config.get("name"),
                   dtype=config.get("dtype"))


def _item(out, index: int):
    return out[index] if isinstance(out, list) else out


def _takes_mask(layer) -> bool:
    # Recurrent layers and wrappers, and any rnnkit layer whose forward has a `mask` argument
    # (GlobalAveragePooling1D), as Keras passes a mask to a `call` that takes one.
    return isinstance(layer, (RNN, Bidirectional, TimeDistributed)) or (isinstance(layer, Layer) and
                                                                     accepts_mask(layer))


def _encode(structure, ref):
    if isinstance(structure, Symbol):
        return {"__symbol__": ref(structure)}
    if isinstance(structure, (list, tuple)):
        return [_encode(s, ref) for s in structure]
    if isinstance(structure, dict):
        return {k: _encode(v, ref) for k, v in structure.items()}
    if isinstance(structure, (bool, int, float, str)) or structure is None:
        return structure
    raise TypeError(f"Cannot save a layer call with an argument of type {type(structure).__name__}.")


def _decode(structure, resolve):
    if isinstance(structure, dict) and "__symbol__" in structure:
        return resolve(structure["__symbol__"])
    if isinstance(structure, list):
        return [_decode(s, resolve) for s in structure]
    if isinstance(structure, dict):
        return {k: _decode(v, resolve) for k, v in structure.items()}
    return structure

