"""Keras's OptimizerMap (keras/src/optimizers/multi_optimizer.py): which optimizer a MultiOptimizer updates
each weight with, by the weight's Keras-style path."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from .serialization import deserialize, serialize
from .spec import OptimizerSpec


@dataclass(eq=False)
class OptimizerMap(MutableMapping):
    """Keras's OptimizerMap: which optimizer updates which weight, by the weight's Keras-style path
    (`training.variable_paths`): an exact key, else the one key that `re.fullmatch`es the path (two is a
    ValueError), else `default_optimizer`. `optimizer_map(variable)` (anything with a `path`, or a path)
    is the optimizer for it.

    >>> from rnnkit import optimizers
    >>> m = OptimizerMap(optimizers.RMSprop(), {"encoder/.*": optimizers.SGD()})
    >>> m["encoder/lstm/kernel"].kind, m["decoder/dense/kernel"].kind
    ('sgd', 'rmsprop')
    """

    default_optimizer: OptimizerSpec
    optimizer_map: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.default_optimizer, OptimizerSpec):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: {self.default_optimizer}")
        if self.optimizer_map is not None and not isinstance(self.optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {self.optimizer_map}")
        self.optimizer_map = self.optimizer_map or {}

    def __getitem__(self, key):
        if key in self.optimizer_map:
            return self.optimizer_map[key]
        matching = [pattern for pattern in self.optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        return self.optimizer_map[matching[0]] if matching else self.default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self.optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value {self.optimizer_map[key]}. "
                             "Please make sure to not use duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, OptimizerSpec):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if optimizer.kind == "loss_scale_optimizer":
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if optimizer.kind == "multi_optimizer":
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self.optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self.optimizer_map[key]

    def __len__(self):
        return len(self.optimizer_map)

    def __iter__(self):
        return iter(self.optimizer_map)

    def __call__(self, variable):
        return self[variable if isinstance(variable, str) else variable.path]

    def get_config(self) -> dict:
        return {"default_optimizer": serialize(self.default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self.optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "OptimizerMap":
        return cls(deserialize(config["default_optimizer"], custom_objects),
                   {k: deserialize(v, custom_objects) for k, v in (config.get("optimizer_map") or {}).items()})


def inner_specs(optimizer_map) -> list[OptimizerSpec]:
    """The distinct specs an OptimizerMap names, in Keras's order (the map's, then the default)."""
    found: list[OptimizerSpec] = []
    if isinstance(optimizer_map, OptimizerMap):
        for spec in [*optimizer_map.optimizer_map.values(), optimizer_map.default_optimizer]:
            if not any(spec is f for f in found):
                found.append(spec)
    return found
