"""What the built-in cells share: gate-block weights in PyTorch's layout, Keras weights, fast paths.

A `GatedCell` owns its weights in PyTorch's layout (`weight_ih`: (gates * units, features),
`weight_hh`: (gates * units, units)) so the fused kernels use them as they are, with no re-layout per
call. Gate order is PyTorch's: LSTM (i, f, g, o) -- the same as Keras's (i, f, c, o) -- and GRU
(r, z, n), where Keras stores (z, r, h); `keras_weights`/`set_keras_weights` convert. It declares all
three fast paths of the contract (`cells.base`): `fused_kernel`, `fused_step` and the split step
(`project` + `step`), and `call` is the split step on one input.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, checks, constraints, initializers, regularizers
from .base import Cell
from .dropout import DropoutRNNCell
from .penalties import KerasWeight, WeightPenalties, assign_penalties

Tensor = torch.Tensor


def _permute_gates(matrix: np.ndarray, order: Sequence[int], axis: int) -> np.ndarray:
    blocks = np.split(np.asarray(matrix), len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


_INITIALIZER_KEYS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def initializer_value(init):
    """An initializer as a config holds it: the Keras name of a default one, a Constant's value, else its
    config dict (`initializers.config_value`); None for a custom function, which a JSON config cannot hold."""
    return initializers.config_value(init)


PENALTY_KEYS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint")


def penalty_config(owner, keys=PENALTY_KEYS) -> dict:
    """The regularizers and constraints of `owner` that are set, as a config holds them (a plain
    function, which a config cannot hold, is left out: copies take it from the owner itself)."""
    config = {}
    for key in keys:
        value = getattr(owner, key, None)
        if value is None:
            continue
        module = regularizers if key.endswith("regularizer") else constraints
        saved = module.config_value(value)
        if saved is not None:
            config[key] = saved
    return config


def initializer_config(cell) -> dict:
    """{kernel_initializer, recurrent_initializer, bias_initializer} of a built-in cell, as
    `initializer_value` writes them (custom callables left out)."""
    config = {}
    for key in _INITIALIZER_KEYS:
        value = initializer_value(getattr(cell, key, None))
        if value is not None:
            config[key] = value
    return config


class GatedCell(Cell, DropoutRNNCell, WeightPenalties):
    """A cell computing `gates` blocks of (x W + h U + b); subclasses implement `step`/`_vf_call`."""

    gates: int = 1
    keras_gate_order: tuple[int, ...] | None = None  # torch block k comes from keras block order[k]

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer: initializers.Initializer = "glorot_uniform",
                 recurrent_initializer: initializers.Initializer = "orthogonal",
                 bias_initializer: initializers.Initializer = "zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None):
        super().__init__()
        where = type(self).__name__
        self.units = checks.positive_int("units", units, where, "the size of the state",
                                         f"E.g. {where.removesuffix('Cell')}(4).")
        dropout = checks.rate("dropout", dropout, where, "the fraction of inputs to drop")
        recurrent_dropout = checks.rate("recurrent_dropout", recurrent_dropout, where,
                                        "the fraction of the recurrent state to drop")
        input_size = checks.optional_positive_int("input_size", input_size, where, "features per step")
        # Refused before any weight exists: the recurrent kernel's size is known from units alone.
        G, H = self.gates, self.units
        checks.weight_size(where, f"units={H}", (G * H, H))
        if input_size is not None:
            checks.weight_size(where, f"input_size={input_size}", (G * H, input_size))
        self.activation_name = activations.name_of(activation)
        self.recurrent_activation_name = activations.name_of(recurrent_activation)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = checks.boolean("use_bias", use_bias, where)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.kernel_initializer = initializers.for_weight(kernel_initializer)
        self.recurrent_initializer = initializers.for_weight(recurrent_initializer)
        self.bias_initializer = initializers.for_weight(bias_initializer)
        assign_penalties(self, where, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         recurrent_regularizer=recurrent_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        if input_size is not None:
            self.build(input_size)

    # -- weights ----------------------------------------------------------------------------------
    def _has_bias_hh(self) -> bool:
        return False

    def build(self, input_size: int) -> None:
        G, H = self.gates, self.units
        super().build(input_size)
        self.weight_ih = nn.Parameter(torch.empty(G * H, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(G * H, H))
        self.bias_ih = nn.Parameter(torch.zeros(G * H)) if self.use_bias else None
        self.bias_hh = nn.Parameter(torch.zeros(G * H)) if self.use_bias and self._has_bias_hh() else None
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A lazily-sized cell learns its input size from the weights it is given.
        key = prefix + "weight_ih"
        if not self.built and key in state_dict:
            self.build(state_dict[key].shape[1])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def reset_parameters(self) -> None:
        # Each Keras variable filled as Keras fills it: its shape and fans, Keras's gate order, GRU's two
        # biases as one (2, 3H) variable (a plain function fills each PyTorch weight instead).
        inits = (self.kernel_initializer, self.recurrent_initializer, self.bias_initializer)
        for rule, init in zip(self.keras_weight_rules(), inits):
            initializers.fill(init, rule.params, rule.read, rule.write)

    def get_config(self) -> dict:
        """The constructor arguments, initializers included (as their Keras name or constant value;
        a custom callable, which a saved config cannot hold, is left out)."""
        config = {"units": self.units, "activation": self.activation_name, "use_bias": self.use_bias,
                  "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}
        if self.built:
            config["input_size"] = self.input_size
        config.update(initializer_config(self))
        config.update(penalty_config(self))
        return config

    def keras_weight_rules(self) -> list[KerasWeight]:
        """kernel (F, G*H), recurrent_kernel (H, G*H) and bias as Keras holds them (Keras's gate order;
        a GRU with reset_after has one (2, 3H) bias made of bias_ih and bias_hh)."""
        if not self.built:
            return []
        H = self.units
        order = self.keras_gate_order
        if order is None:
            def rows(w):
                return w

            unrows = rows
        else:  # keras column block j is torch row block inverse[j]; torch block k is keras block order[k]
            inverse = np.argsort(order)
            keras_rows = torch.cat([torch.arange(H) + int(inverse[j]) * H for j in range(len(order))])
            torch_rows = torch.cat([torch.arange(H) + int(order[k]) * H for k in range(len(order))])

            def rows(w):
                return w[keras_rows.to(w.device)]

            def unrows(w):
                return w[torch_rows.to(w.device)]
        rules = [KerasWeight((self.weight_ih,), lambda w: rows(w).t(), lambda k: (unrows(k.t()),),
                             self.kernel_regularizer, self.kernel_constraint),
                 KerasWeight((self.weight_hh,), lambda w: rows(w).t(), lambda k: (unrows(k.t()),),
                             self.recurrent_regularizer, self.recurrent_constraint)]
        if self.bias_hh is not None:
            rules.append(KerasWeight((self.bias_ih, self.bias_hh), lambda a, b: torch.stack([rows(a), rows(b)]),
                                     lambda k: (unrows(k[0]), unrows(k[1])), self.bias_regularizer,
                                     self.bias_constraint))
        elif self.bias_ih is not None:
            rules.append(KerasWeight((self.bias_ih,), rows, lambda k: (unrows(k),), self.bias_regularizer,
                                     self.bias_constraint))
        return rules

    def keras_weights(self) -> list[np.ndarray]:
        """The weights as Keras lists them: [kernel, recurrent_kernel, bias]."""
        order = self.keras_gate_order or tuple(range(self.gates))
        inverse = tuple(int(k) for k in np.argsort(order))
        kernel = _permute_gates(self.weight_ih.detach().cpu().numpy().T, inverse, axis=1)
        recurrent = _permute_gates(self.weight_hh.detach().cpu().numpy().T, inverse, axis=1)
        out = [kernel, recurrent]
        if self.use_bias:
            b_ih = _permute_gates(self.bias_ih.detach().cpu().numpy(), inverse, axis=0)
            if self.bias_hh is not None:
                b_hh = _permute_gates(self.bias_hh.detach().cpu().numpy(), inverse, axis=0)
                out.append(np.stack([b_ih, b_hh]))
            else:
                out.append(b_ih)
        return out

    def set_keras_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Load Keras's [kernel (F, G*H), recurrent_kernel (H, G*H), bias] into this cell."""
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        expected = 3 if self.use_bias else 2
        if len(weights) != expected:
            raise ValueError(f"expected {expected} Keras weight arrays [kernel, recurrent_kernel"
                             f"{', bias' if self.use_bias else ''}], received {len(weights)}.")
        kernel, recurrent = weights[0], weights[1]
        G, H = self.gates, self.units
        if kernel.ndim != 2 or kernel.shape[1] != G * H or recurrent.shape != (H, G * H):
            raise ValueError(f"Keras kernel must be (features, {G * H}) and recurrent kernel ({H}, {G * H}); "
                             f"received {kernel.shape} and {recurrent.shape}.")
        if not self.built:
            self.build(kernel.shape[0])
        elif kernel.shape[0] != self.input_size:
            raise ValueError(f"Keras kernel has {kernel.shape[0]} input features, this cell was built "
                             f"with {self.input_size}.")
        order = self.keras_gate_order or tuple(range(G))
        dev = self.weight_ih.device
        with torch.no_grad():
            self.weight_ih.copy_(torch.from_numpy(_permute_gates(kernel, order, 1).T.copy()).to(dev))
            self.weight_hh.copy_(torch.from_numpy(_permute_gates(recurrent, order, 1).T.copy()).to(dev))
            if self.use_bias:
                bias = weights[2]
                if self.bias_hh is not None:
                    if bias.shape != (2, G * H):
                        raise ValueError(f"Keras bias must be (2, {G * H}) with reset_after=True, received "
                                         f"{bias.shape}.")
                    self.bias_ih.copy_(torch.from_numpy(_permute_gates(bias[0], order, 0)).to(dev))
                    self.bias_hh.copy_(torch.from_numpy(_permute_gates(bias[1], order, 0)).to(dev))
                else:
                    if bias.shape != (G * H,):
                        raise ValueError(f"Keras bias must be ({G * H},), received {bias.shape}.")
                    self.bias_ih.copy_(torch.from_numpy(_permute_gates(bias, order, 0)).to(dev))

    # -- math: the split step ---------------------------------------------------------------------
    def project(self, x: Tensor) -> Tensor:
        """Input contribution of every step at once: one matrix product instead of T small ones."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def step(self, xp_t: Tensor, states: list[Tensor], rec_mask: Tensor | None) -> list[Tensor]:
        """New states from the projected input `xp_t`; `rec_mask` (or None) multiplies h first."""
        raise NotImplementedError

    def call(self, inputs: Tensor, states: list[Tensor], training: bool = False) -> tuple[Tensor, list[Tensor]]:
        """One step. While training, the dropout masks are kept for the whole sequence (the mixin's),
        as the split step keeps them: this is how a cell inside `StackedRNNCells` drops out."""
        rec_mask = None
        if training:
            input_mask = self.get_dropout_mask(inputs)
            inputs = inputs if input_mask is None else inputs * input_mask
            rec_mask = self.get_recurrent_dropout_mask(states[0])
        new = self.step(self.project(inputs), states, rec_mask)
        return new[0], new

    # -- fast paths -------------------------------------------------------------------------------
    def can_fuse(self, training: bool) -> bool:
        """Whether PyTorch's fused kernel computes exactly this cell."""
        no_rec_dropout = not (training and self.recurrent_dropout > 0)
        return (no_rec_dropout and self.activation_name == "tanh"
                and self.recurrent_activation_name == "sigmoid")

    def fused_kernel(self, training: bool) -> Callable | None:
        return functools.partial(self.fused, training=training) if self.can_fuse(training) else None

    def fused_step(self, batch: int) -> Callable | None:
        if not self.can_fuse(False):
            return None
        # one fused kernel call beats ~10 separate tensor ops of the cell math from Python
        if self.step_kernel(batch) == "cell":
            kernel, weights = self._vf_cell, self.step_weights()
            return lambda x_t, states: kernel(x_t, states, *weights)
        return lambda x_t, states: self.fused(x_t[:, None], states, None, False)[1]

    def _flat_weights(self) -> tuple[list[Tensor], bool]:
        if not self.use_bias:
            return [self.weight_ih, self.weight_hh], False
        # Keras has one bias where PyTorch's kernel adds two; the second one is zero.
        bias_hh = self.bias_hh if self.bias_hh is not None else torch.zeros_like(self.bias_ih)
        return [self.weight_ih, self.weight_hh, self.bias_ih, bias_hh], True

    def fused(self, x: Tensor, states: list[Tensor], batch_sizes: Tensor | None,
              training: bool) -> tuple[Tensor, list[Tensor]]:
        """Run the whole sequence in PyTorch's fused kernel (cuDNN on GPU).

        `x` is (B, T, F) batch-first, or packed data when `batch_sizes` is given.
        """
        weights, has_biases = self._flat_weights()
        hx = [s.unsqueeze(0) for s in states]
        out = self._vf_call(x, batch_sizes, hx, weights, has_biases, training)
        return out[0], [s.squeeze(0) for s in out[1:]]

    def step_weights(self) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh) as the single-step kernels take them; b_hh is None where Keras has
        one bias (LSTM, SimpleRNN), both are None without bias."""
        if not self.use_bias:
            return self.weight_ih, self.weight_hh, None, None
        b_hh = self.bias_hh
        if b_hh is None and self.bias_ih.device.type != "cpu":
            # CUDA's fused single-step kernels take both biases or neither (one undefined one fails
            # with "sym_strides() called on an undefined Tensor"); the CPU kernel adds nothing for None.
            b_hh = torch.zeros_like(self.bias_ih)
        return self.weight_ih, self.weight_hh, self.bias_ih, b_hh

    def step_kernel(self, batch: int) -> str:
        """"cell" or "sequence": the faster fused kernel for one step of `batch` rows (measured).

        "cell" is PyTorch's single-step kernel (`_vf_cell`, the same arithmetic as `fused` on one
        step); oneDNN's sequence kernel has a fixed set-up cost that dominates small steps (15 us
        against 50 us for one series of LSTM(4) on this CPU)."""
        return "cell"
