"""Request bodies of the stepping routes, read and checked without a Python object per number.

A body is parsed by orjson (which refuses NaN and Infinity, as JSON does) and its inputs become one
float32 array; what is wrong is said per series, with what was expected and what was received, so one
series' bad input is refused without touching another's.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

SERIES_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_SERIES_RE = re.compile(SERIES_ID)
_SERIES_LINES = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\n)*")  # many ids in one pass


class BadInput(ValueError):
    """What is wrong with a request, said to the client as 422."""


def read_json(body: bytes):
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadInput(f"the body must be JSON ({e}); NaN and Infinity are not JSON numbers.") from None


def check_id(series_id: str) -> None:
    if not _SERIES_RE.match(series_id):
        raise BadInput(f"series id {series_id[:140]!r} must match {SERIES_ID} (letters, digits and . _ : -, "
                       "1 to 128, the first a letter or digit).")


def step_number(value, where: str) -> int:
    """-1 for an omitted step (any), else a whole number >= 0."""
    if value is None:
        return -1
    if type(value) is not int or value < 0:
        raise BadInput(f"{where}: \"step\" must be a whole number >= 0 (the step the client believes comes "
                       f"next) or omitted, received {_show(value)}.")
    return value


def matrix(rows: list, features: int, where: str) -> np.ndarray:
    """Rows of `features` finite numbers -> (len(rows), features) float32."""
    for t, row in enumerate(rows):
        if type(row) is not list or len(row) != features:
            raise BadInput(f"{where}, time step {t}: x must hold {features} features, received {_count(row)}.")
    return _finite(_floats(rows, where), where)


def one_step(obj, features: int, where: str) -> tuple[np.ndarray, int]:
    """{"x": [F numbers], "step": k} -> (x (F,), k or -1)."""
    if type(obj) is not dict or "x" not in obj:
        raise BadInput(f"{where}: the body must be {{\"x\": [{features} numbers], \"step\": k}} (\"step\" "
                       f"optional); \"x\" is missing, received {_show(obj)}.")
    x = obj["x"]
    if type(x) is not list or len(x) != features:
        raise BadInput(f"{where}: x must hold {features} features (one step), received {_count(x)}.")
    return _finite(_floats([x], where), where)[0], step_number(obj.get("step"), where)


def many_steps(obj, features: int, max_series: int) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    """{id: [F numbers] or {"x": [...], "step": k}} -> (ids, x (n, F), expected (n,), errors by id)."""
    if type(obj) is not dict:
        raise BadInput(f"the body must be an object {{series id: [{features} numbers] or {{\"x\": [...], "
                       f"\"step\": k}}}}, received {_show(obj)}.")
    if len(obj) > max_series:
        raise BadInput(f"at most {max_series} series per request, received {len(obj)}; split it.")
    if _all_ids_valid(list(obj)):  # the usual body: every entry a plain row of numbers
        x = _plain_rows(list(obj.values()), features)
        if x is not None:
            return list(obj), x, np.full(len(obj), -1, np.int64), {}
        # entries with step numbers, or something wrong: read entry by entry below
    ids, rows, steps, errors = [], [], [], {}
    for sid, entry in obj.items():
        try:
            check_id(sid)
            if type(entry) is dict:
                x, k = entry.get("x"), step_number(entry.get("step"), f"series {sid!r}")
            else:
                x, k = entry, -1
            if type(x) is not list or len(x) != features:
                raise BadInput(f"series {sid!r}: x must hold {features} features (one step), received {_count(x)}.")
        except BadInput as e:
            errors[sid] = {"status": 422, "detail": str(e)}
            continue
        ids.append(sid)
        rows.append(x)
        steps.append(k)
    try:
        x = _finite(_floats(rows, "x"), "x")
    except BadInput:  # name the series at fault, keep the others
        keep = []
        for r, sid in enumerate(ids):
            try:
                _finite(_floats([rows[r]], f"series {sid!r}"), f"series {sid!r}")
                keep.append(r)
            except BadInput as e:
                errors[sid] = {"status": 422, "detail": str(e)}
        ids, rows, steps = [ids[r] for r in keep], [rows[r] for r in keep], [steps[r] for r in keep]
        x = _floats(rows, "x")
    return ids, x.reshape(len(ids), features), np.array(steps, np.int64), errors


def columns(obj, features: int, max_series: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """{"ids": [n ids], "x": [n rows of F numbers], "step": [n whole numbers or null] (optional)} ->
    (ids, x (n, F), expected (n,)). The bulk layout: read without a Python object per row; anything
    wrong refuses the whole request (nothing is applied), naming the first row at fault."""
    if type(obj) is not dict or type(obj.get("ids")) is not list or type(obj.get("x")) is not list:
        raise BadInput(f"layout=columns: the body must be {{\"ids\": [...], \"x\": [[{features} numbers], ...], "
                       f"\"step\": [...] (optional)}}, received {_show(obj)}.")
    ids, rows, steps = obj["ids"], obj["x"], obj.get("step")
    if len(ids) > max_series:
        raise BadInput(f"at most {max_series} series per request, received {len(ids)}; split it.")
    if len(rows) != len(ids) or (steps is not None and (type(steps) is not list or len(steps) != len(ids))):
        raise BadInput(f"layout=columns: \"x\" and \"step\" must hold one entry per id ({len(ids)}), received "
                       f"{len(rows)} and {_count(steps) if steps is not None else 'none'}.")
    if not all(type(sid) is str for sid in ids) or not _all_ids_valid(ids):
        for sid in ids:
            if type(sid) is not str:
                raise BadInput(f"layout=columns: ids must be strings, received {_show(sid)}.")
            check_id(sid)
    x = _plain_rows(rows, features)
    if x is None:  # something is wrong: say what, row by row
        x = matrix(rows, features, "layout=columns, x") if rows else np.zeros((0, features), np.float32)
    if steps is None:
        return ids, x, np.full(len(ids), -1, np.int64)
    expected = np.array([step_number(k, f"series {sid!r}") for sid, k in zip(ids, steps)], np.int64)
    return ids, x, expected.reshape(len(ids))


def _plain_rows(rows: list, features: int) -> np.ndarray | None:
    """`rows` as (n, features) float32 in one conversion when every row is `features` finite numbers;
    None otherwise (the caller then reads row by row to say what is wrong)."""
    try:
        with np.errstate(over="ignore"):
            x = np.array(rows, np.float32)
    except (TypeError, ValueError):
        return None
    return x if x.shape == (len(rows), features) and np.isfinite(x).all() else None


def _all_ids_valid(ids: list) -> bool:
    lines = "\n".join(ids) + "\n" if ids else ""
    return lines.count("\n") == len(ids) and _SERIES_LINES.fullmatch(lines) is not None


def _floats(rows: list, where: str) -> np.ndarray:
    try:
        with np.errstate(over="ignore"):
            return np.array(rows, np.float32)
    except (TypeError, ValueError):
        bad = next((v for row in rows for v in row if type(v) not in (int, float)), None)
        raise BadInput(f"{where}: x must hold numbers only, received {_show(bad)}.") from None


def _finite(x: np.ndarray, where: str) -> np.ndarray:
    if not np.isfinite(x).all():
        raise BadInput(f"{where}: x must hold finite numbers within float32's range (about 3.4e38), received "
                       f"{_show(x[~np.isfinite(x)][0].item())} after conversion.")
    return x


def _count(x) -> str:
    return f"{len(x)}" if type(x) is list else _show(x)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
