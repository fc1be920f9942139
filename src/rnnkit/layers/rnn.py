"""Recurrent layers: the layer owns time (return_sequences, return_state, stateful, go_backwards, masks).

The cell (`rnnkit.cells`) does the math of one step. `RNN(cell)` runs any cell that follows the
contract in `cells/base.py` over the time axis: in the cell's fused kernel when it declares one that
computes exactly this call (cuDNN on GPU for the built-in cells), in its split step (`project` once,
then `step`) when it declares that, else by calling `cell.call(x_t, states)` step by step.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .. import checks, regularizers
from ..registry import BUILTIN, register_serializable
from ..cells.base import (as_states, build_cell, check_cell, declares_fused_kernel, has_split_step,
                          initial_states, nest_states, output_size, state_sizes)
from ..cells.dropout import reset_dropout_masks
from ..cells.stacked import StackedRNNCells
from ..convert import to_mask, to_tensor
from ..state import StateStore
from .base import Layer
from .serialize import deserialize, serialize

Tensor = torch.Tensor


@register_serializable(package=BUILTIN)
class RNN(Layer):
    """A recurrent layer over (batch, time_steps, features) built around a cell (Keras's `RNN`).

    Args:
        cell: a cell (see `rnnkit.cells.base`: `state_size` and `call(inputs, states)`), a list of cells
            (run as one `StackedRNNCells`), or its saved config {"class_name", "config"}.
        return_sequences, return_state, go_backwards, stateful, zero_output_for_mask: as in Keras.
        use_fused: "auto" uses the cell's fused kernel when it computes exactly this call, True
            demands it, False forbids it.
        input_size: features per step, to build the cell now (the config records it once known, as
            Keras's build config does, so a layer rebuilt from it takes the saved weights).
        unroll: Keras's argument, kept in the config. It changes how Keras builds its graph, never the
            result; rnnkit's step loop is a Python loop, which is unrolled already.
        activity_regularizer: a penalty on the outputs (`rnnkit.regularizers`), listed in `losses`.

    >>> from rnnkit.cells import Cell
    >>> class Sum(Cell):  # h' = h + x
    ...     state_size = 3
    ...     def call(self, inputs, states):
    ...         return states[0] + inputs, [states[0] + inputs]
    >>> out, h = RNN(Sum(), return_sequences=True, return_state=True)(torch.ones(2, 5, 3))
    >>> tuple(out.shape), tuple(h.shape), float(h[0, 0])
    ((2, 5, 3), (2, 3), 5.0)
    """

    supports_masking = True

    def __init__(self, cell: nn.Module | dict, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, zero_output_for_mask: bool = False,
                 use_fused: bool | str = "auto", input_shape=None, batch_input_shape=None,
                 batch_size: int | None = None, name: str | None = None, unroll: bool = False,
                 input_size: int | None = None, activity_regularizer=None):
        super().__init__(name, input_shape, batch_input_shape, batch_size)
        self.activity_regularizer = activity_regularizer
        if use_fused not in ("auto", True, False):
            raise ValueError(f"use_fused must be 'auto', True or False, received {use_fused!r}.")
        if isinstance(cell, dict):  # a saved config: how Bidirectional copies a layer
            cell = deserialize(cell)
        if isinstance(cell, (list, tuple)):  # Keras's RNN([cell, cell])
            cell = StackedRNNCells(cell)
        check_cell(cell)
        if use_fused is True and not declares_fused_kernel(cell):
            raise ValueError(f"RNN: use_fused=True but {type(cell).__name__} declares no fused kernel (a "
                             "fused_kernel(training) method, see rnnkit.cells.base); its call runs step by "
                             "step. Use use_fused='auto' (or False).")
        self.cell = cell
        where = type(self).__name__  # 'False' is a true string: refuse it rather than act on it
        self.return_sequences = checks.boolean("return_sequences", return_sequences, where)
        self.return_state = checks.boolean("return_state", return_state, where)
        self.go_backwards = checks.boolean("go_backwards", go_backwards, where)
        self.stateful = checks.boolean("stateful", stateful, where)
        self.zero_output_for_mask = checks.boolean("zero_output_for_mask", zero_output_for_mask, where)
        self.unroll = checks.boolean("unroll", unroll, where)
        self.use_fused = use_fused
        # What the cell declares, read once: the split step (whose output is h = states[0]), and
        # whether its call takes `training` (Keras passes it then).
        self._split = has_split_step(cell)
        self._call_takes_training = "training" in inspect.signature(cell.call).parameters
        self.last_path: str | None = None  # "fused", "fused-packed", "loop" or "call": what the last call ran
        # Kept states live in a StateStore under this layer's name; a model shares one store with all
        # its layers (rnnkit.state), so nothing else holds a copy.
        self.state_store = StateStore()
        input_size = checks.optional_positive_int("input_size", input_size, where, "features per step")
        if input_size is None and self.batch_input_shape is not None:
            input_size = self.batch_input_shape[-1]
        if input_size is not None and not getattr(cell, "built", False):
            build_cell(cell, input_size)

    @property
    def units(self) -> int:
        """The size of each step's output (the cell's output size)."""
        return output_size(self.cell)

    @property
    def input_size(self) -> int | None:
        """Features per step the cell reads, once known."""
        return getattr(self.cell, "input_size", None)

    def get_initial_state(self, batch_size: int, dtype: torch.dtype = torch.float32, device=None) -> list[Tensor]:
        """The cell's first states for `batch_size` rows (zeros unless the cell says otherwise)."""
        return initial_states(self.cell, batch_size, dtype, device if device is not None else self._device())

    def _device(self) -> torch.device | None:
        return next((p.device for p in self.cell.parameters()), None)

    def awaiting_build(self) -> bool:
        return not getattr(self.cell, "built", False) and hasattr(self.cell, "build")

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
        if not self.stateful:
            raise ValueError(f"{type(self).__name__} {self.name!r} is not stateful, so it keeps no states and "
                             "states set here would be ignored. Build it with stateful=True, or pass the "
                             "states to the call: layer(x, initial_state=[...]).")
        device = self._device()
        checked = self._check_states(states, batch=None, where="reset_states")
        self.state_store.put(self.name, [s.detach().to(device) for s in checked])

    reset_state = reset_states  # Keras 3 spelling

    def _apply(self, fn, *args, **kwargs):
        # Kept states follow the weights: model.to("cuda"), .double() move and cast them too.
        super()._apply(fn, *args, **kwargs)
        kept = self.state_store.get(self.state_key)
        if kept is not None:
            self.state_store.put(self.state_key, [fn(s) for s in kept])
        return self

    def _check_states(self, states, batch: int | None, where: str) -> list[Tensor]:
        if isinstance(states, (Tensor, np.ndarray)):
            states = [states]
        # a stack's states may come nested, one entry per cell, as Keras returns them
        states = [to_tensor(t) for s in states for t in (s if isinstance(s, (list, tuple)) else [s])]
        sizes = state_sizes(self.cell)
        n = len(sizes)
        names = ("[h, c]" if n == 2 else "[h]") if self._split else f"of sizes {sizes}"
        if len(states) != n:
            raise ValueError(f"{type(self).__name__} {self.name!r}: {where} expects {n} state tensor(s) "
                             f"{names}, received {len(states)}.")
        for s, size in zip(states, sizes):
            if s.dim() != 2 or s.shape[1] != size or (batch is not None and s.shape[0] != batch):
                want = f"({batch if batch is not None else 'batch'}, {size})"
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
        if x.shape[1] == 0 or x.shape[2] == 0:
            axis = "time_steps" if x.shape[1] == 0 else "features"
            raise ValueError(f"{kind} {self.name!r} expected at least one time step of at least one feature, "
                             f"received input of shape {tuple(x.shape)} (no {axis}). Drop empty sequences, or "
                             "pad them to one length, e.g. with rnnkit.data.windows or np.pad.")
        size = self.input_size
        if size is not None and x.shape[-1] != size:
            raise ValueError(
                f"{kind} {self.name!r} was built for {size} features per step, received "
                f"{x.shape[-1]} (input shape {tuple(x.shape)}). Feed (batch, time_steps, "
                f"{size}) or build a new layer for {x.shape[-1]} features.")
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
        return initial_states(self.cell, B, x.dtype, x.device)

    # -- time --------------------------------------------------------------------------------------
    def sequence(self, x, initial_state=None, mask=None, training: bool | None = None,
                 state_store: StateStore | None = None) -> tuple[Tensor, list[Tensor]]:
        """All step outputs (B, T, H) and the final states, without touching kept states.

        Initial states are `initial_state`, else a stateful layer's kept states, else the cell's
        initial ones. With go_backwards the outputs come in reading order (last input step first), as
        Keras returns them.
        """
        # B: batch, T: time steps, F: features, H: units
        x = self._check_input(x)  # (B, T, F)
        cell = self.cell
        if not getattr(cell, "built", False):
            build_cell(cell, x.shape[-1])
            cell.to(x.device)
        training = self.training if training is None else bool(training)
        states = self._initial_states(x, initial_state, state_store)
        B, T, _ = x.shape
        if mask is not None:
            mask = to_mask(mask, x.device)
            if tuple(mask.shape) != (B, T):
                raise ValueError(f"{type(self).__name__} {self.name!r}: mask must be boolean ({B}, {T}) "
                                 f"like the input's batch and time axes, received {tuple(mask.shape)}.")
            if not torch.compiler.is_compiling() and bool(mask.all()):  # value-dependent: eager only
                mask = None  # (compiled, the masked loop computes the same for a mask of all True)
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        if training and self._split and cell.dropout > 0:
            # One dropout mask per sequence, reused at every step (Keras's and Gal & Ghahramani's).
            keep = 1.0 - cell.dropout
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
        if self.return_sequences:
            output = outputs
        else:  # a split-step cell's output is h; another cell's last output is its own (Keras's rule)
            output = states[0] if self._split else outputs[:, -1]
        return [output, *nest_states(self.cell, states)] if self.return_state else output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        """The output shape for input `sequences_shape` (None for unknown sizes), and with return_state
        the states' shapes after it, nested as the states are (Keras's `compute_output_shape`)."""
        B, T = sequences_shape[0], sequences_shape[1]
        output = (B, T, self.units) if self.return_sequences else (B, self.units)
        if not self.return_state:
            return output
        return (output, *nest_states(self.cell, [(B, size) for size in state_sizes(self.cell)]))

    def step(self, x_t: Tensor, states: list[Tensor]) -> list[Tensor]:
        """One time step (B, F) from `states`, returning the new states (h first); no side effects.

        The cheapest way to advance a layer by one step: no input checks, no kept-state bookkeeping.
        Used by generation, where a step per output is the whole cost (and the first new state is
        taken as the step's output, as it is for the built-in cells).
        """
        if not getattr(self.cell, "built", False):
            build_cell(self.cell, x_t.shape[-1])
            self.cell.to(x_t.device)
        return self.step_function(x_t.shape[0])(x_t, states)

    def step_function(self, batch: int) -> Callable[[Tensor, list[Tensor]], list[Tensor]]:
        """`step` for `batch` rows as a function (x_t, states) -> states, its choices made once.

        Generation and streaming call it for every new value; binding the kernel and the weights here
        takes the module attribute lookups (about a third of a small model's step) out of that loop.
        """
        cell = self.cell
        hook = getattr(cell, "fused_step", None) if self.use_fused is not False else None
        fused = hook(batch) if hook is not None else None
        if fused is not None:
            return fused
        if self._split:
            return lambda x_t, states: cell.step(cell.project(x_t), states, None)
        call = self._bound_call(False)
        return lambda x_t, states: as_states(call(x_t, states)[1])

    def output_step_function(self, batch: int) -> Callable[[Tensor, list[Tensor]], tuple[Tensor, list[Tensor]]]:
        """`step_function` returning (output, new states): the step's output is the first new state for
        cells with a split step or a fused step (h), and what `call` returns for any other cell."""
        if self._split or (self.use_fused is not False and getattr(self.cell, "fused_step", None) is not None
                           and self.cell.fused_step(batch) is not None):
            step = self.step_function(batch)
            return lambda x_t, states: _with_output(step(x_t, states))
        call = self._bound_call(False)
        return lambda x_t, states: _output_and_states(call(x_t, states))

    def _bound_call(self, training: bool) -> Callable:
        call = self.cell.call
        return functools.partial(call, training=training) if self._call_takes_training else call

    def _fused_kernel(self, mask: Tensor | None, training: bool) -> tuple[Callable | None, Tensor | None]:
        """The cell's fused kernel if it applies (else None), and the lengths of a right-padded mask."""
        hook = getattr(self.cell, "fused_kernel", None) if self.use_fused is not False else None
        kernel = hook(training) if hook is not None else None
        if kernel is None or mask is None:
            return kernel, None
        lengths = mask.sum(1)
        T = mask.shape[1]
        right_padded = bool((mask == (torch.arange(T, device=mask.device) < lengths[:, None])).all())
        if right_padded and bool((lengths > 0).all()):
            return kernel, lengths
        return None, None

    def _run(self, x: Tensor, states: list[Tensor], mask: Tensor | None, training: bool):
        loop, path = (self._run_loop, "loop") if self._split else (self._run_calls, "call")
        # Compiled, the compiler fuses the cell math itself (it cannot see into _VF kernels). Under a torch.func
        # transform (the compiled train step's grad_and_value, run eagerly where torch.compile gives up on it),
        # the packed-sequence kernel of a mask reads the storage of functorch's wrapper tensors, which have none.
        if torch.compiler.is_compiling() or (mask is not None and _in_func_transform()):
            self.last_path = path
            return loop(x, states, mask, training)
        kernel, lengths = self._fused_kernel(mask, training)
        if self.use_fused is True and kernel is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: use_fused=True but the fused kernel "
                             "does not compute this configuration (it needs the default activations, no "
                             "recurrent dropout while training, GRU reset_after=True, and no mask or a "
                             "right-padded one). Use use_fused='auto'.")
        if kernel is not None and lengths is None:
            self.last_path = "fused"
            return kernel(x, states, None)
        if kernel is not None:
            self.last_path = "fused-packed"
            return self._run_packed(kernel, x, states, mask, lengths)
        self.last_path = path
        return loop(x, states, mask, training)

    def _run_packed(self, kernel, x, states, mask, lengths):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        data, states = kernel(packed.data, [s[order] for s in states], packed.batch_sizes)
        states = [s[unorder] for s in states]
        out, _ = pad_packed_sequence(packed._replace(data=data), batch_first=True,
                                     total_length=x.shape[1])  # -> (B, T, H), zeros where masked
        if not self.zero_output_for_mask:
            # Keras carries the last valid output through masked steps.
            out = torch.where(mask[..., None], out, states[0][:, None, :])
        return out, states

    def _run_loop(self, x, states, mask, training):
        """The split step: the input projection of every step at once, then the recurrence."""
        cell = self.cell
        xp = cell.project(x)  # -> (B, T, G*H)
        rec_mask = None
        if training and cell.recurrent_dropout > 0:
            keep = 1.0 - cell.recurrent_dropout
            rec_mask = torch.bernoulli(torch.full(tuple(states[0].shape), keep, device=x.device)) / keep
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

    def _run_calls(self, x, states, mask, training):
        """Any cell: `call(x_t, states)` at every step, with Keras's mask rule on output and states."""
        call = self._bound_call(training)
        reset_dropout_masks(self.cell)  # a cell's call keeps its dropout masks for one sequence only
        outputs, previous = [], None
        for t in range(x.shape[1]):
            output, new = call(x[:, t], states)
            new = as_states(new)
            if len(new) != len(states):
                raise ValueError(f"{type(self.cell).__name__}.call returned {len(new)} state(s), but its "
                                 f"state_size declares {len(states)}; return one new state per state size.")
            if mask is not None:
                m = mask[:, t, None]  # (B, 1): masked rows keep their state and repeat (or zero) their output
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                fill = previous if previous is not None and not self.zero_output_for_mask else torch.zeros_like(output)
                output = torch.where(m, output, fill)
            outputs.append(output)
            previous, states = output, new
        reset_dropout_masks(self.cell)
        return torch.stack(outputs, dim=1), states

    def compute_mask(self, x, mask):
        return mask if self.return_sequences else None

    def _time_config(self) -> dict:
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful}
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        if self.use_fused != "auto":
            config["use_fused"] = self.use_fused
        return {**config, **self._keras_extras_config()}

    def _keras_extras_config(self) -> dict:
        """unroll and activity_regularizer, when set (a regularizer a config cannot hold is left out)."""
        config = {"unroll": True} if self.unroll else {}
        saved = regularizers.config_value(self.activity_regularizer)
        if saved is not None:
            config["activity_regularizer"] = saved
        return config

    def get_config(self) -> dict:
        """The layer's arguments, with the cell as {"class_name", "config"} (it must be registered)."""
        config = {**super().get_config(), "cell": serialize(self.cell), **self._time_config()}
        if getattr(self.cell, "built", False) and self.input_size is not None:
            config["input_size"] = self.input_size
        return config

    @classmethod
    def from_config(cls, config: dict):
        """The layer `get_config` describes (the cell rebuilt from its saved config, weights afresh)."""
        return cls(**config)

    def extra_repr(self) -> str:
        # The cell prints below as a child module (an unregistered cell has no config to print).
        config = {**Layer.get_config(self), **self._time_config()}
        return ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "name")

    def keras_weights(self) -> list[np.ndarray]:
        return self.cell.keras_weights()

    def set_keras_weights(self, weights) -> None:
        self.cell.set_keras_weights(weights)


def _in_func_transform() -> bool:
    """Whether a torch.func transform (grad, vmap, ...) is running the current call."""
    return torch._C._functorch.peek_interpreter_stack() is not None


def _with_output(states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    return states[0], states


def _output_and_states(result) -> tuple[Tensor, list[Tensor]]:
    output, states = result
    return output, as_states(states)
