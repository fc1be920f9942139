"""Sequential: a stack of layers, each feeding the next (Keras's `Sequential`)."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import torch
from torch import nn

from .. import keras_mask
from ..layers.core import Embedding, Input
from ..layers.rnn import RNN
from ..layers.serialize import deserialize, serialize
from ..layers.wrappers import call_layer, output_mask
from ..mixed_precision import Policy
from ..registry import BUILTIN, register_serializable
from .base import BaseModel
from .summary import sequential_summary

Tensor = torch.Tensor


@register_serializable(package=BUILTIN)
class Sequential(BaseModel):
    """A stack of layers, each feeding the next (Keras's `Sequential`).

    >>> from rnnkit.layers import Input, LSTM, Dense
    >>> model = Sequential([Input((3, 1)), LSTM(4), Dense(1)])
    >>> model.count_params()  # 4 * (4 * (1 + 4) + 4) + (4 + 1)
    101
    >>> model.predict(np.zeros((2, 3, 1))).shape
    (2, 1)
    """

    def __init__(self, layers: Iterable[nn.Module] | None = None, name: str | None = None,
                 dtype: str | Policy | None = None):
        super().__init__(name, dtype)
        self._layers = nn.ModuleList()
        self.input_spec: Input | None = None
        self._takes_ids = False  # integer x stays integer (ids for a first Embedding)
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[nn.Module]:
        return list(self._layers)

    def add(self, layer) -> None:
        if isinstance(layer, Input):
            if len(self._layers):
                raise ValueError("Input must come first in a Sequential model.")
            self.input_spec = layer
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential takes layers (torch.nn.Module), received {type(layer).__name__}.")
        if len(self._layers) and isinstance(self._layers[-1], RNN) and self._layers[-1].return_state:
            raise ValueError(f"{self._layers[-1].name!r} has return_state=True, so it returns a list "
                             "[output, *states] that the next layer cannot take. Use the functional API.")
        if not len(self._layers) and self.input_spec is None and getattr(layer, "batch_input_shape", None):
            self.input_spec = Input(batch_shape=layer.batch_input_shape)
        self._layers.append(layer)
        self._takes_ids = isinstance(self._layers[0], Embedding) or (
            self.input_spec is not None and "int" in self.input_spec.dtype)
        self.adopt_states()
        if self.input_spec is not None and self.input_spec.batch_shape[-1] is not None:
            self.build()

    def keras_root_scope(self) -> str | None:
        """A Sequential puts its name first in its weights' Keras paths ("sequential/dense/kernel"), as Keras's does."""
        return self.name

    def get_config(self) -> dict:
        spec = self.input_spec
        return {"name": self.name, "input": None if spec is None else list(spec.batch_shape),
                "layers": [serialize(layer) for layer in self._layers], "dtype": self.dtype_policy.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        first = [Input(batch_shape=config["input"])] if config.get("input") else []
        return cls(first + [deserialize(spec, custom_objects) for spec in config["layers"]], name=config.get("name"),
                   dtype=config.get("dtype"))

    def _set_fixed_batch_size(self, batch_size: int) -> None:
        if self.input_spec is not None and self.input_spec.batch_shape[0] is not None:
            self.input_spec = Input(batch_shape=(batch_size, *self.input_spec.batch_shape[1:]))

    def _fixed_batch_size(self) -> int | None:
        return self.input_spec.batch_shape[0] if self.input_spec is not None else None

    def inputs_are_ids(self) -> list[bool]:
        return [self._takes_ids]

    def threads_state_store(self) -> bool:
        return all(any(m is layer for layer in self._layers) for m in self._stateful_layers())

    def forward(self, x, training: bool | None = None, mask=None, state_store=None):
        for layer in self._layers:
            if state_store is not None and isinstance(layer, RNN):
                out = layer(x, mask=mask, training=training, state_store=state_store)
            else:
                out = call_layer(layer, x, training, mask)
            mask = output_mask(layer, x, mask)  # Keras's rule: kept only by layers that support masking
            x = out
        return keras_mask.attach(x, mask)  # the loss and metrics skip the masked steps, as Keras's

    def _dummy_input(self, time_steps: int = 1) -> Tensor:
        shape = [d if d is not None else time_steps for d in self.input_spec.batch_shape[1:]]
        return torch.zeros(1, *shape)

    def build(self, input_shape=None) -> None:
        """Create every lazily-sized weight by a dry run, without touching kept states."""
        if input_shape is not None:
            self.input_spec = Input(input_shape[1:], batch_size=input_shape[0])
        if self.input_spec is None:
            raise ValueError("Cannot build: no input shape. Start the model with Input((time_steps, features)).")
        with torch.no_grad(), self.preserve_states():
            self(self._dummy_input())

    def summary(self, print_fn=print) -> None:
        """Print each layer's output shape and parameter count, as Keras does."""
        print_fn(sequential_summary(self))
