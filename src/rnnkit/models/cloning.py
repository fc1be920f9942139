"""Keras's `clone_model` (keras/src/models/cloning.py): the same architecture with new layers, so new
weights (Keras does not copy them either; `clone.set_weights(model.get_weights())` does).

>>> from rnnkit.layers import Input, LSTM, Dense
>>> model = Sequential([Input((5, 2)), LSTM(3), Dense(1)])
>>> clone = clone_model(model)
>>> [l.name for l in clone.layers] == [l.name for l in model.layers], clone.layers[0] is model.layers[0]
(True, False)
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..io.checkpoint import build_model, model_config
from ..io.compile_state import compile_config, restore_compile
from ..layers.core import Input
from ..layers.merge import Lambda
from ..symbolic import Symbol, map_symbols
from .base import BaseModel
from .functional import Model
from .sequential import Sequential


def clone_model(model, input_tensors=None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False, **kwargs):
    """A copy of a Sequential or functional `model` made of new layers (new weights), as Keras's.

    `clone_function(layer)` makes each layer's copy (default: `type(layer).from_config(layer.get_config())`,
    keeping the layer's name; a layer called at several places of the graph is cloned once, so it stays
    shared). `input_tensors`: the Input(s) to build the copy on (same structure as `model.input`),
    else new ones like the model's. `call_function(layer, *args, **kwargs)` (functional models only)
    calls each cloned layer, so it can add layers around it. `recursive=True` clones nested Sequential
    and functional models with the same functions instead of passing them to `clone_function`.
    A compiled model's copy is compiled the same way (the optimizer afresh), as in Keras, when its
    compile arguments can be rebuilt by name (a custom loss or metric function cannot: compile the copy).

    Other rnnkit models (the topologies, registered BaseModel subclasses) are rebuilt from their config;
    `clone_function`, `input_tensors` and `call_function` are refused for them, as Keras refuses them
    for subclassed models.
    """
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("`call_function` argument is not supported with Sequential models.  In a Sequential "
                             "model, layers aren't called at model-construction time (they're merely listed). Use "
                             "`call_function` with Functional models only. Received model of type "
                             f"'{type(model).__name__}', with call_function={call_function}")
        clone = _clone_sequential(model, _wrap(clone_function, None, recursive, cache), input_tensors)
    elif isinstance(model, Model):
        clone = _clone_functional(model, _wrap(clone_function, call_function, recursive, cache), input_tensors,
                                  call_function)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError("Arguments `clone_function` and `input_tensors` are only supported for Sequential "
                             f"models or Functional models. Received model of type '{type(model).__name__}', with "
                             f"clone_function={clone_function} and input_tensors={input_tensors}")
        if call_function is not None:
            raise ValueError("Argument `call_function` is only supported for Functional models. Received model of "
                             f"type '{type(model).__name__}', with call_function={call_function}")
        if not isinstance(model, BaseModel):
            raise TypeError(f"clone_model takes an rnnkit model (Sequential, Model, ...), received "
                            f"{type(model).__name__}. Clone a single layer with "
                            "type(layer).from_config(layer.get_config()).")
        clone = build_model(model_config(model), {type(model).__name__: type(model)})
    _compile_like(model, clone)
    return clone


def clone_layer(layer: nn.Module) -> nn.Module:
    """Keras's default clone function: `type(layer).from_config(layer.get_config())`; a nested model is
    rebuilt from its config, a Lambda keeps its function (whose code no config holds)."""
    if isinstance(layer, BaseModel):
        return build_model(model_config(layer), {type(layer).__name__: type(layer)})
    if isinstance(layer, Lambda):
        config = layer.get_config()
        return Lambda.from_config(config, {config["function"]: layer.function, layer.name: layer.function})
    if not hasattr(type(layer), "from_config"):
        raise TypeError(f"clone_model cannot clone {type(layer).__name__} {getattr(layer, 'name', '')!r}: it has no "
                        "from_config(). Pass clone_function=... that makes its copy (or returns it, to share it).")
    return type(layer).from_config(layer.get_config())


def _wrap(clone_function: Callable | None, call_function: Callable | None, recursive: bool,
          cache: dict | None) -> Callable:
    """clone_function made to clone each layer once (shared layers stay shared) and, with `recursive`,
    to clone nested models with clone_model."""
    clone_function = clone_function or clone_layer
    cache = {} if cache is None else cache

    def wrapped(layer):
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and isinstance(layer, Sequential):
            clone = clone_model(layer, clone_function=clone_function, recursive=True, cache=cache)
        elif recursive and isinstance(layer, Model):
            clone = clone_model(layer, clone_function=clone_function, call_function=call_function, recursive=True,
                                cache=cache)
        else:
            clone = clone_function(layer)
        cache[id(layer)] = clone
        return clone

    return wrapped


def _clone_sequential(model: Sequential, clone_function: Callable, input_tensors) -> Sequential:
    if not callable(clone_function):
        raise ValueError(f"Expected `clone_function` argument to be a callable. Received: clone_function={clone_function}")
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, Input):
            raise ValueError("Argument `input_tensors` must be a KerasTensor (an rnnkit Input for a Sequential model). "
                             f"Received invalid value: input_tensors={input_tensors}")
        layers = [input_tensors, *layers]
    elif model.input_spec is not None:
        spec = model.input_spec
        layers = [Input(batch_shape=spec.batch_shape, dtype=spec.dtype, name=spec.name), *layers]
    return Sequential(layers, name=model.name, dtype=model.dtype_policy)


def _clone_functional(model: Model, clone_function: Callable, input_tensors, call_function) -> Model:
    if not callable(clone_function):
        raise ValueError(f"Expected `clone_function` argument to be a callable. Received: clone_function={clone_function}")
    if input_tensors is None:
        new_inputs = [Input(batch_shape=s.shape, dtype=s.dtype, name=s.name) for s in model.inputs]
    else:
        given = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if not all(isinstance(s, Symbol) for s in given):
            raise ValueError("All entries in `input_tensors` must be KerasTensors. Received invalid values: "
                             f"inputs_tensors={input_tensors}")
        if isinstance(input_tensors, (list, tuple)) != model._multi_input or len(given) != len(model.inputs):
            raise ValueError("`input_tensors` must have the same structure as model.input\nReference structure: "
                             f"{model.input}\nReceived structure: {input_tensors}")
        new_inputs = given
    made = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    for node in model._nodes:
        layer = clone_function(node.layer)
        args = map_symbols(node.args, lambda s: made[id(s)])
        kwargs = map_symbols(node.kwargs, lambda s: made[id(s)])
        out = call_function(layer, *args, **kwargs) if call_function is not None else layer(*args, **kwargs)
        outs = list(out) if node.returns_list else [out]
        if len(outs) != len(node.outputs):
            raise ValueError(f"Cloning layer {getattr(node.layer, 'name', '?')!r}: its copy returned {len(outs)} "
                             f"output(s) where the original returns {len(node.outputs)}.")
        for old, new in zip(node.outputs, outs):
            made[id(old)] = new
    outputs = [made[id(s)] for s in model.outputs]
    return Model(new_inputs if model._multi_input else new_inputs[0], outputs if model._multi_output else outputs[0],
                 name=model.name, dtype=model.dtype_policy)


def _compile_like(model, clone) -> None:
    """Compile `clone` as `model` is (Keras's compile_from_config), when rnnkit can rebuild the arguments."""
    if not getattr(model, "compiled", False):
        return
    config = compile_config(model)
    if config is not None and config.get("loss") is not None and config.get("optimizer") is not None:
        restore_compile(clone, {"compile": config}, {})
