"""What a MultiOptimizer's selector function receives for one weight: Keras's Variable, as far as a selector
reads it (its path, name and shape). The paths themselves are computed from the model, in
`rnnkit.training.variable_paths`."""

from __future__ import annotations

import torch


def tensor_name(path: str) -> str:
    """Keras's `variable.name`: the last part of its path."""
    return path.rsplit("/", 1)[-1]


class KerasVariable:
    """What a MultiOptimizer's selector function receives for one weight, as Keras's gets a Variable:
    `path`, `name`, `shape` (rnnkit's layout) and the tensor itself (`value`)."""

    def __init__(self, value: torch.Tensor, path: str):
        self.value, self.path, self.name = value, path, tensor_name(path)

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    def __repr__(self) -> str:
        return f"<KerasVariable path={self.path!r} shape={self.shape}>"
