"""What a state store keeps per series, and the contract every store follows.

A series' record is its step number (how many steps have been applied), its state row (float32 bytes,
absent = zeros), and its last step's input digest and output: a client that retries step k after a
crash, with the same input, gets the stored answer instead of a second application.

Every store writes conditionally: `commit` applies a new record only where the stored step number is
still the one the computation started from, all in one transaction, and returns the series where it
was not (another process stepped them first; the server recomputes those).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Record:
    step: int
    state: bytes | None = None
    x_digest: bytes | None = None
    y: bytes | None = None


def digest(x: np.ndarray) -> bytes:
    """16 bytes naming one step's input (float32 values and shape)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    return hashlib.blake2b(x.tobytes() + repr(x.shape).encode(), digest_size=16).digest()


class StateStoreError(ValueError):
    """The store cannot be used as asked (another model's states, unreachable, unreadable)."""


class SeriesStore(Protocol):
    description: str

    def check(self, signature: str, width: int) -> None: ...

    def load(self, ids: list[str]) -> dict[str, Record]: ...

    def commit(self, writes: list[tuple[str, int, Record]]) -> set[str]: ...

    def delete(self, series_id: str) -> None: ...

    def close(self) -> None: ...


def meta_mismatch(where: str, stored: str, signature: str, stored_width: int, width: int) -> StateStoreError:
    return StateStoreError(
        f"{where} holds states of another model (state layout {stored}, {stored_width} floats per series; this "
        f"model needs {signature}, {width} floats). Use another state store for this model (--state), or "
        "remove that one to start every series from zero.")
