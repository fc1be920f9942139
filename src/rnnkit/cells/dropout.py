"""Dropout masks for a cell's `call`, one per sequence: Keras's `DropoutRNNCell` mixin.

A cell that runs through `call` step by step sees one time step at a time, yet variational dropout
(Gal & Ghahramani, as Keras does it) needs the same mask at every step of a sequence. The mixin
draws a mask on first use and keeps it; `RNN` drops the kept masks before and after each sequence,
so each batch gets fresh ones. A cell using it has `dropout` and `recurrent_dropout` rates, and may
have `seed_generator`, a `torch.Generator` (e.g. `torch.Generator().manual_seed(seed)`) that makes
its masks reproducible; without one the masks come from torch's global generator.

>>> class Noisy(DropoutRNNCell):
...     dropout, recurrent_dropout = 0.5, 0.0
>>> cell = Noisy()
>>> m = cell.get_dropout_mask(torch.ones(2, 4))
>>> m is cell.get_dropout_mask(torch.ones(2, 4)), set(m.flatten().tolist()) <= {0.0, 2.0}
(True, True)
>>> cell.reset_dropout_mask(); cell.get_recurrent_dropout_mask(torch.ones(2, 3)) is None
True
"""

from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


class DropoutRNNCell:
    """Mixin: `get_dropout_mask(step_input)` and `get_recurrent_dropout_mask(state)` return the kept
    mask (kept values scaled by 1 / (1 - rate), as Keras's dropout), or None when the rate is 0."""

    def _draw_mask(self, like: Tensor, rate: float) -> Tensor:
        keep = 1.0 - rate
        generator = getattr(self, "seed_generator", None)
        if isinstance(generator, torch.Generator):  # drawn where the generator lives, then moved
            probs = torch.full(tuple(like.shape), keep, dtype=like.dtype, device=generator.device)
            return (torch.bernoulli(probs, generator=generator) / keep).to(like.device)
        return torch.bernoulli(torch.full_like(like, keep)) / keep

    def get_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """The input mask of this sequence, drawn like `step_input` on first use."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._draw_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        """The recurrent-state mask of this sequence, drawn like `step_input` on first use."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw_mask(step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None


def reset_dropout_masks(cell: nn.Module) -> None:
    """Drop the kept masks of `cell` and of every cell inside it (a stack's cells)."""
    for module in cell.modules():
        if isinstance(module, DropoutRNNCell):
            module.reset_dropout_mask()
            module.reset_recurrent_dropout_mask()
