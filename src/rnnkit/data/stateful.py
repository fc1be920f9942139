"""Stateful batch layout: row i of every chunk continues row i of the previous chunk.

The seeds' picture (seed 000):

                   BATCH 1                      BATCH 2
    Tank A:  [[Pa1,Ta1], [Pa2,Ta2]]  |  [[Pa3,Ta3], [Pa4,Ta4], ...]
    Tank B:  [[Pb1,Tb1], [Pb2,Tb2]]  |  [[Pb3,Tb3], [Pb4,Tb4], ...]

`stateful_batches` cuts K long sequences into such chunks. With more sequences than rows it goes in
waves of `batch_size` sequences and says `reset=True` at the start of each wave. Unequal lengths in a
wave are padded with zeros at the end; `chunk.mask` marks the real steps (False on padding) so the
recurrent layers skip the padding (Keras masking) -- pass it as `model(x, mask=chunk.mask)`. The last
wave may hold fewer sequences than `batch_size`: rnnkit accepts any batch size after a reset.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np


class Chunk(tuple):
    """(x, y, reset), unpackable as a 3-tuple, with `.mask` (batch, steps) bool and `.rows` ids."""

    def __new__(cls, x, y, reset: bool, mask: np.ndarray, rows: np.ndarray):
        self = super().__new__(cls, (x, y, reset))
        self.mask, self.rows = mask, rows
        return self

    x = property(lambda self: self[0])
    y = property(lambda self: self[1])
    reset = property(lambda self: self[2])


def stateful_batches(sequences, batch_size: int, chunk_length: int, target: str | None = "sequence"
                     ) -> Iterator[Chunk]:
    """Yield chunks (x, y, reset) of K sequences laid out for a stateful model.

    Args:
        sequences: a (K, T, F) array or a list of K arrays (T_k, F) or (T_k,).
        batch_size: rows per batch (sequences read side by side).
        chunk_length: time steps per chunk.
        target: 'sequence' -> x is each sequence but its last step, y the same shifted one step
            ahead (next-step prediction); None -> y is None.

    >>> seqs = np.arange(2 * 7).reshape(2, 7, 1).astype(float)
    >>> [(c.x.shape, c.reset) for c in stateful_batches(seqs, batch_size=2, chunk_length=3)]
    [((2, 3, 1), True), ((2, 3, 1), False)]
    """
    if target not in ("sequence", None):
        raise ValueError(f"target must be 'sequence' or None, received {target!r}.")
    seqs = [np.asarray(s) for s in sequences]
    if not seqs:
        raise ValueError("stateful_batches: no sequences given.")
    seqs = [s[:, None] if s.ndim == 1 else s for s in seqs]
    if any(s.ndim != 2 for s in seqs):
        raise ValueError("stateful_batches: each sequence must be (time_steps, features) or (time_steps,).")
    if len({s.shape[1] for s in seqs}) > 1:
        raise ValueError(f"stateful_batches: sequences differ in features: {sorted({s.shape[1] for s in seqs})}.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
    if batch_size > len(seqs):
        raise ValueError(f"batch_size={batch_size} is larger than the number of sequences ({len(seqs)}); "
                         f"each row holds one sequence, so use batch_size <= {len(seqs)}.")
    if not isinstance(chunk_length, (int, np.integer)) or chunk_length < 1:
        raise ValueError(f"chunk_length must be a positive integer, received {chunk_length!r}.")
    shift = 1 if target == "sequence" else 0
    if any(len(s) <= shift for s in seqs):
        raise ValueError("stateful_batches: with target='sequence' every sequence needs at least 2 steps.")
    F = seqs[0].shape[1]
    for start in range(0, len(seqs), batch_size):
        wave = seqs[start:start + batch_size]
        rows = np.arange(start, start + len(wave))
        lengths = np.array([len(s) - shift for s in wave])
        T = int(lengths.max())
        x = np.zeros((len(wave), T, F), dtype=wave[0].dtype)
        y = np.zeros_like(x) if target else None
        for i, s in enumerate(wave):
            x[i, :lengths[i]] = s[:len(s) - shift]
            if target:
                y[i, :lengths[i]] = s[shift:]
        mask = np.arange(T)[None, :] < lengths[:, None]
        for c, t0 in enumerate(range(0, T, chunk_length)):
            sl = slice(t0, t0 + chunk_length)
            yield Chunk(x[:, sl], None if y is None else y[:, sl], c == 0, mask[:, sl], rows)
