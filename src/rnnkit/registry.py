"""Names under which classes are saved and rebuilt (Keras's `register_keras_serializable`).

Every rnnkit layer and model registers itself; a user's own layer, cell or model class does the same
with `@register_serializable()` and then saves and loads like a built-in one, without
`custom_objects`. A file names classes by these strings only: loading looks a name up here and never
imports or runs anything named by the file.

Keras's registration functions are these, with Keras's semantics (keras/src/saving/object_registration.py):
`register_keras_serializable` (a class needs `get_config`; functions register too), `get_custom_objects`
(the live dict of what users registered, which they may also fill or clear by hand), `custom_object_scope`
(names seen by loading inside a `with` block, per thread), `get_registered_name` and
`get_registered_object` (the scope, then the registered objects, then `custom_objects`).

>>> @register_serializable(package="demo")
... class Twice:
...     pass
>>> registered_name(Twice), get_registered("demo>Twice") is Twice
('demo>Twice', True)
"""

from __future__ import annotations

import inspect
import threading
from typing import Callable

_REGISTRY: dict[str, object] = {}  # rnnkit's own classes, by their plain names
_CUSTOM: dict[str, object] = {}  # what users registered ("package>name"): Keras's GLOBAL_CUSTOM_OBJECTS
_NAMES: dict[object, str] = {}
_SCOPE = threading.local()  # .objects: the innermost custom_object_scope's dict (Keras keeps it per thread)
_REBUILDERS: list[tuple[type, Callable]] = []
BUILTIN = "rnnkit"


def register_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: save this class as "package>name" (built-ins as their plain class name)."""
    def register(cls: type) -> type:
        key = name or cls.__name__
        if package != BUILTIN:
            key = f"{package}>{key}"
        table = _REGISTRY if package == BUILTIN else _CUSTOM
        known = table.get(key)
        if known is not None and known is not cls and (known.__module__, known.__qualname__) != (
                cls.__module__, cls.__qualname__):
            raise ValueError(f"register_serializable: {key!r} is already registered for "
                             f"{known.__module__}.{known.__qualname__}; pass another package= or name=.")
        table[key] = cls
        _NAMES[cls] = key
        return cls
    return register


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras's decorator: register a class (which must have `get_config`) or a function as
    "package>name" (name: the object's own by default), so configs naming it rebuild without
    `custom_objects`. rnnkit's `register_serializable` with Keras's check."""
    def register(obj):
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        return register_serializable(package, name)(obj)
    return register


def registered_name(cls) -> str | None:
    """The name `cls` is saved under, or None for a class nobody registered."""
    return _NAMES.get(cls)


def get_registered_name(obj) -> str:
    """Keras's `get_registered_name`: the name `obj` was registered under, else its `__name__`."""
    return _NAMES.get(obj) or obj.__name__


def scope_objects() -> dict:
    """The innermost `custom_object_scope`'s objects in this thread ({} outside any)."""
    return getattr(_SCOPE, "objects", {})


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """Keras's `get_registered_object`: what `name` names in the custom object scope, else among the
    registered objects, else in `custom_objects`, else in `module_objects`; None if nowhere. rnnkit's
    built-in classes are not "registered objects" here, as Keras's built-ins are not."""
    scoped = scope_objects()
    if name in scoped:
        return scoped[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_registered(name: str, custom_objects: dict | None = None) -> type | None:
    """The class saved as `name`: from custom_objects first (Keras's argument), then the custom object
    scope, the classes users registered and rnnkit's own."""
    for table in (custom_objects, scope_objects(), _CUSTOM, _REGISTRY):
        if table and isinstance(table.get(name), type):
            return table[name]
    return None


def all_custom_objects(custom_objects: dict | None = None) -> dict:
    """Every name a config may use for a custom object: the registered ones, the scope's, then
    `custom_objects` (which win)."""
    return {**_CUSTOM, **scope_objects(), **(custom_objects or {})}


def registered(base: type = object) -> dict[str, type]:
    """{name: class} of the registered subclasses of `base`."""
    return {k: v for table in (_REGISTRY, _CUSTOM) for k, v in table.items()
            if isinstance(v, type) and issubclass(v, base)}


def get_custom_objects() -> dict:
    """Keras's `get_custom_objects`: the live dict of the objects users registered ("package>name" ->
    object). Entries added here (`get_custom_objects()["MyLayer"] = MyLayer`) are found by loading too;
    `custom_object_scope`'s are not in it."""
    return _CUSTOM


class CustomObjectScope:
    """Keras's `custom_object_scope` / `CustomObjectScope`: inside `with custom_object_scope({"name":
    obj})`, loading (`load_model`, `model_from_json`, `deserialize_keras_object`, `from_config`) finds
    `obj` by that name. As in Keras 3 a scope replaces the one around it and holds for this thread only;
    several dicts (Keras 2's form) are merged."""

    def __init__(self, *custom_objects: dict | None):
        self.custom_objects = {k: v for objects in custom_objects for k, v in (objects or {}).items()}
        self.backup = None

    def __enter__(self):
        self.backup = scope_objects()
        _SCOPE.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *args):
        _SCOPE.objects = self.backup


custom_object_scope = CustomObjectScope


def clear_scope() -> None:
    """Leave every custom object scope of this thread (Keras's clear_session resets its global state)."""
    _SCOPE.objects = {}


def register_rebuilder(base: type, rebuild: Callable) -> None:
    """How subclasses of `base` are made from their config: `rebuild(cls, config, custom_objects)`
    (rnnkit's layers register theirs, which rebuilds nested layers, cells and activations)."""
    _REBUILDERS.append((base, rebuild))


def rebuild(cls: type, config: dict, custom_objects: dict | None = None):
    """An instance of `cls` from its config: by the rebuilder registered for its family, else cls(**config)."""
    for base, build in _REBUILDERS:
        if issubclass(cls, base):
            return build(cls, config, custom_objects)
    return cls(**config)
