"""`Stream` on onnxruntime: a step graph written by `rnnkit.export_onnx`, run with NumPy.

The states live here, one row per series, as NumPy arrays in `states` ({"<layer>.h": (series, units),
...}); each step feeds them to the graph and keeps what it returns. The API is `Stream`'s: `prime`,
`step` (all series, or `rows=`), `reset`, `series`, `features`. A model with an Embedding first reads
int64 ids: one per series and step, (series,) or (series, 1), and (series, T) to `prime`.

This file imports only NumPy and onnxruntime, so a serving machine without PyTorch can run it on its own
(copy it, or load it by path; tested in a process where importing torch fails).
"""

from __future__ import annotations

import numpy as np


class OnnxStream:
    """Carry `series` rows of states through the ONNX step graph at `path` (see `export_onnx`)."""

    def __init__(self, path, series: int, providers: list[str] | None = None):
        try:
            import onnxruntime  # noqa: PLC0415 - optional: only this class needs it
        except ImportError:
            raise ImportError("OnnxStream runs on onnxruntime: pip install onnxruntime (or rnnkit[onnx]).") from None
        if not isinstance(series, (int, np.integer)) or isinstance(series, bool) or series <= 0:
            raise ValueError(f"OnnxStream: series must be a positive integer (how many series to follow), "
                             f"received {series!r}.")
        self.session = onnxruntime.InferenceSession(str(path), providers=providers or ["CPUExecutionProvider"])
        inputs = self.session.get_inputs()
        mode = self.session.get_modelmeta().custom_metadata_map.get("rnnkit.mode", "step")
        if mode != "step":
            raise ValueError(f"OnnxStream: {str(path)!r} holds a {mode} graph; OnnxStream runs a step graph. "
                             "Export it with rnnkit.export_onnx(model, path, mode='step').")
        if not inputs or inputs[0].name != "x":
            raise ValueError(f"OnnxStream: {str(path)!r} is not a step graph from rnnkit.export_onnx (its first "
                             "input is not 'x').")
        self.ids = inputs[0].type == "tensor(int64)"  # an Embedding first: one id per series and step
        self.features = 1 if self.ids else int(inputs[0].shape[-1])
        self.state_names = [i.name for i in inputs[1:]]
        self._widths = [int(i.shape[-1]) for i in inputs[1:]]
        self.series = int(series)
        self.reset()

    def reset(self, rows=None) -> None:
        """Zero the states of all series, or of the given rows (new sequences start there)."""
        if rows is None:
            self.states = {n: np.zeros((self.series, w), np.float32) for n, w in zip(self.state_names, self._widths)}
            return
        idx = self._rows(rows)
        for s in self.states.values():
            s[idx] = 0.0

    def _rows(self, rows) -> np.ndarray:
        arr = np.asarray(rows)
        if arr.dtype == bool:
            if arr.shape != (self.series,):
                raise ValueError(f"OnnxStream: a boolean rows mask needs one entry per series ({self.series}), "
                                 f"received shape {arr.shape}.")
            arr = np.flatnonzero(arr)
        elif arr.size and (arr.dtype.kind not in "iuf" or not np.array_equal(arr, np.round(arr))):
            raise ValueError(f"OnnxStream: rows must be series numbers (integers) or a boolean mask, received "
                             f"{arr.tolist()!r}.")
        idx = arr.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.series or len(set(idx.tolist())) != idx.size):
            raise ValueError(f"OnnxStream: rows must be distinct series numbers in [0, {self.series}), received "
                             f"{idx.tolist()}.")
        return idx

    def step(self, x_t, rows=None) -> np.ndarray:
        """Advance by one step: x_t (series, features), or (len(rows), features) with `rows`; returns
        the model's output for this step, one row per series stepped."""
        x = np.asarray(x_t, dtype=np.int64 if self.ids else np.float32)
        idx = None if rows is None else self._rows(rows)
        want = (self.series if idx is None else idx.size, self.features)
        if x.ndim == 3 and x.shape[1] == 1:
            x = x[:, 0]  # (B, 1, F): one step with its time axis
        if self.ids and x.ndim == 1:
            x = x[:, None]  # (B,): one id per series
        if x.shape != want:
            raise ValueError(f"OnnxStream.step: expected one step of shape {want}, received {x.shape}.")
        if self.ids:
            x = x[:, 0]  # the graph takes (B,) ids
        feed = {"x": x, **{n: (s if idx is None else s[idx]) for n, s in self.states.items()}}
        y, *new = self.session.run(None, feed)
        for name, value in zip(self.state_names, new):
            if idx is None:
                self.states[name] = value
            else:
                self.states[name][idx] = value
        return y

    def prime(self, x) -> np.ndarray:
        """Feed a known history (series, T, features) step by step; returns the last step's output.
        Ids for an Embedding first: (series, T)."""
        x = np.asarray(x, dtype=np.int64 if self.ids else np.float32)
        if self.ids and x.ndim == 2:
            x = x[..., None]
        if x.ndim != 3 or x.shape[0] != self.series or x.shape[1] == 0 or x.shape[2] != self.features:
            want = f"({self.series}, time_steps)" if self.ids else f"({self.series}, time_steps, {self.features})"
            raise ValueError(f"OnnxStream.prime: expected {want}, received {x.shape}.")
        for t in range(x.shape[1]):
            y = self.step(x[:, t])
        return y
