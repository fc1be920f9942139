"""ReLU as a layer, with Keras's max_value, negative_slope and threshold."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import BUILTIN, register_serializable
from .base import Layer


@register_serializable(package=BUILTIN)
class ReLU(Layer):
    """Rectified linear unit (Keras's `ReLU` layer).

    f(x) = max_value if x >= max_value; x if threshold < x < max_value; negative_slope * (x - threshold)
    otherwise. The defaults give the plain max(x, 0).

    >>> ReLU(max_value=6.0)(torch.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """

    acts_on_last_axis = True  # elementwise: leading axes are batch axes (TimeDistributed relies on it)
    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative value. Received: "
                             f"negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. Received: "
                             f"threshold={threshold}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def forward(self, x, training: bool | None = None):
        # Keras's activations.relu, step by step, so the edge cases (x == threshold) agree.
        slope, cap, threshold = self.negative_slope, self.max_value, self.threshold
        if slope != 0.0 and cap is None and threshold == 0.0:
            return F.leaky_relu(x, slope)
        negative_part = F.relu(threshold - x) if slope != 0.0 else None
        y = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else F.relu(x)
        if cap is not None:
            y = y.clamp(0.0, cap)
        return y - slope * negative_part if negative_part is not None else y

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}
