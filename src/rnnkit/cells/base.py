"""The cell contract: what `RNN(cell)` needs from a cell, as Keras's custom-cell API writes it.

A cell is the math of one time step; the layer (`rnnkit.layers.RNN`) owns time. A cell is a
`torch.nn.Module` with:

- `state_size`: an int (one state) or a list/tuple of ints (several states; LSTM's is
  `[units, units]` for h and c). `output_size` is optional and defaults to the first state size.
- `call(inputs, states) -> (output, new_states)`: one step. `inputs` is (batch, features), `states`
  a list of (batch, size) tensors, one per state size; `new_states` a list like it (a single tensor
  is read as a one-state list). If `call` takes a `training` argument, the layer passes it.
- `build(input_size)` (optional): create weights sized by the feature count. The layer calls it
  once before the first step unless `cell.built` is true, then sets `cell.built = True` and
  `cell.input_size` (if the cell left it unset); the layer checks later inputs against
  `cell.input_size`.
- `get_initial_state(batch_size, dtype, device)` (optional): the first states; zeros otherwise.

Fast paths are opt-in; the layer never assumes them, and a cell without them runs `call` in a loop:

- `fused_kernel(training)`: a function `(x, states, batch_sizes) -> (outputs, final_states)` that
  computes the whole sequence at once exactly as `call` would (x is (B, T, F), or packed data with
  `batch_sizes`), or None where it would not (e.g. recurrent dropout while training).
- `fused_step(batch)`: a function `(x_t, states) -> new_states` for one inference step of `batch`
  rows (generation, streaming), or None.
- `project(x)` with `step(xp_t, states, rec_mask)`, the split step: the input part of every step in
  one product, then the recurrent part per step (output = first new state). With it the layer also
  applies the cell's `dropout` (one input mask per sequence) and `recurrent_dropout` (`rec_mask`,
  multiplying h) while training; the cell must have both rates (0.0 for none). The split step runs
  instead of `call`, so a subclass of a built-in cell that changes `call` must change `step` too.

Both fused paths promise that the output of each step is the first state, as PyTorch's kernels
return it. Subclassing `Cell` is optional: it gives `built`, `input_size`, the default
`get_initial_state`, `state_count`, `forward(x_t, states)` (one step, building on first use) and
fast-path hooks that return None.

>>> class Accumulate(Cell):  # h' = h + x: a cell with no weights
...     def __init__(self, units):
...         super().__init__()
...         self.state_size = units
...     def call(self, inputs, states):
...         h = states[0] + inputs
...         return h, [h]
>>> h, states = Accumulate(3)(torch.ones(2, 3))
>>> tuple(h.shape), len(states), float(h.sum())
((2, 3), 1, 6.0)
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

Tensor = torch.Tensor


class Cell(nn.Module):
    """Base for cells: subclasses set `state_size` and implement `call(inputs, states)`.

    See the module docstring for the whole contract; `RNN` also runs cells that do not subclass this.
    """

    def __init__(self):
        super().__init__()
        self.built = False
        self.input_size: int | None = None

    @property
    def state_count(self) -> int:
        """How many state tensors the cell carries (read-only; `state_size` says it)."""
        return len(state_sizes(self))

    def build(self, input_size: int) -> None:
        """Create the weights for `input_size` features per step (none here)."""
        self.input_size = int(input_size)
        self.built = True

    def call(self, inputs: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """One step: (B, F) inputs and the states -> (output, new states)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(inputs, states) -> "
                                  "(output, new_states).")

    def get_initial_state(self, batch_size: int, dtype: torch.dtype | None = None,
                          device: torch.device | str | None = None) -> list[Tensor]:
        """Zero states, one (batch_size, size) tensor per state size."""
        dtype = dtype or torch.get_default_dtype()
        return [torch.zeros(batch_size, size, dtype=dtype, device=device) for size in state_sizes(self)]

    def fused_kernel(self, training: bool) -> Callable | None:
        """The whole-sequence fast path, or None: this cell declares none."""
        return None

    def fused_step(self, batch: int) -> Callable | None:
        """The one-step inference fast path, or None: this cell declares none."""
        return None

    def forward(self, x_t: Tensor, states: list[Tensor] | Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
        """One step, as Keras's cell call: (B, F) and states (zeros if None) -> (output, new states)."""
        if not self.built:
            build_cell(self, x_t.shape[-1])
        if states is None:
            states = self.get_initial_state(x_t.shape[0], x_t.dtype, x_t.device)
        elif isinstance(states, Tensor):
            states = [states]
        output, new = self.call(x_t, list(states))
        return output, as_states(new)


# -- the contract, read from any cell (a `Cell` or a plain module) ----------------------------------
def _is_size(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def state_sizes(cell: nn.Module) -> list[int]:
    """The cell's `state_size` as a list of ints (one per state)."""
    size = cell.state_size
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    # A stack's state_size nests its cells' ([3, [2, 2]]); the layer carries its states flat.
    sizes = [s for entry in sizes for s in (entry if isinstance(entry, (list, tuple)) and entry else [entry])]
    if not sizes or not all(_is_size(s) for s in sizes):
        raise TypeError(f"{type(cell).__name__}.state_size must be a positive int (one state) or a list of "
                        f"them (one per state, e.g. [units, units] for h and c); received {size!r}.")
    return [int(s) for s in sizes]


def nest_states(cell: nn.Module, flat: Sequence) -> list:
    """Flat states (or their shapes) nested as the cell's `state_size` nests them (a stack's: one entry
    per cell, a list for a cell with several states), as Keras returns them; unchanged otherwise."""
    size = cell.state_size
    if not isinstance(size, (list, tuple)) or not any(isinstance(s, (list, tuple)) for s in size):
        return list(flat)
    nested, start = [], 0
    for entry in size:
        if isinstance(entry, (list, tuple)):
            nested.append(list(flat[start:start + len(entry)]))
            start += len(entry)
        else:
            nested.append(flat[start])
            start += 1
    return nested


def output_size(cell: nn.Module) -> int:
    """The size of the cell's output: `output_size` if it says, else its first state size."""
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else state_sizes(cell)[0]


def has_split_step(cell: nn.Module) -> bool:
    """Whether the cell declares the split step (`project` and `step`)."""
    return callable(getattr(cell, "project", None)) and callable(getattr(cell, "step", None))


def declares_fused_kernel(cell: nn.Module) -> bool:
    """Whether the cell has a whole-sequence fast path of its own (not the base's None)."""
    hook = getattr(type(cell), "fused_kernel", None)
    return callable(hook) and hook is not Cell.fused_kernel


def check_cell(cell) -> None:
    """Raise TypeError, naming what is missing, unless `cell` follows the contract."""
    if not isinstance(cell, nn.Module):
        raise TypeError(f"RNN needs a cell: a torch.nn.Module with state_size and call(inputs, states); "
                        f"received {type(cell).__name__}.")
    if hasattr(cell, "return_sequences"):
        raise TypeError(f"RNN needs a cell (one step), received the layer {type(cell).__name__} (a whole "
                        "sequence). Use the layer directly, or pass its cell (e.g. RNN(LSTMCell(4))).")
    missing = [name for name in ("state_size", "call") if getattr(cell, name, None) is None]
    if "call" not in missing and isinstance(cell, Cell) and type(cell).call is Cell.call:
        missing.append("call")
    if missing:
        raise TypeError(f"{type(cell).__name__} is not a cell: it has no {' and no '.join(missing)}. A cell sets "
                        "state_size (an int, or a list of ints for several states) and defines "
                        "call(inputs, states) -> (output, new_states).")
    state_sizes(cell)


def build_cell(cell: nn.Module, input_size: int) -> None:
    """Build `cell` for `input_size` features (its `build`, if any) and record that it is built."""
    build = getattr(cell, "build", None)
    if build is not None:
        build(int(input_size))
    if getattr(cell, "input_size", None) is None:
        cell.input_size = int(input_size)
    cell.built = True


def initial_states(cell: nn.Module, batch_size: int, dtype: torch.dtype, device) -> list[Tensor]:
    """The cell's first states: its `get_initial_state`, else zeros of each state size."""
    get = getattr(cell, "get_initial_state", None)
    if get is not None:
        return as_states(get(batch_size, dtype, device))
    return [torch.zeros(batch_size, size, dtype=dtype, device=device) for size in state_sizes(cell)]


def as_states(states: Sequence[Tensor] | Tensor) -> list[Tensor]:
    """States as a list (a single tensor is one state)."""
    return [states] if isinstance(states, Tensor) else list(states)
