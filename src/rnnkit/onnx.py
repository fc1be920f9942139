"""rnnkit.onnx: export a model to ONNX and run it on onnxruntime with explicit states.

`export_onnx(model, path, mode="step" | "sequence")` writes the graph (see `rnnkit.io.onnx_export`);
`OnnxStream(path, series)` runs a step graph with `Stream`'s API, needing only NumPy and onnxruntime.

>>> import os, tempfile
>>> from rnnkit import Sequential, Input, GRU, Dense
>>> model = Sequential([Input((None, 2)), GRU(4, return_sequences=True, name="gru_a"), Dense(1)])
>>> export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"), mode="sequence")
{'inputs': ['x', 'gru_a.h'], 'outputs': ['y', 'gru_a.h_next']}
"""

from .inference.onnx_stream import OnnxStream
from .io.onnx_export import export_onnx

__all__ = ["OnnxStream", "export_onnx"]
