"""LayerNormalization and BatchNormalization with Keras's defaults (epsilon 1e-3; momentum 0.99).

Keras's BatchNormalization differs from `torch.nn.BatchNorm1d` in three ways this file keeps:
momentum weighs the old statistic (moving = moving * momentum + batch * (1 - momentum), the reverse
of PyTorch's), the moving variance takes the biased batch variance (PyTorch's takes the unbiased
one), and the features are on the last axis. Both layers keep the PyTorch names `weight`/`bias` for
Keras's gamma/beta.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import checks, initializers
from ..convert import to_mask
from ..registry import BUILTIN, register_serializable
from .base import Layer

KERAS_EPSILON = 1e-7  # backend.epsilon(): keeps a fully masked batch's mean at 0 instead of 0 / 0


def _canonical_axes(axis, ndim: int) -> list[int]:
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array with dimension {ndim}.")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"Duplicate axes are not allowed. Received: axis={axis}")
    return sorted(out)


def _broadcast(v: torch.Tensor | None, axes: list[int], ndim: int) -> torch.Tensor | None:
    """A (sizes of `axes`) weight reshaped to broadcast against an input of rank `ndim`."""
    if v is None or axes == list(range(ndim - len(axes), ndim)):
        return v
    shape = [1] * ndim
    for k, a in enumerate(axes):
        shape[a] = v.shape[k]
    return v.reshape(shape)


@register_serializable(package=BUILTIN)
class LayerNormalization(Layer):
    """Normalize each sample over `axis` (the features by default) to mean 0 and variance 1, then
    scale by gamma and shift by beta (Keras's `LayerNormalization`).

    Args:
        axis: int or list of ints, the axes normalized over (-1: the features).
        epsilon: added to the variance (Keras's default 1e-3, PyTorch's 1e-5).
        center, scale: learn beta (`bias`) and gamma (`weight`).
        rms_scaling: Keras's deprecated option: divide by the standard deviation without centring.

    >>> LayerNormalization()(torch.tensor([[1.0, 3.0]])).tolist()  # (x - 2) / sqrt(1 + 1e-3)
    [[-0.9995..., 0.9995...]]
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", rms_scaling: bool = False,
                 name: str | None = None, input_shape=None, batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        if isinstance(axis, (list, tuple)) and all(checks.is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]
        elif checks.is_int(axis):
            self.axis = int(axis)
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                          "input by the variance, not the root mean square (as Keras warns).")
        self.epsilon = float(epsilon)
        self.center = checks.boolean("center", center, "LayerNormalization")
        self.scale = checks.boolean("scale", scale, "LayerNormalization")
        self.rms_scaling = checks.boolean("rms_scaling", rms_scaling, "LayerNormalization")
        self.beta_initializer = initializers.for_weight(beta_initializer)
        self.gamma_initializer = initializers.for_weight(gamma_initializer)
        self.normalized_shape: tuple | None = None
        self.weight = self.bias = None
        if self.batch_input_shape is not None:
            self.build(self.batch_input_shape)

    def awaiting_build(self) -> bool:
        return self.normalized_shape is None and self._has_weights()

    def _has_weights(self) -> bool:
        return self.scale or self.rms_scaling or (self.center and not self.rms_scaling)

    def build(self, input_shape) -> None:
        self.axis = _canonical_axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in self.axis)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization {self.name!r} normalizes over axes {self.axis}, whose sizes must "
                             f"be known; received input shape {tuple(input_shape)}.")
        self._make_weights(shape)

    def _make_weights(self, shape: tuple) -> None:
        self.normalized_shape = tuple(int(d) for d in shape)
        if self.scale or self.rms_scaling:
            self.weight = nn.Parameter(self.gamma_initializer(torch.empty(self.normalized_shape)))
        if self.center and not self.rms_scaling:
            self.bias = nn.Parameter(self.beta_initializer(torch.empty(self.normalized_shape)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "weight", state_dict.get(prefix + "bias"))
        if self.normalized_shape is None and saved is not None:
            self._make_weights(tuple(saved.shape))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x, training: bool | None = None):
        if self.normalized_shape is None:
            self.build(tuple(x.shape))
            self.to(x.device)
        axes = _canonical_axes(self.axis, x.dim())
        shape = tuple(x.shape[a] for a in axes)
        if shape != self.normalized_shape:
            raise ValueError(f"LayerNormalization {self.name!r} was built for sizes {self.normalized_shape} on axes "
                             f"{axes}, received input shape {tuple(x.shape)}.")
        if not self.rms_scaling and axes == list(range(x.dim() - len(axes), x.dim())):
            return F.layer_norm(x, shape, self.weight, self.bias, self.epsilon)  # trailing axes: PyTorch's kernel
        variance = x.var(dim=axes, keepdim=True, unbiased=False)
        inv = torch.rsqrt(variance + self.epsilon)
        gamma, beta = _broadcast(self.weight, axes, x.dim()), _broadcast(self.bias, axes, x.dim())
        if self.rms_scaling:
            return x * inv * gamma if gamma is not None else x * inv
        out = (x - x.mean(dim=axes, keepdim=True)) * inv
        out = out * gamma if gamma is not None else out
        return out + beta if beta is not None else out

    def keras_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy() for p in (self.weight, self.bias) if p is not None]

    def set_keras_weights(self, weights) -> None:
        """Keras's order: gamma, beta (those present)."""
        if self.normalized_shape is None:
            self._make_weights(np.shape(weights[0]))
        params = [p for p in (self.weight, self.bias) if p is not None]
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.as_tensor(np.asarray(w, dtype=np.float32)))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                **initializers.configs(beta_initializer=self.beta_initializer,
                                       gamma_initializer=self.gamma_initializer)}


@register_serializable(package=BUILTIN)
class BatchNormalization(Layer):
    """Normalize each feature with batch statistics while training and moving statistics otherwise
    (Keras's `BatchNormalization`).

    While training (in `fit`, or called with training=True) it normalizes with the batch's mean and
    (biased) variance over every axis but `axis`, and updates moving_mean and moving_variance:
    moving = moving * momentum + batch * (1 - momentum). At inference it uses the moving statistics.
    Masked steps (from Masking or Embedding(mask_zero=True)) are left out of the batch statistics.
    With `trainable = False` it always runs in inference mode, as Keras's does (fine-tuning).

    The moving statistics are non-trainable weights (parameters without gradients), so
    `count_params` and `summary` count them as Keras does.

    >>> bn = BatchNormalization()
    >>> bn(torch.ones(4, 2), training=True).shape
    torch.Size([4, 2])
    >>> [round(v, 6) for v in bn.moving_mean.tolist()]  # 0 * 0.99 + 1 * (1 - 0.99)
    [0.01, 0.01]
    """

    supports_masking = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 name: str | None = None, input_shape=None, batch_input_shape=None):
        super().__init__(name, input_shape, batch_input_shape)
        if not checks.is_int(axis):
            raise TypeError(f"BatchNormalization: axis must be an int (the features axis), received {axis!r}.")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center = checks.boolean("center", center, "BatchNormalization")
        self.scale = checks.boolean("scale", scale, "BatchNormalization")
        self.initializers = {"weight": initializers.for_weight(gamma_initializer), "bias": initializers.for_weight(beta_initializer),
                             "moving_mean": initializers.for_weight(moving_mean_initializer),
                             "moving_variance": initializers.for_weight(moving_variance_initializer)}
        self._trainable = True
        self.features: int | None = None
        self.weight = self.bias = self.moving_mean = self.moving_variance = None
        if self.batch_input_shape is not None:
            self.build(self.batch_input_shape)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # Keras: a frozen BatchNormalization runs in inference mode, even inside fit.
        self._trainable = checks.boolean("trainable", value, "BatchNormalization")
        for p in (self.weight, self.bias):
            if p is not None:
                p.requires_grad_(self._trainable)

    def awaiting_build(self) -> bool:
        return self.features is None

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                             f"Received: axis={self.axis}")
        self._make_weights(input_shape[self.axis])

    def _make_weights(self, features: int) -> None:
        self.features = int(features)
        for name in self._weight_names():
            trainable = name in ("weight", "bias") and self._trainable
            value = self.initializers[name](torch.empty(self.features))
            setattr(self, name, nn.Parameter(value, requires_grad=trainable))

    def _weight_names(self) -> list[str]:
        return (["weight"] if self.scale else []) + (["bias"] if self.center else []) + ["moving_mean",
                                                                                          "moving_variance"]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.features is None and prefix + "moving_mean" in state_dict:
            self._make_weights(state_dict[prefix + "moving_mean"].shape[0])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _moments(self, x, axis: int, mask):
        """The batch's mean and biased variance per feature; masked positions left out (Keras's rule)."""
        axes = [a for a in range(x.dim()) if a != axis]
        if mask is None:
            return x.mean(dim=axes), x.var(dim=axes, unbiased=False)
        keep = mask.unsqueeze(-1).expand_as(x)
        count = keep.to(x.dtype).sum(dim=axes) + KERAS_EPSILON
        mean = torch.where(keep, x, torch.zeros_like(x)).sum(dim=axes) / count
        shape = [1] * x.dim()
        shape[axis] = -1
        diff = torch.where(keep, x - mean.reshape(shape), torch.zeros_like(x))
        return mean, diff.square().sum(dim=axes) / count

    def forward(self, x, training: bool | None = None, mask=None):
        if self.features is None:
            self.build(tuple(x.shape))
            self.to(x.device)
        axis = self.axis % x.dim() if -x.dim() <= self.axis < x.dim() else None
        if axis is None or x.shape[axis] != self.features:
            raise ValueError(f"BatchNormalization {self.name!r} was built for {self.features} features on axis "
                             f"{self.axis}, received input shape {tuple(x.shape)}.")
        if mask is not None:
            mask = to_mask(mask, x.device)
            if mask.dim() != x.dim() - 1:
                raise ValueError("The mask provided should be one dimension less than the inputs. Received: "
                                 f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(x.shape)}")
        training = self.training if training is None else bool(training)
        if training and self._trainable:
            mean, variance = self._moments(x, axis, mask)
            with torch.no_grad():  # Keras's momentum weighs the old value (PyTorch's is 1 - it)
                self.moving_mean.mul_(self.momentum).add_(mean.detach() * (1.0 - self.momentum))
                self.moving_variance.mul_(self.momentum).add_(variance.detach() * (1.0 - self.momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        shape = [1] * x.dim()
        shape[axis] = self.features
        inv = torch.rsqrt(variance + self.epsilon)
        if self.weight is not None:
            inv = inv * self.weight
        out = (x - mean.reshape(shape)) * inv.reshape(shape)
        return out + self.bias.reshape(shape) if self.bias is not None else out

    def keras_weights(self) -> list[np.ndarray]:
        """Keras's order: gamma, beta (when present), moving_mean, moving_variance."""
        return [getattr(self, n).detach().cpu().numpy() for n in self._weight_names()]

    def set_keras_weights(self, weights) -> None:
        if self.features is None:
            self._make_weights(np.shape(weights[-1])[0])
        with torch.no_grad():
            for name, w in zip(self._weight_names(), weights):
                getattr(self, name).copy_(torch.as_tensor(np.asarray(w, dtype=np.float32)))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **initializers.configs(beta_initializer=self.initializers["bias"],
                                       gamma_initializer=self.initializers["weight"],
                                       moving_mean_initializer=self.initializers["moving_mean"],
                                       moving_variance_initializer=self.initializers["moving_variance"])}
