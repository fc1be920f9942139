"""Names <-> objects for Keras's small families (regularizers, constraints): `serialize`, `deserialize`,
`get` and what a layer's config holds, written once for each family's classes and names."""

from __future__ import annotations

import inspect

from .registry import get_registered, get_registered_object, registered_name


class Catalog:
    """`kind` ("constraint"), `base` (its base class), `classes` (base first), `names` (what `get` takes),
    `other` (the rest of `get`'s "Expected ..." sentence)."""

    def __init__(self, kind: str, classes: tuple, names: dict, other: str):
        self.kind, self.base, self.classes, self.names, self.other = kind, classes[0], classes, names, other

    def serialize(self, obj) -> dict | None:
        """{"class_name", "config"} of a built-in or registered object; None for None."""
        if obj is None:
            return None
        cls = type(obj)
        name = cls.__name__ if cls in self.classes else registered_name(cls)
        if name is None or not hasattr(obj, "get_config"):
            raise TypeError(f"Cannot serialize the {self.kind} {obj!r}: a config holds a built-in {self.kind} "
                            f"({', '.join(c.__name__ for c in self.classes[1:])}) or a {self.base.__name__} "
                            "subclass decorated with @rnnkit.register_serializable() that has get_config().")
        return {"class_name": name, "config": obj.get_config()}

    def deserialize(self, config: dict, custom_objects: dict | None = None):
        """The object a `serialize` (or Keras `serialize`) dict describes."""
        name = config.get("class_name") if isinstance(config, dict) else None
        cls = self.names.get(name) if isinstance(name, str) else None
        if cls is None and isinstance(name, str):
            cls = get_registered(name, custom_objects)
        if cls is None:
            raise ValueError(f"Could not interpret {self.kind} identifier: {config!r}. Expected a dict with "
                             f"'class_name' one of {sorted(self.names)} (or a registered {self.base.__name__}) "
                             "and 'config'.")
        return cls.from_config(dict(config.get("config") or {}))

    def get(self, identifier):
        """From None, a name, a config dict, a class or instance, or a plain callable (Keras's `get`)."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            obj = self.deserialize(identifier)
        elif isinstance(identifier, str):  # a name of the family, else a custom object's (scope, registered)
            obj = self.names.get(identifier) or get_registered_object(identifier)
        else:
            obj = identifier
        if callable(obj):
            return obj() if inspect.isclass(obj) else obj
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}. Expected None, one of "
                         f"{sorted(self.names)}, {self.other}.")

    def config_value(self, obj):
        """What a layer's config holds for `obj`: its serialized dict, or None when it cannot be written
        (a plain function: the layer keeps it, as it keeps initializers that are callables)."""
        try:
            return self.serialize(obj)
        except (TypeError, NotImplementedError):
            return None
