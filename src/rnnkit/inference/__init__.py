"""Inference beyond predict: autoregressive generation and online streaming, states carried explicitly."""

from .generation import generate
from .stream import Stream

__all__ = ["Stream", "generate"]
