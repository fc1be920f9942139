"""Inference beyond predict: autoregressive generation and online streaming, states carried explicitly
(in PyTorch, or on onnxruntime from an exported step graph)."""

from .generation import generate
from .onnx_stream import OnnxStream
from .stream import Stream

__all__ = ["OnnxStream", "Stream", "generate"]
