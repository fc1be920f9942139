"""Checks on optimizer hyper-parameters: a ValueError that says what was expected, what was received
and how to fix it, raised when the optimizer is created rather than as a NaN some steps into fit."""

from __future__ import annotations

import math
import numbers


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def number(kind: str, name: str, value, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, none: bool = False, fix: str = "") -> None:
    """`value` is a finite number in [low, high] ('(' / ')' where low_open / high_open), or None if `none`."""
    if value is None and none:
        return
    bad = not _is_number(value)
    if not bad and low is not None:
        bad = value <= low if low_open else value < low
    if not bad and high is not None:
        bad = value >= high if high_open else value > high
    if bad:
        expected = "a finite number" if low is None and high is None else (
            f"a number in {'(' if low_open else '['}{'-inf' if low is None else low}, "
            f"{'inf' if high is None else high}{')' if high_open else ']'}")
        raise ValueError(f"{kind}: `{name}` must be {expected}{' or None' if none else ''}. Received: "
                         f"{name}={value!r}.{' ' + fix if fix else ''}")


def integer(kind: str, name: str, value, low: int, none: bool = False, fix: str = "") -> None:
    """`value` is an int >= low (or None if `none`)."""
    if value is None and none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{kind}: `{name}` must be an integer >= {low}{' or None' if none else ''}. Received: "
                         f"{name}={value!r}.{' ' + fix if fix else ''}")


def boolean(kind: str, name: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{kind}: `{name}` must be True or False. Received: {name}={value!r}.")


def betas(kind: str, **values) -> None:
    """Moment decay rates: each in [0, 1) (1 would never move the average; its bias correction divides by 0)."""
    for name, value in values.items():
        number(kind, name, value, 0.0, 1.0, high_open=True,
               fix="It is the decay rate of a moving average: 0.9 and 0.999 are the usual values.")
