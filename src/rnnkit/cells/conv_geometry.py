"""Convolution geometry as Keras states it: argument tuples, padding, data format, output sizes.

Keras's `standardize_tuple`, `standardize_padding` and `standardize_data_format` (with their messages),
TensorFlow's "same" padding (an odd extra pixel goes after) and the output size of one spatial axis. The
convolutional cells (`ConvLSTMCell`) share them; they live with the cells because layers import cells,
never the other way round.

>>> standardize_tuple(3, 2, "kernel_size"), same_padding(5, 3, 2), output_size(8, 3, 1, "valid", 1)
((3, 3), (1, 1), 6)
"""

from __future__ import annotations

import math

from .. import checks

DATA_FORMATS = ("channels_last", "channels_first")


def standardize_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """An int or n ints as an n-tuple of ints > 0; ValueError with Keras's message otherwise."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if checks.is_int(value):
        values = (int(value),) * n
    elif isinstance(value, (list, tuple)) and len(value) == n and all(checks.is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{message}. Pass one int (the same on every axis) or {n} of them, e.g. "
                         f"{name}={(3,) * n}.")
    bad = {v for v in values if v <= 0}
    if bad:
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value > 0`")
    return values


def standardize_padding(value) -> str:
    padding = str(value).lower()
    if padding not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of {'valid', 'same'}. "
                         f"Received: padding={value!r}")
    return padding


def standardize_data_format(value) -> str:
    """None means channels_last (Keras's default image_data_format)."""
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in DATA_FORMATS:
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={value}")
    return data_format


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of Keras's "same": output ceil(size / stride), an odd extra pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def output_size(size: int, kernel: int, stride: int, padding: str, dilation: int) -> int:
    """Keras's `compute_conv_output_shape` for one spatial axis (may be <= 0 for "valid": callers check)."""
    if padding == "same":
        return (size - 1) // stride + 1
    return (size - dilation * (kernel - 1) - 1) // stride + 1
