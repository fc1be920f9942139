"""A stack of cells run as one cell: Keras's `StackedRNNCells` (what `RNN([cell, cell])` builds).

At each time step the first cell reads the input, each next cell reads the output of the one before,
and the step's output is the last cell's. `state_size` is the list of the cells' state sizes, nested
as Keras nests it ([units, [units, units]] for a SimpleRNN cell on an LSTM cell); the layer carries
the states flat, in that order, and hands them back nested with `return_state=True`.

>>> from rnnkit.cells import LSTMCell, SimpleRNNCell
>>> stack = StackedRNNCells([SimpleRNNCell(3), LSTMCell(2)])
>>> out, states = stack(torch.zeros(4, 5))
>>> stack.state_size, tuple(out.shape), [tuple(s.shape) for s in states]
([3, [2, 2]], (4, 2), [(4, 3), (4, 2), (4, 2)])
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from ..registry import BUILTIN, register_serializable, registered_name
from .base import Cell, as_states, build_cell, check_cell, initial_states, output_size, state_sizes

Tensor = torch.Tensor


@register_serializable(package=BUILTIN)
class StackedRNNCells(Cell):
    """Cells applied in order at every step, as one cell.

    Args:
        cells: a non-empty list of cells (the contract in `cells.base`), or their saved configs.
    """

    def __init__(self, cells):
        super().__init__()
        if not isinstance(cells, (list, tuple)) or not cells:
            raise TypeError(f"StackedRNNCells needs a non-empty list of cells, e.g. [LSTMCell(8), LSTMCell(4)]; "
                            f"received {cells!r}.")
        for cell in cells:
            check_cell(cell)
        self.cells = nn.ModuleList(cells)
        self._takes_training = ["training" in inspect.signature(c.call).parameters for c in cells]
        self._counts = [len(state_sizes(c)) for c in cells]
        if all(getattr(c, "built", False) for c in cells) and getattr(cells[0], "input_size", None):
            super().build(cells[0].input_size)  # rebuilt from a config: the cells have their weights

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return output_size(self.cells[-1])

    def build(self, input_size: int) -> None:
        size = int(input_size)
        for cell in self.cells:  # each cell reads the previous one's output
            if not getattr(cell, "built", False):
                build_cell(cell, size)
            size = output_size(cell)
        super().build(input_size)

    def get_initial_state(self, batch_size: int, dtype: torch.dtype | None = None, device=None) -> list[Tensor]:
        dtype = dtype or torch.get_default_dtype()
        return [s for cell in self.cells for s in initial_states(cell, batch_size, dtype, device)]

    def call(self, inputs: Tensor, states: list[Tensor], training: bool = False) -> tuple[Tensor, list[Tensor]]:
        new_states, start = [], 0
        for cell, count, takes_training in zip(self.cells, self._counts, self._takes_training):
            own = list(states[start:start + count])
            start += count
            kwargs = {"training": training} if takes_training else {}
            inputs, new = cell.call(inputs, own, **kwargs)
            new = as_states(new)
            if len(new) != count:
                raise ValueError(f"{type(cell).__name__}.call returned {len(new)} state(s), but its state_size "
                                 f"declares {count}; return one new state per state size.")
            new_states.extend(new)
        return inputs, new_states

    def get_config(self) -> dict:
        return {"cells": [_cell_config(c) for c in self.cells]}


def _cell_config(cell: nn.Module) -> dict:
    name = registered_name(type(cell))
    if name is None or not hasattr(cell, "get_config"):
        raise TypeError(f"Cannot save a {type(cell).__name__} in StackedRNNCells: a cell is saved by its "
                        "registered name and its get_config(). Decorate the class with "
                        "@rnnkit.register_serializable() and give it get_config() returning its constructor "
                        "arguments.")
    return {"class_name": name, "config": cell.get_config()}
