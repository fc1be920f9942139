"""Recurrent layers: the layer owns time (return_sequences, return_state, stateful, go_backwards, masks).

The cell (`cells.py`) does the math of one step. This layer runs it over the time axis, either in
PyTorch's fused kernel (cuDNN on GPU) when that computes exactly the same thing, or in a step loop.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..registry import BUILTIN, register_serializable
from ..cells import Cell, GRUCell, LSTMCell, SimpleRNNCell
from ..convert import to_mask, to_tensor
from ..state import StateStore
from .base import Layer

Tensor = torch.Tensor


class RNN(Layer):
    """A recurrent layer over (batch, time_steps, features) built around a cell.

    Args mirror Keras; `use_fused` ("auto", True, False) chooses PyTorch's fused kernel when it
    computes exactly this layer ("auto"), demands it (True) or forbids it (False).
    """

    supports_masking = True

    def __init__(self, cell: Cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, zero_output_for_mask: bool = False,
                 use_fused: bool | str = "auto", input_shape=None, batch_input_shape=None,
                 batch_size: int | None = None, name: str | None = None):
        super().__init__(name, input_shape, batch_input_shape, batch_size)
        if use_fused not in ("auto", True, False):
            raise ValueError(f"use_fused must be 'auto', True or False, received {use_fused!r}.")
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.zero_output_for_mask = zero_output_for_mask
        self.use_fused = use_fused
        self.last_path: str | None = None  # "fused", "fused-packed" or "loop": what the last call ran
        # Kept states live in a StateStore under this layer's name; a model shares one store with all
        # its layers (rnnkit.state), so nothing else holds a copy.
        self.state_store = StateStore()
        if self.batch_input_shape is not None and not cell.built:
            cell.build(self.batch_input_shape[-1])

    @property
    def units(self) -> int:
        return self.cell.units

    # -- state ----------------------------------------------------------------------------------
    @property
    def state_key(self) -> str:
        """The key of this layer's states in a StateStore: its name."""
        return self.name

    @property
    def states(self) -> list[Tensor] | None:
        """The kept states of a stateful layer ([h, c] for LSTM, [h] otherwise), or None."""
        kept = self.state_store.get(self.name)
        return None if kept is None else list(kept)

    def reset_states(self, states=None) -> None:
        """Zero the kept states (any batch size is accepted next), or set them to `states`."""
        if states is None:
            self.state_store.drop(self.name)
            return
        device = self.cell.weight_hh.device if self.cell.built else None
        checked = self._check_states(states, batch=None, where="reset_states")
        self.state_store.put(self.name, [s.detach().to(device) for s in checked])

    reset_state = reset_states  # Keras 3 spelling

    def _check_states(self, states, batch: int | None, where: str) -> list[Tensor]:
        if isinstance(states, (Tensor, np.ndarray)):
            states = [states]
        states = [to_tensor(s) for s in states]
        n = self.cell.state_count
        names = "[h, c]" if n == 2 else "[h]"
        if len(states) != n:
            raise ValueError(f"{type(self).__name__} {self.name!r}: {where} expects {n} state tensor(s) "
                             f"{names}, received {len(states)}.")
        for s in states:
            if s.dim() != 2 or s.shape[1] != self.units or (batch is not None and s.shape[0] != batch):
                want = f"({batch if batch is not None else 'batch'}, {self.units})"
                raise ValueError(f"{type(self).__name__} {self.name!r}: {where} states must have shape "
                                 f"{want}, received {tuple(s.shape)}.")
        return states

    # -- input checks --------------------------------------------------------------------------------
    def _check_input(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else to_tensor(x)
        kind = type(self).__name__
        if x.dim() == 2:
            n, t = x.shape
            raise ValueError(
                f"{kind} {self.name!r} expected input of shape (batch, time_steps, features), received a "
                f"2-D array of shape {tuple(x.shape)}. If each row is a sequence of {t} steps of one "
                f"feature, did you mean x.reshape({n}, {t}, 1)? If each row is one step of {t} features, "
                f"use x.reshape({n}, 1, {t}).")
        if x.dim() != 3:
            raise ValueError(f"{kind} {self.name!r} expected input of shape (batch, time_steps, features), "
                             f"received {x.dim()}-D input of shape {tuple(x.shape)}.")
        if self.cell.built and x.shape[-1] != self.cell.input_size:
            raise ValueError(
                f"{kind} {self.name!r} was built for {self.cell.input_size} features per step, received "
                f"{x.shape[-1]} (input shape {tuple(x.shape)}). Feed (batch, time_steps, "
                f"{self.cell.input_size}) or build a new layer for {x.shape[-1]} features.")
        if not x.is_floating_point():
            x = x.float()
        return x

    def _initial_states(self, x: Tensor, initial_state, store: StateStore | None = None) -> list[Tensor]:
        B = x.shape[0]
        if initial_state is not None:
            return [s.to(device=x.device, dtype=x.dtype)
                    for s in self._check_states(initial_state, B, "initial_state")]
        kept = (store if store is not None else self.state_store).get(self.name) if self.stateful else None
        if kept is not None:
            kept_batch = kept[0].shape[0]
            if kept_batch != B:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} is stateful and keeps states for a batch of "
                    f"{kept_batch} rows (row i of each batch continues row i of the previous one); this "
                    f"call has {B} rows. Use batch_size={kept_batch}, or call reset_states() first to "
                    f"start new sequences with another batch size.")
            return [s.to(device=x.device, dtype=x.dtype) for s in kept]
        return self.cell.get_initial_state(B, x.dtype, x.device)

    # -- time --------------------------------------------------------------------------------------
    def sequence(self, x, initial_state=None, mask=None, training: bool | None = None,
                 state_store: StateStore | None = None) -> tuple[Tensor, list[Tensor]]:
        """All step outputs (B, T, H) and the final states, without touching kept states.

        Initial states are `initial_state`, else a stateful layer's kept states, else zeros. With
        go_backwards the outputs come in reading order (last input step first), as Keras returns them.
        """
        # B: batch, T: time steps, F: features, H: units
        x = self._check_input(x)  # (B, T, F)
        if not self.cell.built:
            self.cell.build(x.shape[-1])
            self.cell.to(x.device)
        training = self.training if training is None else bool(training)
        states = self._initial_states(x, initial_state, state_store)
        B, T, _ = x.shape
        if mask is not None:
            mask = to_mask(mask, x.device)
            if tuple(mask.shape) != (B, T):
                raise ValueError(f"{type(self).__name__} {self.name!r}: mask must be boolean ({B}, {T}) "
                                 f"like the input's batch and time axes, received {tuple(mask.shape)}.")
            if bool(mask.all()):
                mask = None
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        if training and self.cell.dropout > 0:
            # One dropout mask per sequence, reused at every step (Keras's and Gal & Ghahramani's).
            keep = 1.0 - self.cell.dropout
            x = x * (torch.bernoulli(torch.full((B, 1, x.shape[-1]), keep, device=x.device)) / keep)
        return self._run(x, states, mask, training)  # -> (B, T, H), states

    def forward(self, x, initial_state=None, mask=None, training: bool | None = None,
                state_store: StateStore | None = None):
        """Run the layer. Returns the output, or [output, *states] with return_state=True.

        A stateful layer starts from its kept states and keeps its final ones, in `state_store` when
        given (the compiled train step passes a fresh one, so the call has no side effects), else in
        the store it shares with its model."""
        outputs, states = self.sequence(x, initial_state, mask, training, state_store)
        if self.stateful:
            # Detached: the next batch continues the sequence, but backpropagation stops here
            # (truncated BPTT), so the graph of earlier batches is neither kept nor revisited.
            store = state_store if state_store is not None else self.state_store
            store.put(self.name, [s.detach() for s in states])
        output = outputs if self.return_sequences else states[0]
        return [output, *states] if self.return_state else output

    def step(self, x_t: Tensor, states: list[Tensor]) -> list[Tensor]:
        """One time step (B, F) from `states`, returning the new states (h first); no side effects.

        The cheapest way to advance a layer by one step: no input checks, no kept-state bookkeeping.
        Used by generation, where a step per output is the whole cost.
        """
        if not self.cell.built:
            self.cell.build(x_t.shape[-1])
            self.cell.to(x_t.device)
        return self.step_function(x_t.shape[0])(x_t, states)

    def step_function(self, batch: int):
        """`step` for `batch` rows as a function (x_t, states) -> states, its choices made once.

        Generation and streaming call it for every new value; binding the kernel and the weights here
        takes the module attribute lookups (about a third of a small model's step) out of that loop.
        """
        cell = self.cell
        if self.use_fused is not False and cell.can_fuse(False):
            # one fused kernel call beats ~10 separate tensor ops of the cell math from Python
            if cell.step_kernel(batch) == "cell":
                kernel, weights = cell._vf_cell, cell.step_weights()
                return lambda x_t, states: kernel(x_t, states, *weights)
            return lambda x_t, states: cell.fused(x_t[:, None], states, None, False)[1]
        return lambda x_t, states: cell.step(cell.project(x_t), states, None)

    def _fused_ok(self, mask: Tensor | None, training: bool) -> tuple[bool, Tensor | None]:
        """Whether the fused kernel applies, and the lengths of a right-padded mask if there is one."""
        if self.use_fused is False or not self.cell.can_fuse(training):
            return False, None
        if mask is None:
            return True, None
        lengths = mask.sum(1)
        T = mask.shape[1]
        right_padded = bool((mask == (torch.arange(T, device=mask.device) < lengths[:, None])).all())
        if right_padded and bool((lengths > 0).all()):
            return True, lengths
        return False, None

    def _run(self, x: Tensor, states: list[Tensor], mask: Tensor | None, training: bool):
        if torch.compiler.is_compiling():  # the compiler fuses the cell math itself; it cannot see into _VF kernels
            self.last_path = "loop"
            return self._run_loop(x, states, mask, training)
        fuse, lengths = self._fused_ok(mask, training)
        if self.use_fused is True and not fuse:
            raise ValueError(f"{type(self).__name__} {self.name!r}: use_fused=True but the fused kernel "
                             "does not compute this configuration (it needs the default activations, no "
                             "recurrent dropout while training, GRU reset_after=True, and no mask or a "
                             "right-padded one). Use use_fused='auto'.")
        if fuse and lengths is None:
            self.last_path = "fused"
            return self.cell.fused(x, states, None, training)
        if fuse:
            self.last_path = "fused-packed"
            return self._run_packed(x, states, mask, lengths, training)
        self.last_path = "loop"
        return self._run_loop(x, states, mask, training)

    def _run_packed(self, x, states, mask, lengths, training):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        data, states = self.cell.fused(packed.data, [s[order] for s in states], packed.batch_sizes, training)
        states = [s[unorder] for s in states]
        out, _ = pad_packed_sequence(packed._replace(data=data), batch_first=True,
                                     total_length=x.shape[1])  # -> (B, T, H), zeros where masked
        if not self.zero_output_for_mask:
            # Keras carries the last valid output through masked steps.
            out = torch.where(mask[..., None], out, states[0][:, None, :])
        return out, states

    def _run_loop(self, x, states, mask, training):
        cell = self.cell
        xp = cell.project(x)  # -> (B, T, G*H)
        rec_mask = None
        if training and cell.recurrent_dropout > 0:
            keep = 1.0 - cell.recurrent_dropout
            rec_mask = torch.bernoulli(torch.full((x.shape[0], cell.units), keep, device=x.device)) / keep
        outputs = []
        for t in range(x.shape[1]):
            new = cell.step(xp[:, t], states, rec_mask)
            if mask is not None:
                m = mask[:, t, None]  # (B, 1): masked rows keep their state and repeat their output
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                outputs.append(new[0] * m if self.zero_output_for_mask else new[0])
            else:
                outputs.append(new[0])
            states = new
        return torch.stack(outputs, dim=1), states

    def compute_mask(self, x, mask):
        return mask if self.return_sequences else None

    def get_config(self) -> dict:
        c = self.cell
        config = {"units": c.units, "activation": c.activation_name, "use_bias": c.use_bias,
                  "return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful,
                  "dropout": c.dropout, "recurrent_dropout": c.recurrent_dropout}
        if c.built:
            config["input_size"] = c.input_size
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        return {**super().get_config(), **config}

    def keras_weights(self) -> list[np.ndarray]:
        return self.cell.keras_weights()

    def set_keras_weights(self, weights) -> None:
        self.cell.set_keras_weights(weights)


@register_serializable(package=BUILTIN)
class LSTM(RNN):
    """Long short-term memory layer with Keras's arguments, defaults and outputs.

    Input shape: (batch, time_steps, features). Output: (batch, units), or (batch, time_steps, units)
    with `return_sequences=True`; with `return_state=True` a list [output, h, c].

    >>> layer = LSTM(4, return_sequences=True)
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    >>> [tuple(t.shape) for t in LSTM(4, return_state=True)(torch.zeros(2, 5, 3))]
    [(2, 4), (2, 4), (2, 4)]
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None):
        cell = LSTMCell(units, activation, recurrent_activation, use_bias, unit_forget_bias, dropout,
                        recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                        bias_initializer)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.cell.recurrent_activation_name,
                "unit_forget_bias": self.cell.unit_forget_bias}


@register_serializable(package=BUILTIN)
class GRU(RNN):
    """Gated recurrent unit layer (Keras 3 defaults: `reset_after=True`).

    >>> out, h = GRU(3, return_state=True)(torch.zeros(2, 4, 1))
    >>> tuple(out.shape), tuple(h.shape)
    ((2, 3), (2, 3))
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 reset_after: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None):
        cell = GRUCell(units, activation, recurrent_activation, use_bias, reset_after, dropout,
                       recurrent_dropout, input_size, kernel_initializer, recurrent_initializer,
                       bias_initializer)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.cell.recurrent_activation_name,
                "reset_after": self.cell.reset_after}


@register_serializable(package=BUILTIN)
class SimpleRNN(RNN):
    """Fully connected recurrent layer: h_t = activation(x_t W + b + h_{t-1} U).

    >>> SimpleRNN(2)(torch.zeros(1, 3, 4)).shape
    torch.Size([1, 2])
    """

    def __init__(self, units: int, activation: str | Callable | None = "tanh", use_bias: bool = True,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 zero_output_for_mask: bool = False, use_fused="auto",
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", input_size: int | None = None, input_shape=None,
                 batch_input_shape=None, batch_size: int | None = None, name: str | None = None):
        cell = SimpleRNNCell(units, activation, use_bias, dropout, recurrent_dropout, input_size,
                             kernel_initializer, recurrent_initializer, bias_initializer)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         zero_output_for_mask, use_fused, input_shape, batch_input_shape, batch_size, name)
