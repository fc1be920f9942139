"""ONNX export with explicit state: a step graph (one time step, states in and out) or a sequence graph.

`export_onnx(model, "m.onnx", mode="step")` writes one time step: inputs ``x`` (batch, features) and
every recurrent layer's states (``<layer name>.h``, ``<layer name>.c`` for LSTM), outputs ``y`` (batch,
outputs) and the new states (``<layer name>.h_next``, ...). The caller keeps each series' state, which
is what a server or an embedded runtime needs; `rnnkit.onnx.OnnxStream` runs such a file on
onnxruntime with `Stream`'s API.

`mode="sequence"` writes what `predict` computes: ``x`` (batch, time, features), ``y`` as predict
returns it, and the final states (``<layer name>.h_next``, ...). Each recurrent layer is an ONNX
``Scan`` over the time axis, so one file takes any number of steps. The initial states are inputs too
(``<layer name>.h``, ...) with zeros as their default: leave them out for Keras's zero start, or feed
a chunk's ``_next`` states to continue it. ONNX has no optional graph inputs, so each is an input with
an initializer of the same name, the form onnxruntime treats as an overridable default (it lists them
with `get_overridable_initializers`, and notes at load that they "will not be treated as constant":
`SessionOptions.log_severity_level = 3` silences that).

Both graphs are built from the cells' own step equations (the `call` of the Cell contract), traced
once; the batch axis (and the time axis of a sequence) is dynamic. An Embedding first takes int64 ids:
(batch,) per step, (batch, time) per sequence; with mask_zero an id 0 carries every state and repeats
the previous output, as Keras does.

>>> import os, tempfile
>>> from rnnkit import Sequential, Input, LSTM, Dense
>>> model = Sequential([Input((None, 3)), LSTM(8, return_sequences=True, name="lstm_a"), Dense(2)])
>>> export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))["inputs"]
['x', 'lstm_a.h', 'lstm_a.c']
"""

from __future__ import annotations

import os
from pathlib import Path

from ..layers.core import Embedding
from ..layers.stepping import input_features
from .checkpoint import atomic_write
from .onnx_plan import MODES, STATE_NAMES, halves, plan
from .onnx_sequence import sequence_graph
from .onnx_step import step_graph

__all__ = ["MODES", "STATE_NAMES", "export_onnx"]


def export_onnx(model, path, mode: str = "step", opset: int = 17) -> dict:
    """Write `model` to `path` as ONNX; returns {"inputs": [...], "outputs": [...]}, the graph's names.

    Args:
        model: a Sequential of recurrent layers (LSTM, GRU, SimpleRNN; Bidirectional and go_backwards in
            mode "sequence"), per-step layers (Dense, TimeDistributed(Dense), Dropout, Activation;
            RepeatVector in mode "sequence") and optionally an Embedding first.
        mode: "step", one time step with explicit states (what `OnnxStream` runs), or "sequence",
            what `predict` computes over any number of steps, initial states optional.
        opset: the ONNX opset.

    Dropout is off (inference). A stateful model's kept states are not in the file: states are inputs.
    """
    if mode not in MODES:
        raise ValueError(f"export_onnx: mode must be one of {MODES} ('step': one time step, states in and out; "
                         f"'sequence': (batch, time, features) as predict takes it), received {mode!r}.")
    layers = plan(model, mode)
    width = None if isinstance(layers[0], Embedding) else input_features(model, layers)
    first = halves(next(layer for layer in layers if halves(layer)))[0]
    if (width is None and not isinstance(layers[0], Embedding)) or first.input_size is None:
        raise ValueError("export_onnx: the model has not seen data yet, so its input size is unknown. Build it "
                         "first (give Input a shape, or call predict/fit once).")
    was_training = model.training
    model.eval()
    try:
        if mode == "step":
            proto, inputs, outputs = step_graph(layers, width, opset)
        else:
            proto, inputs, outputs = sequence_graph(layers, width, opset)
    finally:
        model.train(was_training)
    meta = proto.metadata_props.add()
    meta.key, meta.value = "rnnkit.mode", mode
    atomic_write(Path(os.fspath(path)), proto.SerializeToString())
    return {"inputs": inputs, "outputs": outputs}
