"""Keras's variable paths for a model's weights: what Muon's `exclude_layers` / `exclude_embeddings`,
OptimizerMap's patterns and `exclude_from_weight_decay(var_names=...)` match against.

A Keras weight's `path` is the names of the layers holding it and its own name, "lstm/lstm_cell/kernel",
behind the model's name in a Sequential ("sequential/dense_1/kernel"); its `name` is the last part
("kernel"). rnnkit gives each weight the same kind of path from its layers' names (`layer.name`, Keras's
automatic names: "dense", "dense_1"), a cell's class in snake case ("lstm_cell") and Keras's name for the
tensor: torch's `weight_ih`/`weight_hh` are Keras's `kernel`/`recurrent_kernel`, a Dense or convolution
`weight` its `kernel`, an Embedding's its `embeddings`, a normalization's `weight`/`bias` its
`gamma`/`beta`. Where rnnkit names a layer otherwise than Keras (the two halves of a Bidirectional), the
path carries rnnkit's name. A GRU's `bias_ih` and `bias_hh` share the path of Keras's one (2, 3 * units)
bias; Muon treats them as that matrix.

    >>> from rnnkit import Dense, Input, LSTM, Sequential
    >>> model = Sequential([Input((4, 2)), LSTM(3, name="lstm"), Dense(1, name="out")], name="seq")
    >>> sorted(set(variable_paths(model).values()))
    ['seq/lstm/lstm_cell/bias', 'seq/lstm/lstm_cell/kernel', 'seq/lstm/lstm_cell/recurrent_kernel', 'seq/out/bias', 'seq/out/kernel']
"""

from __future__ import annotations

import re

import torch
from torch import nn

from ..layers.base import Layer

_TENSOR_NAMES = {"weight_ih": "kernel", "weight_hh": "recurrent_kernel", "bias_ih": "bias", "bias_hh": "bias"}
_NORMALIZATIONS = ("LayerNormalization", "BatchNormalization")


def _snake_case(class_name: str) -> str:
    s = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", class_name)
    return re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s).lower()


def _tensor_name(owner: nn.Module, attribute: str) -> str:
    kind = type(owner).__name__
    if attribute in _TENSOR_NAMES:
        return _TENSOR_NAMES[attribute]
    if attribute == "weight":
        return "embeddings" if kind == "Embedding" else "gamma" if kind in _NORMALIZATIONS else "kernel"
    if attribute == "bias" and kind in _NORMALIZATIONS:
        return "beta"
    return attribute


def _scope(module: nn.Module, is_root: bool, parent: nn.Module | None = None) -> str | None:
    """The part of a path a module adds: a layer's name, a cell's class in snake case (numbered as Keras
    numbers its automatic names, "lstm_cell_1" for the second LSTMCell of a StackedRNNCells); None for a
    container (ModuleList) and for a functional model at the root (a Sequential puts its name first, as
    Keras's does, `keras_root_scope`, and so does a lone layer)."""
    name = getattr(module, "name", None)
    is_model = hasattr(module, "keras_root_scope")  # a model (training's OptimizerStep gives the method)
    if is_root and is_model:
        return module.keras_root_scope()
    if (is_model or isinstance(module, Layer)) and isinstance(name, str):
        return name
    kind = type(module).__name__
    if kind.endswith(("Cell", "Cells")):
        earlier = 0
        for sibling in (parent.modules() if parent is not None else ()):
            if sibling is module:
                break
            earlier += type(sibling) is type(module)
        return _snake_case(kind) + (f"_{earlier}" if earlier else "")
    return None


def variable_paths(module: nn.Module) -> dict[torch.Tensor, str]:
    """{parameter: Keras-style path} for every parameter of `module` (see the module docstring)."""
    paths = {}
    for qualified, p in module.named_parameters():
        parts, owner, scopes = qualified.split("."), module, []
        root_scope = _scope(module, True)
        if root_scope:
            scopes.append(root_scope)
        for attribute in parts[:-1]:
            parent, owner = owner, getattr(owner, attribute)
            scope = _scope(owner, False, parent)
            if scope:
                scopes.append(scope)
        paths[p] = "/".join([*scopes, _tensor_name(owner, parts[-1])])
    return paths
