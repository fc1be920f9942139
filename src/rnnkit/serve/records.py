"""What a state store keeps per series, as fixed-size records, and the contract every store follows.

A series' record is its step number (how many steps have been applied; 0 = no record), its state row
(float32), the digest of its last step's input with the step number it started from, and that step's
output: a client that retries step k after a crash, with the same input, gets the stored answer instead
of a second application. Records are a NumPy structured array, so a batch of thousands of series is
read, compared, computed and written without a Python object per series, and its bytes are what a store
writes (one blob per batch) and reads back.

Every store writes conditionally: `commit` applies new records only where the stored step number is
still the one the computation started from, all at once, and says where it was not (another process
stepped those series first; the server recomputes them). A commit is visible when `commit` returns and
durable when the next `sync` returns (which covers every commit before it): the server answers a batch
only after its sync.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

MARK_BYTES = 16


def record_dtype(width: int, outputs: int) -> np.dtype:
    """One series' record: step, state (width floats), mark (16 bytes), last output (outputs floats)."""
    return np.dtype([("step", "<i8"), ("state", "<f4", (width,)), ("mark", f"S{MARK_BYTES}"),
                     ("y", "<f4", (outputs,))])


def marks(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per row of `x` (rows, ...): 16 bytes naming that input together with the step it starts from.

    Two 64-bit multiply-xorshift lanes over the row's bytes, vectorised across rows (a Python hash call
    per row cost more than the model step). Not a cryptographic digest: a mark only lets a series' own
    client retry its last step, so a forged collision could only replay that client's own answer."""
    rows = len(x)
    body = np.ascontiguousarray(x, dtype="<f4").reshape(rows, -1)
    if body.shape[1] % 2:
        body = np.concatenate([body, np.zeros((rows, 1), "<f4")], axis=1)
    words = np.concatenate([body.view("<u8"), np.asarray(start, "<i8").reshape(rows, 1).view("<u8")], axis=1)
    lanes = np.empty((rows, 2), "<u8")
    for lane, (seed, mul) in enumerate(_LANES):
        h = np.full(rows, seed, np.uint64)
        for w in words.T:
            h = (h ^ w) * mul
            h ^= h >> np.uint64(31)
        lanes[:, lane] = h ^ np.uint64(words.shape[1])
    return lanes.view(f"S{MARK_BYTES}").reshape(rows)


_LANES = ((np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)),
          (np.uint64(0xD6E8FEB86659FD93), np.uint64(0x94D049BB133111EB)))


def check_ids(ids: list[str]) -> None:
    """Ids reach a store already checked by the HTTP layer; a store still refuses what it cannot keep."""
    for sid in ids:
        if not sid or "\n" in sid:
            raise ValueError(f"series id {sid[:140]!r}: must be non-empty and hold no line break.")


class StateStoreError(ValueError):
    """The store cannot be used as asked (another model's states, unreachable, unreadable)."""


class SeriesStore(Protocol):
    description: str

    def check(self, signature: str, width: int, outputs: int, replay=None) -> None:
        """Refuse a store written for another state layout; fix the record layout. `replay` (the serving
        `Engine`) lets a store log steps by their inputs and replay them (redo.py)."""

    def rows(self, ids: list[str]) -> np.ndarray:
        """The records of `ids` (distinct), in order; step 0 and zeros where a series has none."""

    def commit(self, ids: list[str], expected: np.ndarray, records: np.ndarray, x=None) -> np.ndarray:
        """Write records[r] for ids[r] where the stored step is still expected[r]; True where it was not.
        `x`: a one-step batch's inputs, which a store may log instead of the new states."""

    def delete(self, series_id: str) -> None: ...

    def sync(self) -> None:
        """Make every commit and delete that returned before this call durable."""

    def close(self) -> None: ...


def meta_mismatch(where: str, stored: str, signature: str, stored_width, width: int) -> StateStoreError:
    return StateStoreError(
        f"{where} holds states of another model (state layout {stored}, {stored_width} floats per series; this "
        f"model needs {signature}, {width} floats). Use another state store for this model (--state), or "
        "remove that one to start every series from zero.")
