"""Keras's per-weight regularizers and constraints, on weights kept in PyTorch's layout.

Keras applies `kernel_regularizer` or `kernel_constraint` to the kernel as Keras shapes it: a Dense
kernel is (features, units) where PyTorch keeps the transpose, an LSTM kernel (features, 4 * units),
a GRU's gates come in another order and its two biases form one (2, 3 * units) variable. A layer or
cell lists its weights as `KerasWeight`s: the parameters, how to read the Keras-shaped tensor from them
and how to write one back. `weight_losses` penalises what `read` gives (differentiably), and
`apply_constraints` writes back what the constraint makes of it, so `MaxNorm(axis=0)` bounds the same
vectors as in Keras and `OrthogonalRegularizer` sees Keras's rows.

Nothing here runs unless a regularizer or constraint was set: `penalties_in_use()` says whether any
was, in this process, and the training step asks it before walking a model's layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from .. import constraints, regularizers

Tensor = torch.Tensor

_IN_USE = [False]  # set once any layer or cell is given a regularizer or constraint


def penalties_in_use() -> bool:
    """Whether any layer or cell in this process was given a regularizer or a constraint."""
    return _IN_USE[0]


def mark_in_use() -> None:
    _IN_USE[0] = True


@dataclass(frozen=True)
class KerasWeight:
    """One Keras variable: `read(*params)` is its Keras-shaped tensor, `write(tensor)` the values of
    `params` for a Keras-shaped tensor."""

    params: tuple[nn.Parameter, ...]
    read: Callable[..., Tensor]
    write: Callable[[Tensor], Sequence[Tensor]]
    regularizer: Callable | None
    constraint: Callable | None


def transposed(param: nn.Parameter, regularizer, constraint) -> KerasWeight:
    """A weight Keras keeps transposed (Dense's kernel: PyTorch (units, features), Keras (features, units))."""
    return KerasWeight((param,), lambda w: w.t(), lambda k: (k.t(),), regularizer, constraint)


def same_layout(param: nn.Parameter, regularizer, constraint) -> KerasWeight:
    """A weight with the same shape in both (biases, Embedding's table)."""
    return KerasWeight((param,), lambda w: w, lambda k: (k,), regularizer, constraint)


def assign_penalties(cell, where: str, **values) -> None:
    """Set each `*_regularizer` / `*_constraint` argument on `cell`, checked and looked up by name."""
    for name, value in values.items():
        lookup = get_regularizer if name.endswith("_regularizer") else get_constraint
        setattr(cell, name, lookup(value, where, name))


def get_regularizer(value, where: str, name: str):
    return _looked_up(regularizers.get, value, where, name)


def get_constraint(value, where: str, name: str):
    return _looked_up(constraints.get, value, where, name)


def _looked_up(get, value, where: str, name: str):
    """`get(value)` with the argument named in its error; a penalty set marks penalties in use."""
    try:
        found = get(value)
    except ValueError as err:
        raise ValueError(f"{where}: {name}: {err}") from None
    if found is not None:
        mark_in_use()
    return found


class WeightPenalties:
    """Mixin for a module whose weights may carry Keras regularizers and constraints: it lists them in
    `keras_weight_rules()` (empty before the weights exist)."""

    def keras_weight_rules(self) -> list[KerasWeight]:
        return []

    def weight_losses(self) -> list[Tensor]:
        """The penalty of each regularized trainable weight, in Keras's order (Keras: trainable_weights)."""
        return [w.regularizer(w.read(*w.params)) for w in self.keras_weight_rules()
                if w.regularizer is not None and all(p.requires_grad for p in w.params)]

    def apply_constraints(self) -> None:
        """Project each constrained weight (what Keras's optimizer does after applying gradients)."""
        with torch.no_grad():
            for w in self.keras_weight_rules():
                if w.constraint is None:
                    continue
                projected = w.constraint(w.read(*(p.detach() for p in w.params)))
                for param, value in zip(w.params, w.write(torch.as_tensor(projected))):
                    param.copy_(value)
