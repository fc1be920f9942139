"""Recurrent cells: the math of one time step, with the gate names of the equations.

A cell owns the weights in PyTorch's layout (`weight_ih`: (gates * units, features), `weight_hh`:
(gates * units, units)) so the fused kernels can use them as they are, with no re-layout per call.
Gate order is PyTorch's: LSTM (i, f, g, o) -- the same as Keras's (i, f, c, o) -- and GRU (r, z, n),
where Keras stores (z, r, h); `keras_weights`/`set_keras_weights` convert.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import activations, initializers

Tensor = torch.Tensor


def _permute_gates(matrix: np.ndarray, order: Sequence[int], units: int, axis: int) -> np.ndarray:
    blocks = np.split(np.asarray(matrix), len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


class Cell(nn.Module):
    """One recurrent step. Subclasses set `gates`, `state_size` and implement `step`/`_vf_call`."""

    gates: int = 1
    state_count: int = 1
    keras_gate_order: tuple[int, ...] | None = None  # torch block k comes from keras block order[k]

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer: initializers.Initializer = "glorot_uniform",
                 recurrent_initializer: initializers.Initializer = "orthogonal",
                 bias_initializer: initializers.Initializer = "zeros"):
        super().__init__()
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer (the size of the state), received {units!r}.")
        for arg, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(value) < 1.0:
                raise ValueError(f"{arg} must be in [0, 1), received {value!r}.")
        self.units = int(units)
        self.activation_name = activations.name_of(activation)
        self.recurrent_activation_name = activations.name_of(recurrent_activation)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.input_size: int | None = None
        if input_size is not None:
            self.build(input_size)

    # -- weights ----------------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.input_size is not None

    def _has_bias_hh(self) -> bool:
        return False

    def build(self, input_size: int) -> None:
        G, H = self.gates, self.units
        self.input_size = int(input_size)
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
        self.kernel_initializer(self.weight_ih)
        self.recurrent_initializer(self.weight_hh)
        for bias in (self.bias_ih, self.bias_hh):
            if bias is not None:
                self.bias_initializer(bias)

    def get_initial_state(self, batch_size: int, dtype: torch.dtype | None = None,
                          device: torch.device | str | None = None) -> list[Tensor]:
        """Zero states, one (batch_size, units) tensor per state (h, or h and c)."""
        dtype = dtype or torch.get_default_dtype()
        return [torch.zeros(batch_size, self.units, dtype=dtype, device=device)
                for _ in range(self.state_count)]

    def keras_weights(self) -> list[np.ndarray]:
        """The weights as Keras lists them: [kernel, recurrent_kernel, bias]."""
        order = self.keras_gate_order or tuple(range(self.gates))
        inverse = tuple(int(k) for k in np.argsort(order))
        kernel = _permute_gates(self.weight_ih.detach().cpu().numpy().T, inverse, self.units, axis=1)
        recurrent = _permute_gates(self.weight_hh.detach().cpu().numpy().T, inverse, self.units, axis=1)
        out = [kernel, recurrent]
        if self.use_bias:
            b_ih = _permute_gates(self.bias_ih.detach().cpu().numpy(), inverse, self.units, axis=0)
            if self.bias_hh is not None:
                b_hh = _permute_gates(self.bias_hh.detach().cpu().numpy(), inverse, self.units, axis=0)
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
            self.weight_ih.copy_(torch.from_numpy(_permute_gates(kernel, order, H, 1).T.copy()).to(dev))
            self.weight_hh.copy_(torch.from_numpy(_permute_gates(recurrent, order, H, 1).T.copy()).to(dev))
            if self.use_bias:
                bias = weights[2]
                if self.bias_hh is not None:
                    if bias.shape != (2, G * H):
                        raise ValueError(f"Keras bias must be (2, {G * H}) with reset_after=True, received {bias.shape}.")
                    self.bias_ih.copy_(torch.from_numpy(_permute_gates(bias[0], order, H, 0)).to(dev))
                    self.bias_hh.copy_(torch.from_numpy(_permute_gates(bias[1], order, H, 0)).to(dev))
                else:
                    if bias.shape != (G * H,):
                        raise ValueError(f"Keras bias must be ({G * H},), received {bias.shape}.")
                    self.bias_ih.copy_(torch.from_numpy(_permute_gates(bias, order, H, 0)).to(dev))

    # -- math ---------------------------------------------------------------------------------------
    def project(self, x: Tensor) -> Tensor:
        """Input contribution of every step at once: one matrix product instead of T small ones."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def step(self, xp_t: Tensor, states: list[Tensor], rec_mask: Tensor | None) -> list[Tensor]:
        raise NotImplementedError

    def can_fuse(self, training: bool) -> bool:
        """Whether PyTorch's fused kernel computes exactly this cell."""
        no_rec_dropout = not (training and self.recurrent_dropout > 0)
        return (no_rec_dropout and self.activation_name == "tanh"
                and self.recurrent_activation_name == "sigmoid")

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
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def step_kernel(self, batch: int) -> str:
        """"cell" or "sequence": the faster fused kernel for one step of `batch` rows (measured).

        "cell" is PyTorch's single-step kernel (`_vf_cell`, the same arithmetic as `fused` on one
        step); oneDNN's sequence kernel has a fixed set-up cost that dominates small steps (15 us
        against 50 us for one series of LSTM(4) on this CPU)."""
        return "cell"

    def forward(self, x_t: Tensor, states: list[Tensor] | Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
        """One step, as Keras's cell call: (B, F) and states -> (output, new states)."""
        if not self.built:
            self.build(x_t.shape[-1])
        if states is None:
            states = self.get_initial_state(x_t.shape[0], x_t.dtype, x_t.device)
        elif isinstance(states, Tensor):
            states = [states]
        new = self.step(self.project(x_t), list(states), None)
        return new[0], new


class LSTMCell(Cell):
    """Long short-term memory cell (Keras's `LSTMCell` math, PyTorch's weight layout)."""

    gates = 4
    state_count = 2

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros"):
        self.unit_forget_bias = unit_forget_bias
        super().__init__(units, activation, recurrent_activation, use_bias, dropout,
                         recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                         bias_initializer)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.use_bias and self.unit_forget_bias:
            # A forget gate that starts open (bias 1) lets gradients flow through c from the start
            # (Jozefowicz et al., 2015); Keras does this by default.
            with torch.no_grad():
                self.bias_ih[self.units:2 * self.units] = 1.0

    def step(self, xp_t, states, rec_mask):
        h, c = states
        h_in = h if rec_mask is None else h * rec_mask
        z = xp_t + F.linear(h_in, self.weight_hh)  # -> (B, 4H)
        i, f, g, o = z.chunk(4, dim=1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c + i * self.activation(g)
        h = o * self.activation(c)
        return [h, c]

    def step_kernel(self, batch: int) -> str:
        # oneDNN's sequence kernel wins from ~100 rows up (2x at 400 rows of LSTM(128)); below, its
        # set-up cost dominates and the cell kernel is up to 3x faster (measured: benchmarks/NOTES.md).
        return "cell" if batch <= 64 else "sequence"

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        return list(torch._VF.lstm_cell(x_t, states, w_ih, w_hh, b_ih, b_hh))

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        if batch_sizes is None:
            return torch._VF.lstm(x, hx, weights, has_biases, 1, 0.0, training, False, True)
        return torch._VF.lstm(x, batch_sizes, hx, weights, has_biases, 1, 0.0, training, False)


class GRUCell(Cell):
    """Gated recurrent unit cell. `reset_after=True` (Keras 3's default) is the cuDNN variant."""

    gates = 3
    state_count = 1
    keras_gate_order = (1, 0, 2)  # torch (r, z, n) <- keras (z, r, h)

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, reset_after: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros"):
        self.reset_after = reset_after
        super().__init__(units, activation, recurrent_activation, use_bias, dropout,
                         recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                         bias_initializer)

    def _has_bias_hh(self) -> bool:
        return self.reset_after

    def step(self, xp_t, states, rec_mask):
        (h,) = states
        h_in = h if rec_mask is None else h * rec_mask
        H = self.units
        x_r, x_z, x_n = xp_t.chunk(3, dim=1)
        if self.reset_after:
            h_r, h_z, h_n = F.linear(h_in, self.weight_hh, self.bias_hh).chunk(3, dim=1)
            r = self.recurrent_activation(x_r + h_r)
            z = self.recurrent_activation(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            h_r, h_z = F.linear(h_in, self.weight_hh[:2 * H]).chunk(2, dim=1)
            r = self.recurrent_activation(x_r + h_r)
            z = self.recurrent_activation(x_z + h_z)
            n = self.activation(x_n + F.linear(r * h_in, self.weight_hh[2 * H:]))
        return [z * h + (1.0 - z) * n]

    def can_fuse(self, training):
        return self.reset_after and super().can_fuse(training)

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        return [torch._VF.gru_cell(x_t, states[0], w_ih, w_hh, b_ih, b_hh)]

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        if batch_sizes is None:
            return torch._VF.gru(x, hx[0], weights, has_biases, 1, 0.0, training, False, True)
        return torch._VF.gru(x, batch_sizes, hx[0], weights, has_biases, 1, 0.0, training, False)


class SimpleRNNCell(Cell):
    """Fully connected recurrence: h = activation(x W + b + h U)."""

    gates = 1
    state_count = 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, input_size: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros"):
        super().__init__(units, activation, None, use_bias, dropout, recurrent_dropout, input_size,
                         kernel_initializer, recurrent_initializer, bias_initializer)

    def step(self, xp_t, states, rec_mask):
        (h,) = states
        h_in = h if rec_mask is None else h * rec_mask
        return [self.activation(xp_t + F.linear(h_in, self.weight_hh))]

    def can_fuse(self, training):
        no_rec_dropout = not (training and self.recurrent_dropout > 0)
        return no_rec_dropout and self.activation_name in ("tanh", "relu")

    def _vf_cell(self, x_t, states, w_ih, w_hh, b_ih, b_hh):
        fn = torch._VF.rnn_tanh_cell if self.activation_name == "tanh" else torch._VF.rnn_relu_cell
        return [fn(x_t, states[0], w_ih, w_hh, b_ih, b_hh)]

    def _vf_call(self, x, batch_sizes, hx, weights, has_biases, training):
        fn = torch._VF.rnn_tanh if self.activation_name == "tanh" else torch._VF.rnn_relu
        if batch_sizes is None:
            return fn(x, hx[0], weights, has_biases, 1, 0.0, training, False, True)
        return fn(x, batch_sizes, hx[0], weights, has_biases, 1, 0.0, training, False)
