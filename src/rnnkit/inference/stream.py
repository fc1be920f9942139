"""Online inference: many series, one new step each, the states carried between calls.

The seeds serve a live feed with `model.predict(new_step)` on a stateful model, one whole `predict`
per arriving step (and a fixed batch: every series must report at once). `Stream` keeps one state row
per series and advances it by one fused kernel call per recurrent layer, so a step costs what its
arithmetic costs; series that report at different times step alone (`rows=`), the others wait.

>>> import numpy as np
>>> from rnnkit import Sequential, Input, LSTM, Dense
>>> model = Sequential([Input((None, 2)), LSTM(8, return_sequences=True), Dense(1)])
>>> stream = Stream(model, series=3)
>>> stream.step(np.zeros((3, 2), "float32")).shape
(3, 1)
>>> stream.step(np.ones((1, 2), "float32"), rows=[2]).shape  # only series 2 reported
(1, 1)
"""

from __future__ import annotations

import numpy as np
import torch

from ..convert import device_of, to_numpy, to_tensor
from ..layers.rnn import RNN
from ..state import StateStore
from ..layers.stepping import input_features, step_plan
from .generation import advance, apply_step, declared_batch, initial_states, prime_layers, step_functions

Tensor = torch.Tensor


class Stream:
    """Carry `series` rows of states through `model` one step at a time.

    Args:
        model: a Sequential of recurrent layers (return_sequences or not) and per-step layers
            (Dense, TimeDistributed, Dropout, Activation), as `generate` accepts.
        series: how many series (rows) the stream follows; each starts from zero states. Default: the
            batch size the model's input declares (a stateful model's), if it declares one.
        from_kept_states: start from a stateful model's kept states instead (its batch sets `series`).
    """

    def __init__(self, model, series: int | None = None, from_kept_states: bool = False):
        self.model = model
        self.layers = step_plan(model, "Stream")
        self._recurrent = [l for l in self.layers if isinstance(l, RNN)]
        features = input_features(model, self.layers)
        if features is None or self._recurrent[0].input_size is None:
            raise ValueError("Stream: the model has not seen data yet, so its input size is unknown. Build it "
                             "first (give Input a shape, or call predict/fit once).")
        self.features = features
        self.device = device_of(model)
        if from_kept_states:
            kept = [l.states for l in self._recurrent]
            if any(k is None for k in kept):
                raise ValueError("Stream(from_kept_states=True): the model keeps no states (it is not stateful "
                                 "or has been reset); pass series=N to start from zeros.")
            self.series = int(kept[0][0].shape[0])
            # Copies: the stream steps its rows in place, and the model's kept states must not move.
            self.states = StateStore({l.state_key: [s.detach().clone() for s in k]
                                      for l, k in zip(self._recurrent, kept)})
        else:
            series = declared_batch(model) if series is None else series
            if not isinstance(series, (int, np.integer)) or isinstance(series, bool) or series <= 0:
                raise ValueError(f"Stream: series must be a positive integer (how many series to follow), "
                                 f"received {series!r}.")
            self.series = int(series)
            self.states = initial_states(self.layers, self.series, False, "Stream")
        self._steppers = step_functions(self.layers, self.series)  # kernels and weights bound once
        model.eval()

    def reset(self, rows=None) -> None:
        """Zero the states of all series, or of the given rows (new sequences start there)."""
        if rows is None:
            self.states = initial_states(self.layers, self.series, False, "Stream")
            return
        idx = self._rows(rows)
        for layer in self._recurrent:
            for s in self.states[layer.state_key]:
                s[idx] = 0.0

    def hand_back(self):
        """Make the stream's states the model's kept states (the model must be stateful), so that
        `model.save(path)` keeps them; returns the model. Same as `model.set_states(stream.states)`."""
        self.model.set_states(self.states)
        return self.model

    def _rows(self, rows) -> Tensor:
        """Series numbers, or a boolean mask with one entry per series, as a tensor of row numbers."""
        arr = rows.detach().cpu().numpy() if isinstance(rows, Tensor) else np.asarray(rows)
        if arr.dtype == bool:
            if arr.shape != (self.series,):
                raise ValueError(f"Stream: a boolean rows mask needs one entry per series ({self.series}), "
                                 f"received shape {arr.shape}.")
            arr = np.flatnonzero(arr)
        elif arr.size and (arr.dtype.kind not in "iuf" or not np.array_equal(arr, np.round(arr))):
            raise ValueError(f"Stream: rows must be series numbers (integers) or a boolean mask, received "
                             f"{arr.tolist()!r}.")
        idx = torch.as_tensor(arr.astype(np.int64)).reshape(-1)
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.series):
            raise ValueError(f"Stream: rows must be series numbers in [0, {self.series}), received "
                             f"{idx.tolist()}.")
        if idx.unique().numel() != idx.numel():
            raise ValueError(f"Stream: rows must not repeat a series (each gets one step), received {idx.tolist()}.")
        return idx.to(self.device)

    @torch.no_grad()
    def step(self, x_t, rows=None) -> np.ndarray:
        """Advance by one step. x_t: (series, features), or (len(rows), features) with `rows`.

        Returns the model's output for this step, one row per series stepped.
        """
        x = to_tensor(x_t, self.device, integers_as_float=True)
        idx = None if rows is None else self._rows(rows)
        want = (self.series if idx is None else idx.numel(), self.features)
        if x.dim() == 3 and x.shape[1] == 1:
            x = x[:, 0]  # (B, 1, F): one step with its time axis
        if tuple(x.shape) != want:
            what = f"{self.series} series" if idx is None else f"the {want[0]} rows given"
            raise ValueError(f"Stream.step: expected one step of shape {want} ({what} x {self.features} "
                             f"features), received {tuple(x.shape)}.")
        h = x
        if idx is None:
            return to_numpy(advance(self._steppers, h, self.states))
        for layer in self.layers:  # some rows: gather their states, step, scatter back
            if isinstance(layer, RNN):
                kept = self.states[layer.state_key]
                h, new = layer.output_step_function(len(idx))(h, [s[idx] for s in kept])
                for s, v in zip(kept, new):
                    s.index_copy_(0, idx, v)
            else:
                h = apply_step(layer, h)
        return to_numpy(h)

    def prime(self, x) -> np.ndarray:
        """Feed a known history (series, T, features) for every series; returns the last step's output."""
        x = to_tensor(x, self.device, integers_as_float=True)
        if x.dim() != 3 or x.shape[0] != self.series:
            raise ValueError(f"Stream.prime: expected ({self.series}, time_steps, {self.features}), received "
                             f"{tuple(x.shape)}.")
        with torch.no_grad():
            return to_numpy(prime_layers(self.layers, x, self.states))
