"""Scaling fitted on the training part only, reversible, saved with models."""

from __future__ import annotations

import numpy as np

_KINDS = ("minmax", "standard")


class Scaler:
    """Per-feature 'minmax' (to feature_range) or 'standard' (zero mean, unit variance) scaling.

    Fit it on the training part only (fitting on all data leaks the test range into training).

    >>> s = Scaler("minmax").fit(np.array([[0.0], [10.0]]))
    >>> s.transform(np.array([[5.0]])).tolist(), s.inverse_transform(np.array([[0.5]])).tolist()
    ([[0.5]], [[5.0]])
    """

    def __init__(self, kind: str = "minmax", feature_range: tuple[float, float] = (0.0, 1.0)):
        if kind not in _KINDS:
            raise ValueError(f"Scaler kind must be one of {_KINDS}, received {kind!r}.")
        self.kind, self.feature_range = kind, tuple(feature_range)
        self.offset: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    @staticmethod
    def _2d(data) -> np.ndarray:
        arr = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data, dtype=np.float64)
        return arr[:, None] if arr.ndim == 1 else arr

    def fit(self, data) -> "Scaler":
        arr = self._2d(data)
        arr = arr.reshape(-1, arr.shape[-1])
        if not np.isfinite(arr).all():
            raise ValueError("Scaler.fit: data contains NaN or inf; clean it first.")
        if self.kind == "minmax":
            lo, hi = arr.min(0), arr.max(0)
            a, b = self.feature_range
            span = np.where(hi > lo, hi - lo, 1.0)
            self.scale = (b - a) / span
            self.offset = a - lo * self.scale
        else:
            std = arr.std(0)
            self.scale = 1.0 / np.where(std > 0, std, 1.0)
            self.offset = -arr.mean(0) * self.scale
        return self

    def _check(self, arr: np.ndarray, columns) -> tuple[np.ndarray, np.ndarray]:
        if self.scale is None:
            raise RuntimeError("Scaler is not fitted: call fit(train) first.")
        scale, offset = self.scale, self.offset
        if columns is not None:
            scale, offset = scale[list(columns)], offset[list(columns)]
        if arr.shape[-1] != len(scale):
            raise ValueError(f"Scaler was fitted on {len(self.scale)} features; received {arr.shape[-1]}. "
                             "Pass columns=[...] to scale a subset (e.g. the predicted feature).")
        return scale, offset

    def transform(self, data, columns=None) -> np.ndarray:
        arr = np.asarray(data, dtype=np.float64)
        arr2 = arr[..., None] if arr.ndim == 1 else arr
        scale, offset = self._check(arr2, columns)
        return (arr2 * scale + offset).reshape(arr.shape).astype(np.float32)

    def inverse_transform(self, data, columns=None) -> np.ndarray:
        """Back to the data's own units; `columns` picks the fitted features `data` holds."""
        arr = np.asarray(data, dtype=np.float64)
        arr2 = arr[..., None] if arr.ndim == 1 else arr
        scale, offset = self._check(arr2, columns)
        return ((arr2 - offset) / scale).reshape(arr.shape)

    def fit_transform(self, data) -> np.ndarray:
        return self.fit(data).transform(data)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "feature_range": list(self.feature_range),
                "offset": None if self.offset is None else self.offset.tolist(),
                "scale": None if self.scale is None else self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Scaler":
        s = cls(d["kind"], tuple(d["feature_range"]))
        if d.get("scale") is not None:
            s.scale, s.offset = np.asarray(d["scale"]), np.asarray(d["offset"])
        return s
