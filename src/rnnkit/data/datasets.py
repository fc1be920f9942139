"""Built-in data, deterministic under a seed: the seeds' toy problems and the classic airline series."""

from __future__ import annotations

import csv
import sysconfig
from pathlib import Path

import numpy as np

_HERE = Path(__file__).parent


def bit_sums(n: int, length: int, cumulative: bool = False, seed: int = 0):
    """Seed 004's data: x (n, length, 1) of 0/1; y the sum (n, 1), or the running sum (n, length, 1).

    >>> x, y = bit_sums(2, 5, seed=1)
    >>> x.shape, y.shape, bool((x.sum(axis=(1, 2)) == y[:, 0]).all())
    ((2, 5, 1), (2, 1), True)
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (n, length, 1)).astype(np.float32)
    y = np.cumsum(x, axis=1) if cumulative else x.sum(axis=1)
    return x, y.astype(np.float32)


_SPLITS = {"train": 0, "val": 2, "test": 4}


def sine_waves(n: int, length: int, features: int = 5, split: str = "train", seed: int = 0) -> np.ndarray:
    """Seed 002's waves: (n, length, features), each feature sin(t / wavelength + shift).

    Wavelengths are an integer in 11..30 plus a fraction from a band that depends on the split
    ([0, 1/6) train, [2/6, 3/6) val, [4/6, 5/6) test), so the splits never share a wavelength.

    >>> sine_waves(3, 50, 2).shape
    (3, 50, 2)
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {sorted(_SPLITS)}, received {split!r}.")
    rng = np.random.default_rng(seed + 1000 * _SPLITS[split])
    category = _SPLITS[split]
    base = np.trunc(rng.random((n, features)) * (10 - 30)) + 30  # seed 002's create_wavelength(30, 10, 1, c)
    wavelength = base + (category + rng.random((n, features))) / 6
    shift = rng.random((n, features))
    t = np.arange(length)[None, :, None]
    return np.sin(t / wavelength[:, None, :] + shift[:, None, :]).astype(np.float32)


def airline_passengers() -> np.ndarray:
    """Monthly international airline passengers (thousands), Jan 1949 - Dec 1960: 144 values.

    Source: Box, Jenkins & Reinsel, *Time Series Analysis: Forecasting and Control*, Series G
    (the series the seeds' Keras tutorial forecasts).

    >>> s = airline_passengers()
    >>> s.shape, int(s[0]), int(s[-1])
    ((144,), 112, 432)
    """
    with open(_HERE / "airline_passengers.csv", newline="") as f:
        rows = list(csv.DictReader(row for row in f if not row.startswith("#")))
    return np.array([float(r["passengers"]) for r in rows], dtype=np.float32)


def tank_readings(n_tanks: int, steps: int, seed: int = 0) -> np.ndarray:
    """Synthetic (n_tanks, steps, 2) readings: [pressure (bar), temperature (deg C)] per tank (seed 000).

    Temperature follows a daily cycle plus slow weather noise; pressure follows the gas law
    P = P0 * (T + 273.15) / (T0 + 273.15) for a sealed tank, plus small sensor noise.

    >>> tank_readings(3, 24).shape
    (3, 24, 2)
    """
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :]
    base = rng.uniform(10, 25, (n_tanks, 1))
    amplitude = rng.uniform(3, 8, (n_tanks, 1))
    phase = rng.uniform(0, 2 * np.pi, (n_tanks, 1))
    weather = np.cumsum(rng.normal(0, 0.15, (n_tanks, steps)), axis=1)
    temperature = base + amplitude * np.sin(2 * np.pi * t / 24 + phase) + weather
    p0 = rng.uniform(2.0, 4.0, (n_tanks, 1))
    pressure = p0 * (temperature + 273.15) / (base + 273.15) + rng.normal(0, 0.005, (n_tanks, steps))
    return np.stack([pressure, temperature], axis=-1).astype(np.float32)


def char_corpus(max_chars: int = 200_000) -> str:
    """Text for character models: the Python standard library's own source files on this machine.

    Deterministic for a given Python installation (files read in sorted order); nothing downloaded.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(root.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(text)
        total += len(text)
        if total >= max_chars:
            break
    if not parts:
        raise RuntimeError(f"char_corpus: no Python source files found under {root}.")
    return "".join(parts)[:max_chars]
