"""Keras's `optimizers.serialize` / `deserialize`, and the table of Keras class names they go by.

The modules that define optimizer classes (`keras_classes`, `wrappers`) register each one here by its
Keras class name; `deserialize` looks the name up (any case) and calls the class's `from_config`.
"""

from __future__ import annotations

from .spec import KERAS_CLASSES, OptimizerSpec

CLASSES: dict = {}  # Keras class name in lower case -> the function making its spec (with `from_config`)


def register(function) -> None:
    """Let `deserialize` make `function`'s optimizer from Keras's config of it (by the function's name)."""
    CLASSES[function.__name__.lower()] = function


def serialize(optimizer: OptimizerSpec) -> dict:
    """Keras's `optimizers.serialize`: {"module", "class_name", "config", "registered_name"}."""
    if not isinstance(optimizer, OptimizerSpec):
        raise TypeError(f"serialize expects an rnnkit.optimizers spec such as Adam(), received "
                        f"{type(optimizer).__name__}.")
    return {"module": "keras.optimizers", "class_name": KERAS_CLASSES[optimizer.kind],
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> OptimizerSpec:
    """Keras's `optimizers.deserialize`: the spec a {"class_name", "config"} dict names (any case)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if not isinstance(name, str) or name.lower() not in CLASSES:
        raise ValueError(f"Could not interpret optimizer config {config!r}: expected {{'class_name': one of "
                         f"{sorted(KERAS_CLASSES.values())}, 'config': {{...}}}}.")
    return CLASSES[name.lower()].from_config(config.get("config") or {}, custom_objects)
