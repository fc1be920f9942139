"""Shaping series into [samples, time_steps, features]: sliding windows as zero-copy views.

`windows(series, look_back)` is the seeds' `create_dataset(dataset, look_back)` done in one call,
for any number of features and for panels of many series. The seeds' loop builds N small arrays and
copies them; here `X` is a strided view of the series (`np.shares_memory(X, series)` is True), so
memory stays O(series length) whatever `look_back` is. Relation to `create_dataset`: it stops one
window early (its range is `len - look_back - 1`), so `windows(s, k)` has one more sample and its
first `len(s) - k - 1` samples equal `create_dataset`'s exactly.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import checks

_TARGETS = ("next", "sequence")
_NAN = ("raise", "drop", "interpolate")


def _as_2d(series, where: str) -> np.ndarray:
    """(T,) or (T, F) array, or a DataFrame of numeric columns -> (T, F) array (a view when possible)."""
    if hasattr(series, "columns") and hasattr(series, "dtypes"):  # pandas DataFrame
        bad = [str(c) for c, dt in series.dtypes.items() if dt.kind not in "biuf"]
        if bad:
            raise ValueError(f"{where}: column(s) {bad} are not numeric; select numeric columns, e.g. "
                             f"df[[...]] or df.select_dtypes('number').")
        series = series.to_numpy()
    elif hasattr(series, "to_numpy"):  # pandas Series
        series = series.to_numpy()
    arr = np.asarray(series)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected numbers, received dtype {arr.dtype}.")
    if arr.ndim == 1:
        arr = arr[:, None]  # -> (T, 1), a view
    if arr.ndim != 2:
        raise ValueError(f"{where}: a series is (time_steps,) or (time_steps, features); received shape "
                         f"{arr.shape}. For many series pass a list of them (a panel).")
    return arr


def _clean_nan(arr: np.ndarray, nan: str, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the series and, for nan='drop', a per-step bad flag."""
    if arr.dtype.kind != "f":
        return arr, None
    # Scan in blocks so the check itself needs O(1) extra memory on a 10-million-step series.
    block = 1 << 18
    if all(np.isfinite(arr[i:i + block]).all() for i in range(0, len(arr), block)):
        return arr, None
    bad = ~np.isfinite(arr)
    if nan == "raise":
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{where} contains NaN or inf, first at index {index}. Clean the data, or pass "
                         "nan='drop' (skip windows that touch it) or nan='interpolate' (linear, per column).")
    if nan == "drop":
        return arr, bad.any(axis=1)
    out = arr.astype(np.float64, copy=True)
    steps = np.arange(len(out))
    for j in range(out.shape[1]):
        ok = np.isfinite(out[:, j])
        if not ok.any():
            raise ValueError(f"{where}: column {j} has no finite value to interpolate from.")
        out[~ok, j] = np.interp(steps[~ok], steps[ok], out[ok, j])
    return out.astype(arr.dtype), None


def _one(arr: np.ndarray, look_back: int, horizon: int, stride: int, target: str, cols,
         bad: np.ndarray | None, where: str):
    # T: time steps, F: features, L: look_back, N: samples
    T = len(arr)
    need = look_back + horizon if target == "next" else look_back + 1
    if T < need:
        what = "look_back + horizon" if target == "next" else "look_back + 1"
        raise ValueError(f"{where}: needs at least {what} = {need} steps, series has {T}. "
                         "Use a shorter look_back or a longer series.")
    n = T - look_back - horizon + 1 if target == "next" else T - look_back
    X = sliding_window_view(arr, look_back, axis=0)[:n].swapaxes(1, 2)  # -> (N, L, F), a view
    tgt = arr if cols is None else arr[:, cols]
    if target == "sequence":
        y = sliding_window_view(tgt[1:], look_back, axis=0)[:n].swapaxes(1, 2)  # -> (N, L, F_t)
    elif horizon == 1:
        y = tgt[look_back:look_back + n]  # -> (N, F_t)
    else:
        y = sliding_window_view(tgt[look_back:], horizon, axis=0)[:n].swapaxes(1, 2)  # -> (N, h, F_t)
    X, y = X[::stride], y[::stride]
    if bad is not None:
        span = look_back + (horizon if target == "next" else 1)
        touched = sliding_window_view(bad, span)[:n].any(axis=1)[::stride]
        if touched.all():
            raise _DroppedAll(f"{where}: nan='drop' dropped all {len(touched)} windows: each touches a NaN or inf "
                              f"(first at step {int(np.argmax(bad))}), so nothing is left. Pass "
                              f"nan='interpolate' to fill the gaps, use a shorter look_back (windows of {span} "
                              "steps with the target do not fit between them), or clean the series first.")
        X, y = X[~touched], y[~touched]
    return X, y


class _DroppedAll(ValueError):
    """nan='drop' left no window of one series (an error unless another series of the panel has some)."""


def windows(series, look_back: int, horizon: int = 1, stride: int = 1, target: str = "next",
            target_columns: Sequence[int] | Sequence[str] | int | str | None = None, nan: str = "raise"):
    """Cut a series (or a panel of series) into (X, y) for a recurrent model.

    Args:
        series: (T,) or (T, F) array, a DataFrame of numeric columns, or a list of those (a panel:
            many tanks, many stocks); windows never cross from one series into the next.
        look_back: time steps per sample (the X axis 1).
        horizon: with target='next', how many future steps y holds.
        stride: step between window starts.
        target: 'next' -> y is what follows each window: (N, F_t) for horizon 1, else (N, horizon, F_t);
            'sequence' -> y is the window shifted one step ahead, (N, look_back, F_t) (many-to-many).
        target_columns: indices (or DataFrame column names) of the predicted features; default all.
        nan: 'raise' (default), 'drop' windows that touch a NaN, or 'interpolate' linearly.

    Returns:
        X of shape (samples, look_back, features) -- a view of `series` for a single series -- and y.

    >>> X, y = windows(np.arange(10.0), look_back=3)
    >>> X.shape, y.shape, X[0, :, 0].tolist(), y[0].tolist()
    ((7, 3, 1), (7, 1), [0.0, 1.0, 2.0], [3.0])
    """
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {_TARGETS}, received {target!r}.")
    if nan not in _NAN:
        raise ValueError(f"nan must be one of {_NAN}, received {nan!r}.")
    look_back = checks.positive_int("look_back", look_back, "windows", "time steps per sample")
    horizon = checks.positive_int("horizon", horizon, "windows", "future steps per target")
    stride = checks.positive_int("stride", stride, "windows", "steps between window starts")
    panel = isinstance(series, (list, tuple))
    if panel and not series:
        raise ValueError("windows: the panel (list of series) is empty.")
    members = list(series) if panel else [series]
    cols = target_columns
    if cols is not None and not isinstance(cols, (list, tuple, np.ndarray)):
        cols = [cols]
    results, emptied = [], []
    for k, s in enumerate(members):
        where = f"series {k}" if panel else "series"
        idx = cols
        if cols is not None and hasattr(s, "columns"):
            names = list(s.columns)
            missing = [c for c in cols if isinstance(c, str) and c not in names]
            if missing:
                raise ValueError(f"{where}: target_columns {missing} not in the columns {names}.")
            idx = [names.index(c) if isinstance(c, str) else c for c in cols]
        arr = _as_2d(s, where)
        if idx is not None and any(not -arr.shape[1] <= i < arr.shape[1] for i in idx):
            raise ValueError(f"{where}: target_columns {list(idx)} out of range for {arr.shape[1]} features.")
        arr, bad = _clean_nan(arr, nan, where)
        try:
            results.append(_one(arr, look_back, horizon, stride, target, idx, bad, where))
        except _DroppedAll as err:
            if not panel:
                raise ValueError(str(err)) from None
            emptied.append(str(err))
    if emptied and not results:
        raise ValueError(f"windows: nan='drop' left no window in any series of the panel. {emptied[0]}")
    if emptied:
        warnings.warn(f"windows: {len(emptied)} of {len(members)} series gave no window. {emptied[0]}",
                      UserWarning, stacklevel=2)
    if len(results) == 1:
        return results[0]
    widths = {r[0].shape[2] for r in results}
    if len(widths) > 1:
        raise ValueError(f"windows: every series of a panel needs the same features; received {sorted(widths)}.")
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])


def create_dataset(dataset, look_back: int = 1):
    """The seeds' loop, kept as the reference `windows` is tested and benchmarked against.

    >>> X, y = create_dataset(np.arange(10.0).reshape(-1, 1), 3)
    >>> X.shape, y.shape
    ((6, 3), (6,))
    """
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back - 1):
        dataX.append(dataset[i:(i + look_back), 0])
        dataY.append(dataset[i + look_back, 0])
    return np.array(dataX), np.array(dataY)


def split(series, test_fraction: float = 0.33):
    """Cut a series in time order: (train, test), the test part being the last `test_fraction`.

    Never shuffle a series before windowing: neighbouring windows overlap, so a shuffled split
    leaks test values into training.

    >>> train, test = split(np.arange(144), 0.33)
    >>> len(train), len(test)
    (96, 48)
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), received {test_fraction!r}.")
    n = len(series)
    cut = int(n * (1.0 - test_fraction) + 1e-9)
    if cut == 0 or cut == n:
        raise ValueError(f"test_fraction={test_fraction} leaves an empty part of a {n}-step series.")
    if hasattr(series, "iloc"):
        return series.iloc[:cut], series.iloc[cut:]
    return series[:cut], series[cut:]
