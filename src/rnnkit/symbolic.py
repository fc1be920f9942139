"""Symbolic tensors: what flows between layers while a functional model is described.

Calling a layer on a `Symbol` (an `Input`, or another layer's output) records a `Node` instead of
computing. Each symbol carries a small example tensor (batch 2, unknown lengths 13) computed by
running the layer once, which gives its shape, builds lazily-sized weights and surfaces a shape
mismatch at the layer where it happens, not later inside `fit`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .state import isolated

Tensor = torch.Tensor
EXAMPLE_BATCH = 2
EXAMPLE_LENGTH = 13  # stands for a None (any length) axis in example tensors


class Symbol:
    """A symbolic tensor of shape `shape` (None: any size), produced by `node` (None for an Input)."""

    def __init__(self, shape: tuple, example: Tensor, node: "Node | None" = None, index: int = 0,
                 name: str | None = None):
        self.shape = tuple(shape)
        self.example = example
        self.node = node
        self.index = index
        self.name = name or (node.layer.name if node is not None else "input")

    @property
    def batch_shape(self) -> tuple:
        return self.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<Symbol shape={self.shape} from {self.name!r}>"

    # A symbol has no values yet: arithmetic or torch functions on it are a mistake with a clear fix.
    def _refuse(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic (it describes a model, it holds no numbers): it can only be "
                        "passed to layers. Wrap the computation in a layer, e.g. Lambda(lambda x: x * 2)(t), "
                        "or build the model with Model(inputs, outputs) and call it on data.")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __matmul__ = _refuse
    __getitem__ = __neg__ = __array__ = _refuse

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        for a in args:
            if isinstance(a, Symbol):
                a._refuse()
            if isinstance(a, (list, tuple)):
                for b in a:
                    if isinstance(b, Symbol):
                        b._refuse()
        return NotImplemented


class Node:
    """One call of `layer` in a functional graph: its (nested) arguments and its output symbols."""

    def __init__(self, layer, args: tuple, kwargs: dict):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs: list[Symbol] = []
        self.returns_list = False

    def input_symbols(self) -> list[Symbol]:
        return flatten((self.args, self.kwargs))


def flatten(structure) -> list[Symbol]:
    """Every Symbol inside nested lists, tuples and dicts, in order."""
    if isinstance(structure, Symbol):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [s for item in structure for s in flatten(item)]
    if isinstance(structure, dict):
        return [s for item in structure.values() for s in flatten(item)]
    return []


def map_symbols(structure, fn: Callable[[Symbol], Any]):
    """The same nesting with each Symbol replaced by fn(symbol)."""
    if isinstance(structure, Symbol):
        return fn(structure)
    if isinstance(structure, list):
        return [map_symbols(s, fn) for s in structure]
    if isinstance(structure, tuple):
        return tuple(map_symbols(s, fn) for s in structure)
    if isinstance(structure, dict):
        return {k: map_symbols(v, fn) for k, v in structure.items()}
    return structure


def is_symbolic(args: tuple, kwargs: dict) -> bool:
    """Cheap test used on every layer call: is the first argument (or its first item) a Symbol?"""
    first = args[0] if args else kwargs.get("inputs")
    if isinstance(first, Symbol):
        return True
    return isinstance(first, (list, tuple)) and bool(first) and isinstance(first[0], Symbol)


def example_shape(shape: tuple) -> list[int]:
    """The shape of the example tensor a symbol of `shape` carries (None: the stand-in sizes)."""
    return [EXAMPLE_BATCH if i == 0 and d is None else (EXAMPLE_LENGTH if d is None else d)
            for i, d in enumerate(shape)]


def example_for(shape: tuple, dtype: str = "float32") -> Tensor:
    return torch.zeros(example_shape(shape), dtype=torch.long if "int" in str(dtype) else torch.float32)


def _shape_of(example: Tensor, any_length: bool, batch: int | None) -> tuple:
    # The batch axis keeps a batch the inputs declared (Input(batch_shape=...)), else None; an axis
    # of the stand-in length is taken for "any length".
    first = batch if batch is not None and example.dim() and example.shape[0] == batch else None
    return (first, *[None if any_length and d == EXAMPLE_LENGTH else d for d in example.shape[1:]])


def record(layer, args: tuple, kwargs: dict):
    """Record `layer(*args, **kwargs)` on symbols: run it on the examples, return output symbol(s)."""
    inputs = flatten((args, kwargs))
    any_length = any(None in s.shape[1:] for s in inputs)
    example_args = map_symbols(args, lambda s: s.example)
    example_kwargs = map_symbols(kwargs, lambda s: s.example)
    try:
        # The example run must not touch the kept states of stateful layers inside `layer`.
        with torch.no_grad(), isolated(layer):
            out = torch.nn.Module.__call__(layer, *example_args, **example_kwargs)
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        shapes = ", ".join(str(s.shape) for s in inputs)
        raise ValueError(f"Layer {getattr(layer, 'name', type(layer).__name__)!r} cannot take input of shape "
                         f"{shapes}: {err}") from None
    node = Node(layer, args, kwargs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    node.returns_list = isinstance(out, (list, tuple))
    batches = {s.shape[0] for s in inputs}
    batch = batches.pop() if len(batches) == 1 else None
    node.outputs = [Symbol(_shape_of(o, any_length, batch), o, node, i) for i, o in enumerate(outs)]
    # Keras's `layer.input` / `layer.output` name the first call's symbols (inbound_nodes[0])
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return list(node.outputs) if node.returns_list else node.outputs[0]


def is_keras_tensor(x) -> bool:
    """Keras's `is_keras_tensor`: whether `x` is a symbolic tensor (an `Input`, or a layer's output in a
    functional model being described), not data."""
    return isinstance(x, Symbol)


def get_source_inputs(tensor):
    """Keras's `get_source_inputs`: the Inputs `tensor` is computed from, as a list in the order the graph
    reaches them, each once. An Input gives [itself]; anything that is not symbolic is returned as it is."""
    if not isinstance(tensor, Symbol):
        return tensor
    sources: list[Symbol] = []
    stack, seen = [tensor], set()
    while stack:  # depth first, inputs in order (iterative: decoders unrolled 150 steps are long chains)
        s = stack.pop()
        if s.node is None:
            if all(s is not t for t in sources):
                sources.append(s)
            continue
        if id(s.node) in seen:
            continue
        seen.add(id(s.node))
        stack.extend(reversed(s.node.input_symbols()))
    return sources
