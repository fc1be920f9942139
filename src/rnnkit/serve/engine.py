"""The arithmetic a server needs: many series' steps at once, their states as flat float32 rows.

A state store keeps one row of bytes per series; `Engine` turns rows into each recurrent layer's
states, runs one step (or a primed history) for every row that reported, and turns the new states back
into rows. It uses the functions `Stream` uses (`step_functions`, `advance`, `prime_layers`), so a
series served here follows exactly what `Stream.step` computes (tested against an offline replay).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ..convert import device_of, to_numpy
from ..inference.generation import advance, prime_layers, step_functions
from ..io.onnx_export import STATE_NAMES
from ..layers.rnn import RNN
from ..layers.stepping import input_features, step_plan
from ..state import StateStore


class Engine:
    """Step many series of `model` at once; states travel as (rows, width) float32 arrays."""

    def __init__(self, model, threads: int | None = None):
        self.model = model.eval()
        self.layers = step_plan(model, "rnnkit serve")
        self._recurrent = [layer for layer in self.layers if isinstance(layer, RNN)]
        self.features = input_features(model, self.layers)
        if self.features is None or self._recurrent[0].input_size is None:
            raise ValueError("rnnkit serve: the model has not seen data yet, so its input size is unknown. Build "
                             "it before saving (give Input a shape, or call predict/fit once).")
        self.device = device_of(model)
        self.threads = threads
        # (state key, [(name, width), ...]) per recurrent layer, in the model's order.
        self.layout: list[tuple[str, list[tuple[str, int]]]] = []
        for layer in self._recurrent:
            init = layer.get_initial_state(1)
            names = STATE_NAMES.get(len(init), tuple(f"s{k}" for k in range(len(init))))
            self.layout.append((layer.state_key, [(f"{layer.name}.{n}", int(s.shape[-1])) for n, s in zip(names, init)]))
        self.width = sum(w for _, parts in self.layout for _, w in parts)
        self.outputs = int(self.step(np.zeros((1, self.features), np.float32), self.zeros(1))[0].shape[-1])
        self._steppers: dict[int, list] = {}
        self.fingerprint = _fingerprint(model, self.signature())

    def describe(self) -> dict:
        """What a client needs to know: features in, outputs out, the states and their widths."""
        return {"features": self.features, "outputs": self.outputs,
                "states": {name: width for _, parts in self.layout for name, width in parts}}

    def signature(self) -> str:
        """A short digest of the state layout: a store written for another layout is refused."""
        text = repr([(parts, self.features) for _, parts in self.layout])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def zeros(self, rows: int) -> np.ndarray:
        return np.zeros((rows, self.width), np.float32)

    def split(self, flat: np.ndarray) -> dict[str, list[float]]:
        """One series' state row as {"lstm_1.h": [...], ...}."""
        out, at = {}, 0
        for _, parts in self.layout:
            for name, width in parts:
                out[name] = flat[at:at + width].tolist()
                at += width
        return out

    def _store(self, flat: np.ndarray) -> StateStore:
        states, at = StateStore(), 0
        tensor = torch.from_numpy(np.ascontiguousarray(flat, dtype=np.float32)).to(self.device)
        for key, parts in self.layout:
            pieces = []
            for _, width in parts:
                pieces.append(tensor[:, at:at + width].contiguous())
                at += width
            states.put(key, pieces)
        return states

    def _flat(self, states: StateStore) -> np.ndarray:
        return to_numpy(torch.cat([s for key, _ in self.layout for s in states[key]], dim=1)).astype(np.float32)

    def _stepper(self, rows: int) -> list:
        if rows not in self._steppers:
            if len(self._steppers) > 64:
                self._steppers.clear()
            self._steppers[rows] = step_functions(self.layers, rows)
        return self._steppers[rows]

    @torch.no_grad()
    def step(self, x: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (rows, features), flat (rows, width) -> (y (rows, outputs), new flat states)."""
        if self.threads:
            torch.set_num_threads(self.threads)
        states = self._store(flat)
        h = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        steppers = self._stepper(len(x)) if hasattr(self, "_steppers") else step_functions(self.layers, len(x))
        y = advance(steppers, h, states)
        return to_numpy(y).astype(np.float32), self._flat(states)

    @torch.no_grad()
    def prime(self, x: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (rows, time, features): a known history from the given states -> (last y, new flat states)."""
        states = self._store(flat)
        h = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        y = prime_layers(self.layers, h, states)
        return to_numpy(y).astype(np.float32), self._flat(states)


def _fingerprint(model, signature: str) -> str:
    """A digest of the state layout and every weight's name, dtype, shape and bytes: which model replays a
    log of inputs (redo.py)."""
    digest = hashlib.sha256(signature.encode())
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
