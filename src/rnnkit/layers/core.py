"""Non-recurrent layers with Keras's semantics: Input, Dense, Embedding, Dropout, Activation, Flatten, Reshape."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..registry import BUILTIN, register_serializable
from .. import activations, checks, initializers, regularizers
from ..cells.gated import penalty_config
from ..cells.penalties import KerasWeight, WeightPenalties, get_constraint, get_regularizer, same_layout, transposed
from .base import Layer, normalize_shape, unique_name
from ..symbolic import Symbol, example_for, example_shape

Tensor = torch.Tensor


_DENSE_PENALTIES = ("kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint")
_EMBEDDING_PENALTIES = ("embeddings_regularizer", "embeddings_constraint")


def penalties_config(layer: Layer, keys: tuple[str, ...]) -> dict:
    """The layer's regularizers and constraints that are set, and its activity regularizer, as its
    config holds them (plain functions, which a config cannot hold, left out)."""
    config = penalty_config(layer, keys)
    saved = regularizers.config_value(layer.activity_regularizer)
    if saved is not None:
        config["activity_regularizer"] = saved
    return config


class Input(Symbol):
    """Declares a model's input shape, without the batch axis (Keras's `Input`).

    `shape=(time_steps, features)`; `None` for a time axis of any length. `batch_size` fixes the
    batch (what stateful Keras models require; rnnkit does not). In a Sequential list it declares the
    shape; in the functional API it is the symbolic tensor layers are called on.

    >>> Input((5, 2)).batch_shape
    (None, 5, 2)
    """

    def __init__(self, shape=None, batch_size: int | None = None, name: str | None = None,
                 batch_shape=None, dtype: str = "float32"):
        if shape is None and batch_shape is None:
            raise ValueError("Input needs shape=(time_steps, features) (without the batch axis) "
                             "or batch_shape=(batch, time_steps, features).")
        full = normalize_shape(shape, batch_shape, batch_size, "Input", ("shape", "batch_shape", "batch_size"))
        example = example_shape(full)  # a symbolic input carries an example tensor of this shape
        sizes = f"shape={full[1:]}" + (f", batch_size={full[0]}" if full[0] is not None else "")
        checks.weight_size("Input", sizes, example, what="an example tensor")
        super().__init__(full, example_for(full, dtype), name=name or unique_name("Input"))
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"Input(shape={self.shape[1:]}, batch_size={self.shape[0]}, name={self.name!r})"

    # As Keras's InputLayer in a functional model's `layers`: its input and output are the tensor itself.
    @property
    def input(self) -> "Input":
        return self

    @property
    def output(self) -> "Input":
        return self

    def get_weights(self) -> list:
        return []

    def count_params(self) -> int:
        return 0


InputLayer = Input


@register_serializable(package=BUILTIN)
class Dense(Layer, WeightPenalties):
    """A fully connected layer on the last axis of any input rank, like Keras.

    On (batch, time_steps, features) it acts on every step with the same weights, exactly as
    TimeDistributed(Dense) does (Keras 2 and later).

    >>> Dense(1)(torch.zeros(4, 7, 3)).shape
    torch.Size([4, 7, 1])
    """

    acts_on_last_axis = True  # leading axes are batch axes (TimeDistributed relies on it)

    supports_masking = True

    def __init__(self, units: int, activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 input_size: int | None = None, input_shape=None, input_dim: int | None = None,
                 batch_input_shape=None, name: str | None = None, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None):
        if input_dim is not None and input_shape is None:
            input_shape = (checks.positive_int("input_dim", input_dim, "Dense", "features per step"),)
        super().__init__(name, input_shape, batch_input_shape)
        self.kernel_regularizer = get_regularizer(kernel_regularizer, "Dense", "kernel_regularizer")
        self.bias_regularizer = get_regularizer(bias_regularizer, "Dense", "bias_regularizer")
        self.kernel_constraint = get_constraint(kernel_constraint, "Dense", "kernel_constraint")
        self.bias_constraint = get_constraint(bias_constraint, "Dense", "bias_constraint")
        self.activity_regularizer = activity_regularizer
        self.units = checks.positive_int("units", units, "Dense", "the size of the output", "E.g. Dense(1).")
        self.activation_name = activations.name_of(activation)
        self.activation = activations.get(activation)
        self.use_bias = checks.boolean("use_bias", use_bias, "Dense")
        self.kernel_initializer = initializers.for_weight(kernel_initializer)
        self.bias_initializer = initializers.for_weight(bias_initializer)
        self.input_size: int | None = None
        size = checks.optional_positive_int("input_size", input_size, "Dense") or (
            self.batch_input_shape[-1] if self.batch_input_shape else None)
        given = "input_size" if input_size else "input_dim" if input_dim is not None else "input_shape[-1]"
        known = f", {given}={size}" if size is not None else ""
        checks.weight_size("Dense", f"units={self.units}{known}", (self.units, size or 1), at_least=size is None)
        if size is not None:
            self.build(size)

    def awaiting_build(self) -> bool:
        return self.input_size is None

    def build(self, input_size: int) -> None:
        self.input_size = int(input_size)
        self.weight = nn.Parameter(self.kernel_initializer(torch.empty(self.units, self.input_size)))
        self.bias = nn.Parameter(self.bias_initializer(torch.empty(self.units))) if self.use_bias else None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if self.input_size is None and prefix + "weight" in state_dict:
            self.build(state_dict[prefix + "weight"].shape[1])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x, training: bool | None = None) -> Tensor:
        if x.dim() == 0:
            raise ValueError(f"Dense {self.name!r} needs inputs with a features axis, (batch, features) or "
                             f"(batch, time_steps, features); received a single number {float(x):g}. Pass "
                             "x with a batch axis, e.g. np.array([[value]]).")
        if self.input_size is None:
            self.build(x.shape[-1])
            self.to(x.device)
        elif x.shape[-1] != self.input_size:
            raise ValueError(f"Dense {self.name!r} was built for {self.input_size} input features, "
                             f"received {x.shape[-1]} (input shape {tuple(x.shape)}).")
        return self.activation(F.linear(x, self.weight, self.bias))  # -> (..., units)

    def step_function(self):
        """forward for one built step (B, F), weights bound once (see RNN.step_function)."""
        w, b, act = self.weight, self.bias, self.activation
        return lambda x: act(F.linear(x, w, b))

    def keras_weights(self) -> list[np.ndarray]:
        w = [self.weight.detach().cpu().numpy().T]
        return w + ([self.bias.detach().cpu().numpy()] if self.use_bias else [])

    def set_keras_weights(self, weights) -> None:
        kernel = np.asarray(weights[0], dtype=np.float32)
        if self.input_size is None:
            self.build(kernel.shape[0])
        if kernel.shape != (self.input_size, self.units):
            raise ValueError(f"Dense {self.name!r}: Keras kernel must be ({self.input_size}, {self.units}), "
                             f"received {kernel.shape}.")
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(kernel.T.copy()))
            if self.use_bias:
                self.bias.copy_(torch.from_numpy(np.asarray(weights[1], dtype=np.float32)))

    def keras_weight_rules(self) -> list[KerasWeight]:
        if self.input_size is None:
            return []
        rules = [transposed(self.weight, self.kernel_regularizer, self.kernel_constraint)]
        if self.bias is not None:
            rules.append(same_layout(self.bias, self.bias_regularizer, self.bias_constraint))
        return rules

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation_name,
                "use_bias": self.use_bias, "input_size": self.input_size, **penalties_config(self, _DENSE_PENALTIES),
                **initializers.configs(kernel_initializer=self.kernel_initializer,
                                       bias_initializer=self.bias_initializer)}


@register_serializable(package=BUILTIN)
class Embedding(Layer, WeightPenalties):
    """Integer ids (batch, time_steps) -> vectors (batch, time_steps, output_dim).

    With `mask_zero=True`, id 0 is padding: its mask reaches the next recurrent layer, which then
    skips those steps as Keras does. `weights` (an (input_dim, output_dim) array, or a list holding one)
    sets the initial vectors, as Keras's argument does; `embeddings` is the table under Keras's name.

    >>> Embedding(10, 3)(torch.tensor([[1, 2, 0]])).shape
    torch.Size([1, 3, 3])
    """

    takes_ids = True

    def __init__(self, input_dim: int, output_dim: int, mask_zero: bool = False,
                 embeddings_initializer="random_uniform", input_length: int | None = None,
                 input_shape=None, batch_input_shape=None, name: str | None = None, weights=None,
                 embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None):
        if input_length is not None and input_shape is None:
            input_shape = (checks.positive_int("input_length", input_length, "Embedding", "time steps"),)
        super().__init__(name, input_shape, batch_input_shape)
        self.embeddings_regularizer = get_regularizer(embeddings_regularizer, "Embedding", "embeddings_regularizer")
        self.embeddings_constraint = get_constraint(embeddings_constraint, "Embedding", "embeddings_constraint")
        self.activity_regularizer = activity_regularizer
        self.input_dim = checks.positive_int("input_dim", input_dim, "Embedding", "the number of distinct ids",
                                             "E.g. Embedding(10000, 64) for ids 0..9999.")
        self.output_dim = checks.positive_int("output_dim", output_dim, "Embedding", "the size of each vector",
                                              "E.g. Embedding(10000, 64).")
        self.mask_zero = checks.boolean("mask_zero", mask_zero, "Embedding")
        checks.weight_size("Embedding", f"input_dim={self.input_dim}, output_dim={self.output_dim}",
                           (self.input_dim, self.output_dim))
        self.supports_masking = self.mask_zero
        self.embeddings_initializer = initializers.for_weight(embeddings_initializer)
        table = torch.empty(self.input_dim, self.output_dim)  # Keras's layout too: fans are Keras's as they are
        initializers.fill(self.embeddings_initializer, (table,), read=lambda w: w, write=lambda v: (v,))
        self.weight = nn.Parameter(table)
        if weights is not None:
            self.set_keras_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    @property
    def embeddings(self) -> nn.Parameter:
        """The (input_dim, output_dim) table, Keras's `embeddings` (`weight` inside, as PyTorch's)."""
        return self.weight

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def forward(self, x, training: bool | None = None) -> Tensor:
        if not torch.compiler.is_compiling():
            self._check_ids(x)
        elif x.numel():
            # Compiled (the compiled train step), a branch on the ids' values would break the graph, and
            # torch.compile would then run the whole step eagerly: the check stays in the graph as an assert,
            # whose failure sends the step to the eager one, which raises the error below.
            torch._assert_async(self._valid_ids(x),
                                f"Embedding {self.name!r}: ids must be integers in [0, {self.input_dim - 1}]")
        return F.embedding(x.long(), self.weight)

    def _valid_ids(self, x: Tensor) -> Tensor:
        """True (a tensor) when every id is an integer in [0, input_dim)."""
        valid = (x.min() >= 0) & (x.max() < self.input_dim)
        return valid & (x == x.round()).all() if x.is_floating_point() else valid

    def _check_ids(self, x: Tensor) -> None:
        if x.is_floating_point() and not bool((x == x.round()).all()):
            raise ValueError(f"Embedding {self.name!r} expects integer ids, received non-integer floats.")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.input_dim):
            raise ValueError(f"Embedding {self.name!r} has input_dim={self.input_dim}: ids must be in "
                             f"[0, {self.input_dim - 1}], received ids in [{int(x.min())}, {int(x.max())}].")

    def compute_mask(self, x, mask=None):
        """True where the id is not 0 (the padding) with mask_zero=True, else None (Keras's rule)."""
        if not self.mask_zero:
            return None
        return (x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))) != 0

    def keras_weights(self):
        return [self.weight.detach().cpu().numpy()]

    def set_keras_weights(self, weights):
        table = np.asarray(weights[0], dtype=np.float32)
        if table.shape != tuple(self.weight.shape):
            raise ValueError(f"Embedding {self.name!r} has a table of shape ({self.input_dim}, {self.output_dim}) "
                             f"(input_dim, output_dim); received weights of shape {table.shape}. Pass an array "
                             "with one row per id and one column per output dimension.")
        with torch.no_grad():
            self.weight.copy_(torch.as_tensor(table))

    def keras_weight_rules(self) -> list[KerasWeight]:
        return [same_layout(self.weight, self.embeddings_regularizer, self.embeddings_constraint)]

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "mask_zero": self.mask_zero, **penalties_config(self, _EMBEDDING_PENALTIES),
                **initializers.configs(embeddings_initializer=self.embeddings_initializer)}


@register_serializable(package=BUILTIN)
class Dropout(Layer):
    """Zero a fraction `rate` of inputs while training; identity at inference.

    >>> Dropout(0.5)(torch.ones(2, 3)).tolist()  # layers run in inference mode outside fit
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, rate: float, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.rate = checks.rate("rate", rate, "Dropout")

    def forward(self, x, training: bool | None = None):
        training = self.training if training is None else training
        return F.dropout(x, self.rate, training=bool(training))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@register_serializable(package=BUILTIN)
class Activation(Layer):
    """Apply a Keras activation by name ('softmax' acts on the last axis).

    >>> Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    acts_on_last_axis = True  # leading axes are batch axes (TimeDistributed relies on it)

    supports_masking = True

    def __init__(self, activation: str | Callable, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.activation_name = activations.name_of(activation)
        self.activation = activations.get(activation)

    def forward(self, x, training: bool | None = None):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation_name}


@register_serializable(package=BUILTIN)
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    >>> Flatten()(torch.zeros(2, 3, 4)).shape
    torch.Size([2, 12])
    """

    def forward(self, x, training: bool | None = None):
        return x.reshape(x.shape[0], -1)


@register_serializable(package=BUILTIN)
class Reshape(Layer):
    """Reshape everything but the batch axis to `target_shape` (one entry may be -1).

    >>> Reshape((3, 4))(torch.zeros(2, 12)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, target_shape, name: str | None = None, input_shape=None):
        super().__init__(name, input_shape)
        self.target_shape = tuple(int(d) for d in target_shape)

    def forward(self, x, training: bool | None = None):
        per_sample = math.prod(x.shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 not in self.target_shape and known != per_sample) or (known == 0 or per_sample % known):
            raise ValueError(f"Reshape {self.name!r}: cannot reshape {tuple(x.shape[1:])} "
                             f"({per_sample} values per sample) to {self.target_shape}.")
        return x.reshape(x.shape[0], *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
