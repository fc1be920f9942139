"""ONNX export with explicit state: one time step in, the next states out.

`export_onnx(model, "m.onnx")` writes the model's step graph: inputs ``x`` (batch, features) and every
recurrent layer's states (``<layer name>.h``, ``<layer name>.c`` for LSTM), outputs ``y`` (batch,
outputs) and the new states (``<layer name>.h_next``, ...). The batch axis is dynamic, so one file
serves any number of series; the caller keeps each series' state, which is what a server or an
embedded runtime needs. `rnnkit.inference.OnnxStream` runs such a file on onnxruntime with `Stream`'s
API. The graph is the cells' own step equations (the `call` of the Cell contract), so it computes what
`Stream.step` computes (tested to 1e-5 over 200 steps).

>>> import os, tempfile
>>> from rnnkit import Sequential, Input, LSTM, Dense
>>> model = Sequential([Input((None, 3)), LSTM(8, return_sequences=True, name="lstm_a"), Dense(2)])
>>> export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))["inputs"]
['x', 'lstm_a.h', 'lstm_a.c']
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from ..layers.core import Activation, Dense, Dropout
from ..layers.rnn import RNN
from ..layers.stepping import input_features, step_plan
from ..layers.wrappers import TimeDistributed
from .checkpoint import atomic_write

STATE_NAMES = {1: ("h",), 2: ("h", "c")}


class _StepGraph(nn.Module):
    """(x_t, *states) -> (y_t, *new states) through every layer, for tracing."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.steps = nn.ModuleList(layers)

    def forward(self, x, *states):
        h, i, new_states = x, 0, []
        for layer in self.steps:
            if isinstance(layer, RNN):
                n = len(layer.get_initial_state(1))
                h, new = layer.cell.call(h, list(states[i:i + n]))
                new_states.extend(new)
                i += n
            elif isinstance(layer, TimeDistributed):
                h = layer.layer(h)
            else:
                h = layer(h)
        return (h, *new_states)


def _plan(model) -> list[nn.Module]:
    """The layers of a step graph, or a clear error naming the first one ONNX step export cannot take."""
    layers = step_plan(model, "export_onnx")
    for layer in layers:
        if isinstance(layer, RNN) and not hasattr(layer.cell, "call"):
            raise ValueError(f"export_onnx: the cell of {layer.name!r} has no call(inputs, states).")
        if isinstance(layer, TimeDistributed) and not isinstance(layer.layer, (Dense, Dropout, Activation)):
            raise ValueError(f"export_onnx: layer {layer.name!r} (TimeDistributed of {type(layer.layer).__name__}) "
                             "does not act one step at a time; the step graph takes recurrent layers and "
                             "per-step layers (Dense, TimeDistributed(Dense), Dropout, Activation).")
    return layers


def export_onnx(model, path, mode: str = "step", opset: int = 17) -> dict:
    """Write `model`'s step graph to `path` (ONNX); returns {"inputs": [...], "outputs": [...]} names.

    Only ``mode="step"`` exists: a graph of one time step with explicit states, the form a streaming
    service or an embedded runtime runs. Dropout is off (inference).
    """
    if mode != "step":
        raise ValueError(f"export_onnx: mode must be 'step' (one time step, states in and out), received "
                         f"{mode!r}. Run a whole sequence by stepping it (OnnxStream.prime does).")
    layers = _plan(model)
    recurrent = [layer for layer in layers if isinstance(layer, RNN)]
    width = input_features(model, layers)
    if width is None or recurrent[0].input_size is None:
        raise ValueError("export_onnx: the model has not seen data yet, so its input size is unknown. Build it "
                         "first (give Input a shape, or call predict/fit once).")
    states, state_names = [], []
    for layer in recurrent:
        init = layer.get_initial_state(2)
        names = STATE_NAMES.get(len(init), tuple(f"s{k}" for k in range(len(init))))
        states.extend(init)
        state_names.extend(f"{layer.name}.{n}" for n in names)
    inputs, outputs = ["x", *state_names], ["y", *[f"{n}_next" for n in state_names]]
    graph = _StepGraph(layers).eval()
    x = torch.zeros(2, width)
    buffer = io.BytesIO()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes about tracing
            torch.onnx.export(graph, (x, *states), buffer, input_names=inputs, output_names=outputs,
                              dynamic_axes={name: {0: "batch"} for name in inputs + outputs}, opset_version=opset,
                              dynamo=False)
    finally:
        model.train(was_training)
    atomic_write(Path(os.fspath(path)), buffer.getvalue())
    return {"inputs": inputs, "outputs": outputs}
