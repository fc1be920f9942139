"""Checks of the arguments public constructors and calls take: sizes, flags, rates, choices, weight sizes.

Each returns the value normalised (a NumPy integer as int, np.bool_ as bool) or raises `ArgumentError`
with a message that says where, what was expected, what was received and how to fix it. Received
values are echoed shortened, so a 2 MB string never fills a terminal.

>>> positive_int("units", np.int64(4), "LSTM")
4
>>> boolean("return_sequences", "False", "LSTM")
Traceback (most recent call last):
...
rnnkit.checks.ArgumentError: LSTM: return_sequences must be True or False, received 'False' (a str, ...
"""

from __future__ import annotations

import math
import warnings
import os

import numpy as np

# The largest weight a constructor agrees to create, in values (float32: 4 bytes each). Above it a model
# is almost certainly a typo (LSTM(2**31)); allocating would fail or swap for minutes.
MAX_WEIGHT_VALUES = 2**31


class ArgumentError(ValueError, TypeError):
    """A bad argument to an rnnkit constructor or call.

    Both a ValueError and a TypeError (as NumPy's AxisError is both a ValueError and an IndexError), so
    code that catches either keeps working whether the value or its type was wrong.
    """


def short(value, limit: int = 80) -> str:
    """repr(value), cut to `limit` characters with its full length said when longer.

    >>> short("x" * 1000, 10)
    "'xxxxxxxx... (1002 characters)"
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 1]}... ({len(text)} characters)"


def kind(value) -> str:
    """'an int', 'a str', 'an ndarray': the type of `value` with its article, for messages."""
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' or name == 'ndarray' else 'a'} {name}"


def _received(value) -> str:
    return f"{short(value)} ({kind(value)})"


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def is_int(value) -> bool:
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value, where: str = "", meaning: str = "", fix: str = "") -> int:
    """`value` as an int >= 1 (NumPy integers accepted, as Keras accepts them)."""
    if is_int(value) and value >= 1:
        return int(value)
    meaning = f" ({meaning})" if meaning else ""
    fix = fix or f"Pass a whole number such as {name}=4."
    raise ArgumentError(f"{_prefix(where)}{name} must be a positive integer{meaning}, received "
                        f"{_received(value)}. {fix}")


def non_negative_int(name: str, value, where: str = "", meaning: str = "") -> int:
    """`value` as an int >= 0."""
    if is_int(value) and value >= 0:
        return int(value)
    meaning = f" ({meaning})" if meaning else ""
    raise ArgumentError(f"{_prefix(where)}{name} must be a whole number >= 0{meaning}, received "
                        f"{_received(value)}. Pass an int such as {name}=10.")


def optional_positive_int(name: str, value, where: str = "", meaning: str = "") -> int | None:
    return None if value is None else positive_int(name, value, where, meaning)


def boolean(name: str, value, where: str = "") -> bool:
    """`value` as a bool: True/False, np.bool_, or the ints 0 and 1. Anything else is refused, strings
    above all: 'False' is a non-empty string, so `if value` would take it as true."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_int(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        guess = {"false": "False", "no": "False", "0": "False", "off": "False", "": "False"}.get(word, "True")
        raise ArgumentError(f"{_prefix(where)}{name} must be True or False, received {short(value)} (a str, which "
                            f"would count as true). Pass the boolean {name}={guess}.")
    raise ArgumentError(f"{_prefix(where)}{name} must be True or False, received {_received(value)}. "
                        f"Pass {name}=True or {name}=False.")


def rate(name: str, value, where: str = "", meaning: str = "the fraction to drop") -> float:
    """`value` as a float in [0, 1)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        if 0.0 <= float(value) < 1.0:  # False for NaN
            return float(value)
    raise ArgumentError(f"{_prefix(where)}{name} must be in [0, 1), {meaning}, received {_received(value)}. "
                        f"Pass a float such as {name}=0.2 (0 for none).")


def verbosity(value, where: str = "") -> int:
    """Keras's `verbose`: 0, 1, 2 (any larger int acts as 2), True/False, or 'auto' (1)."""
    if isinstance(value, str) and value == "auto":
        return 1
    if isinstance(value, (bool, np.bool_)) or (is_int(value) and value >= 0):
        return int(value)
    raise ArgumentError(f"{_prefix(where)}verbose must be 0 (silent), 1 (progress bar), 2 (one line per epoch) or "
                        f"'auto', received {_received(value)}.")


def choice(name: str, value, options, where: str = ""):
    """`value` if it is one of `options` (compared with ==, types included: 1 is not True)."""
    for option in options:
        if type(option) is type(value) and option == value:
            return value
    listed = ", ".join(repr(o) for o in options)
    raise ArgumentError(f"{_prefix(where)}{name} must be one of {listed}; received {_received(value)}.")


def shape(name: str, value, where: str = "", allow_int: bool = True) -> tuple | None:
    """A shape without the batch axis (or a batch shape): a tuple/list of positive ints or None (any
    size). An int is one axis when `allow_int`. NumPy integers become ints."""
    if value is None:
        return None
    if allow_int and is_int(value) and value >= 1:
        return (int(value),)
    entries = value if isinstance(value, (tuple, list)) else None
    bad = None if entries is not None else value
    if entries is not None:
        bad = next((e for e in entries if not (e is None or (is_int(e) and e >= 1))), _OK)
        if bad is _OK:
            return tuple(None if e is None else int(e) for e in entries)
    what = (f"entry {short(bad)} is not a positive integer or None" if entries is not None
            else f"a {type(value).__name__} is not a tuple")
    raise ArgumentError(f"{_prefix(where)}{name} must be a tuple of positive integers or None (any length), "
                        f"received {short(value)}: {what}. E.g. {name}=(5, 2) for 5 time steps of 2 features, "
                        f"or (None, 2) for sequences of any length.")


_OK = object()


def physical_memory() -> int | None:
    """This machine's RAM in bytes, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def weight_size(where: str, sizes: str, shape: tuple, at_least: bool = False, bytes_per_value: int = 4,
                what: str = "a weight") -> None:
    """Refuse to create a weight of `shape` over MAX_WEIGHT_VALUES values or over this machine's RAM, before
    anything is allocated. `sizes` names the arguments that set it ("units=4"); `at_least` says the
    shape is a lower bound (an input size not known yet)."""
    values = math.prod(int(d) for d in shape)
    memory = physical_memory()
    too_many = values > MAX_WEIGHT_VALUES
    too_big = memory is not None and values * bytes_per_value > memory
    if not (too_many or too_big):
        return
    gib = values * bytes_per_value / 2**30
    one = what.split(" ", 1)[-1]
    limit = (f"rnnkit refuses one {one} over 2**31 values ({MAX_WEIGHT_VALUES * bytes_per_value / 2**30:.0f} GiB)"
             if too_many else f"rnnkit refuses one {one} over this machine's memory ({memory / 2**30:.1f} GiB)")
    raise ArgumentError(f"{_prefix(where)}{sizes} would need {what} of shape {tuple(int(d) for d in shape)}"
                        f"{' at least' if at_least else ''}: {values:,} values, {gib:.1f} GiB as float32; "
                        f"{limit}. Check the sizes for a typo, or use smaller ones.")


KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def rnnkit_file(path, where: str) -> None:
    """Warn when an rnnkit save gets a Keras file name: the file will be rnnkit's format under Keras's
    name, which Keras cannot open (rnnkit.load reads it). A warning, not an error, so that Keras scripts
    (the seeds' ModelCheckpoint("model.h5")) run with only the imports changed."""
    name = str(path).lower()
    suffix = next((s for s in KERAS_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return
    stem = str(path)[: -len(suffix)]
    stem = stem[: -len(".weights")] if stem.lower().endswith(".weights") else stem
    warnings.warn(
        f"{_prefix(where)}{short(str(path))} has Keras's {suffix!r} suffix, but rnnkit writes its own format "
        "(safetensors with the kept states) there, which Keras cannot open; rnnkit.load reads it back. Save as "
        f"{short(stem + '.rnnkit')} to say what it is, or use rnnkit.save_keras(model, path) for a file Keras "
        "opens.", UserWarning, stacklevel=3)
