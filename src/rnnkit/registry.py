"""Names under which classes are saved and rebuilt (Keras's `register_keras_serializable`).

Every rnnkit layer and model registers itself; a user's own layer, cell or model class does the same
with `@register_serializable()` and then saves and loads like a built-in one, without
`custom_objects`. A file names classes by these strings only: loading looks a name up here and never
imports or runs anything named by the file.

>>> @register_serializable(package="demo")
... class Twice:
...     pass
>>> registered_name(Twice), get_registered("demo>Twice") is Twice
('demo>Twice', True)
"""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}
_NAMES: dict[type, str] = {}
BUILTIN = "rnnkit"


def register_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: save this class as "package>name" (built-ins as their plain class name)."""
    def register(cls: type) -> type:
        key = name or cls.__name__
        if package != BUILTIN:
            key = f"{package}>{key}"
        known = _REGISTRY.get(key)
        if known is not None and known is not cls and (known.__module__, known.__qualname__) != (
                cls.__module__, cls.__qualname__):
            raise ValueError(f"register_serializable: {key!r} is already registered for "
                             f"{known.__module__}.{known.__qualname__}; pass another package= or name=.")
        _REGISTRY[key] = cls
        _NAMES[cls] = key
        return cls
    return register


def registered_name(cls: type) -> str | None:
    """The name `cls` is saved under, or None for a class nobody registered."""
    return _NAMES.get(cls)


def get_registered(name: str, custom_objects: dict | None = None) -> type | None:
    """The class saved as `name`: from custom_objects first (Keras's argument), then the registry."""
    if custom_objects and isinstance(custom_objects.get(name), type):
        return custom_objects[name]
    return _REGISTRY.get(name)


def registered(base: type = object) -> dict[str, type]:
    """{name: class} of the registered subclasses of `base`."""
    return {k: v for k, v in _REGISTRY.items() if isinstance(v, type) and issubclass(v, base)}
