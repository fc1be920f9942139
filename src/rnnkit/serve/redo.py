"""Logging a step by its input instead of its new state, and replaying it.

A series' new state is a function of its old state and the step's input, so a store may log the input
(a redo record: step number, input, mark, output) and recompute the state when it reads the log back,
as databases log commands instead of values. For LSTM(64) x 2 with 8 features that is 60 bytes per
series-step instead of 1,052: the durable write of a batch, most of its cost, shrinks 17-fold.

Reading such a log needs the model that wrote it, so every redo batch names the model by its
fingerprint (a digest of its weights); a store holding another model's redo batches is refused until
they are compacted (the server compacts them when it stops). A replayed state is what the same
computation gives again: the same rows through the same model in the same batch, equal to the state
that was served up to floating-point reordering between machines or thread counts (the tests hold both
to 1e-5 of an offline `Stream` replay).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .records import MARK_BYTES, StateStoreError


class Replay(Protocol):
    """What replaying needs: the model's fingerprint, its input width and its step (an `Engine`)."""
    fingerprint: str
    features: int

    def step(self, x: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def redo_dtype(features: int, outputs: int) -> np.dtype:
    """One series-step logged by its input: step number after it, input, mark, output."""
    return np.dtype([("step", "<i8"), ("x", "<f4", (features,)), ("mark", f"S{MARK_BYTES}"),
                     ("y", "<f4", (outputs,))])


def to_redo(records: np.ndarray, x: np.ndarray, features: int) -> np.ndarray:
    """The redo records of a step batch: `records` (the full ones) without their states, with the inputs."""
    out = np.empty(len(records), redo_dtype(features, records.dtype["y"].shape[0]))  # record_dtype: y is (outputs,)
    out["step"], out["x"], out["mark"], out["y"] = records["step"], x, records["mark"], records["y"]
    return out


def from_redo(blob: bytes, before: np.ndarray, replay: Replay) -> np.ndarray:
    """Full records from a redo batch's bytes and the records it started from (`before`, one per row)."""
    redo = np.frombuffer(blob, redo_dtype(replay.features, before.dtype["y"].shape[0]))
    if len(redo) != len(before) or not np.array_equal(before["step"] + 1, redo["step"]):
        raise StateStoreError("the state store's log does not follow on from its own records (a redo batch for "
                              "steps its series had not reached): the store is damaged. Start a new one (--state).")
    _, states = replay.step(redo["x"].copy(), np.ascontiguousarray(before["state"]))  # (the log's bytes are read-only)
    out = np.empty(len(redo), before.dtype)
    out["step"], out["state"], out["mark"], out["y"] = redo["step"], states, redo["mark"], redo["y"]
    return out


def foreign_model(where: str, fingerprint: str, ours: str) -> StateStoreError:
    return StateStoreError(
        f"{where} holds steps logged by their inputs for another model's weights (fingerprint {fingerprint}; this "
        f"model's is {ours}), which only that model can replay into states. Start the server once more with that "
        "model file and stop it cleanly (stopping compacts the log into states), then start this one; or use "
        "another state store (--state).")
