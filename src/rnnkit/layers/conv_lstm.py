"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D: `RNN` around a `ConvLSTMCell`, with Keras's arguments and configs.

The cell does the convolutions; this layer owns time as `RNN` does (return_sequences, return_state,
go_backwards, stateful, masks), over inputs with spatial axes: (batch, time, *spatial, channels) with
data_format="channels_last" (the default), (batch, time, channels, *spatial) with "channels_first".
States and outputs are feature maps with `filters` channels in the same data format. The input
convolution of every step runs at once (one convolution over batch * time), then the recurrence.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..cells.base import build_cell
from ..cells.conv_lstm import ConvLSTMCell
from ..cells.dropout import reset_dropout_masks
from ..cells.gated import initializer_config, penalty_config
from ..convert import to_mask, to_tensor
from ..registry import BUILTIN, register_serializable
from ..state import StateStore
from .base import Layer, normalize_shape
from .rnn import RNN

Tensor = torch.Tensor


class ConvLSTM(RNN):
    """Keras's N-D convolutional LSTM base; use ConvLSTM1D, ConvLSTM2D or ConvLSTM3D (`rank` 1, 2, 3).

    Args: Keras's (filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
    recurrent_activation, use_bias, the initializers, unit_forget_bias, the regularizers and
    constraints, dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
    stateful, unroll), plus rnnkit's input_size (input channels, to make the weights now), input_shape,
    batch_input_shape, batch_size and name.
    """

    rank = 0

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate=1, activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 input_size: int | None = None, input_shape=None, batch_input_shape=None,
                 batch_size: int | None = None, name: str | None = None, unroll: bool = False):
        where = type(self).__name__
        cell = ConvLSTMCell(self.rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                            activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
                            bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer,
                            bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                            recurrent_dropout, seed, input_size)
        shape = normalize_shape(input_shape, batch_input_shape, batch_size, where)
        if shape is not None:
            if len(shape) != self.rank + 3:
                raise ValueError(f"{where} expects input of {self.rank + 3} axes {self._layout(cell)}, so "
                                 f"input_shape has {self.rank + 2} (no batch axis); received batch shape {shape}.")
            step = shape[2:] if cell.data_format == "channels_first" else (*shape[-1:], *shape[2:-1])
            if step[0] is not None and not cell.built:
                cell.build(step[0])
            if None not in step[1:]:
                cell.spatial_dims = tuple(step[1:])
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         input_shape=input_shape, batch_input_shape=batch_input_shape, batch_size=batch_size,
                         name=name, unroll=unroll, activity_regularizer=activity_regularizer)

    def _layout(self, cell: ConvLSTMCell | None = None) -> str:
        cell = cell or self.cell
        spatial = {1: "steps", 2: "rows, cols", 3: "conv_dim1, conv_dim2, conv_dim3"}[self.rank]
        if cell.data_format == "channels_first":
            return f"(batch, time, channels, {spatial})"
        return f"(batch, time, {spatial}, channels)"

    @property
    def filters(self) -> int:
        return self.cell.filters

    # -- checks -----------------------------------------------------------------------------------
    def _check_input(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else to_tensor(x)
        kind, n = type(self).__name__, self.rank + 3
        if x.dim() != n:
            hint = (" For one sequence of frames, add the batch axis: x[None]." if x.dim() == n - 1 else "")
            raise ValueError(f"{kind} {self.name!r} expected input of {n} axes {self._layout()}, received "
                             f"{x.dim()}-D input of shape {tuple(x.shape)}.{hint}")
        if 0 in x.shape[1:]:
            raise ValueError(f"{kind} {self.name!r} expected at least one time step and non-empty frames "
                             f"{self._layout()}, received input of shape {tuple(x.shape)}.")
        channels = self.cell.channels_first(x[:, 0]).shape[1]
        if self.input_size is not None and channels != self.input_size:
            raise ValueError(f"{kind} {self.name!r} was built for {self.input_size} input channels, received "
                             f"{channels} (input shape {tuple(x.shape)}, layout {self._layout()}, "
                             f"data_format={self.cell.data_format!r}). Feed {self.input_size} channels or build "
                             "a new layer.")
        return x if x.is_floating_point() else x.float()

    def _check_states(self, states, batch: int | None, where: str) -> list[Tensor]:
        states = [to_tensor(s) for s in (states if isinstance(states, (list, tuple)) else [states])]
        kind = f"{type(self).__name__} {self.name!r}"
        if len(states) != 2:
            raise ValueError(f"{kind}: {where} expects 2 state tensors [h, c], received {len(states)}.")
        spatial = self.cell.spatial_dims
        shape = self.cell.state_shape(spatial) if spatial is not None else None
        for s in states:
            if (s.dim() != self.rank + 2 or (batch is not None and s.shape[0] != batch)
                    or (shape is not None and tuple(s.shape[1:]) != shape)):
                want = (batch if batch is not None else "batch", *(shape or ("...",)))
                raise ValueError(f"{kind}: {where} states must be feature maps of shape "
                                 f"({', '.join(map(str, want))}), the shape of the layer's output step; "
                                 f"received {tuple(s.shape)}.")
        return states

    def _initial_states(self, x: Tensor, initial_state, store: StateStore | None = None) -> list[Tensor]:
        states = super()._initial_states(x, initial_state, store)
        expected = (x.shape[0], *self.cell.state_shape(self.cell.spatial_dims))
        if any(tuple(s.shape) != expected for s in states):
            raise ValueError(f"{type(self).__name__} {self.name!r} keeps states of shape {tuple(states[0].shape)} "
                             f"but this input {tuple(x.shape)} needs {expected}: frames of another size start new "
                             "sequences. Call reset_states() first.")
        return states

    # -- time -------------------------------------------------------------------------------------
    def sequence(self, x, initial_state=None, mask=None, training: bool | None = None,
                 state_store: StateStore | None = None) -> tuple[Tensor, list[Tensor]]:
        """All step outputs (B, T, *state) and the final [h, c], without touching kept states."""
        # B: batch, T: time steps, C: channels, S: spatial axes
        x = self._check_input(x)
        cell = self.cell
        step = cell.channels_first(x[:, 0])  # -> (B, C, *S)
        if not cell.built:
            build_cell(cell, step.shape[1])
            cell.to(x.device)
        cell.spatial_dims = tuple(step.shape[2:])
        training = self.training if training is None else bool(training)
        states = self._initial_states(x, initial_state, state_store)
        B, T = x.shape[:2]
        if mask is not None:
            mask = to_mask(mask, x.device)
            if tuple(mask.shape) != (B, T):
                raise ValueError(f"{type(self).__name__} {self.name!r}: mask must be boolean ({B}, {T}) like the "
                                 f"input's batch and time axes, received {tuple(mask.shape)}.")
            mask = None if bool(mask.all()) else mask
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        self.last_path = "loop"
        return self._run_loop(x, states, mask, training)

    def _run_loop(self, x, states, mask, training):
        """The input convolution of every step at once, then the recurrent one step by step."""
        cell = self.cell
        input_mask = rec_mask = None
        if training:  # one set of masks per sequence (Keras's), fresh for each batch
            reset_dropout_masks(cell)
            input_mask, rec_mask = cell.get_dropout_mask(x[:, 0]), cell.get_recurrent_dropout_mask(states[0])
            reset_dropout_masks(cell)
        xp = cell.project(x, input_mask)  # -> (B, T, 4F, *S')
        outputs = []
        for t in range(x.shape[1]):
            new = cell.step(xp[:, t], states, rec_mask)
            if mask is not None:  # masked rows keep their states and repeat their output
                m = mask[:, t].view(-1, *(1,) * (new[0].dim() - 1))
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
            outputs.append(new[0])
            states = new
        return torch.stack(outputs, dim=1), states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        """Keras's: (B, T, *state) with return_sequences, else (B, *state); then h and c with return_state."""
        B, T, step = sequences_shape[0], sequences_shape[1], tuple(sequences_shape[2:])
        spatial = step[1:] if self.cell.data_format == "channels_first" else step[:-1]
        if None in spatial:
            state = tuple(None if i != (0 if self.cell.data_format == "channels_first" else self.rank) else
                          self.filters for i in range(self.rank + 1))
        else:
            state = self.cell.state_shape(spatial)
        output = (B, T, *state) if self.return_sequences else (B, *state)
        return (output, (B, *state), (B, *state)) if self.return_state else output

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        cell = self.cell.get_config()
        cell.pop("rank")
        return {**Layer.get_config(self), **cell, **self._time_config()}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    extra_repr = Layer.extra_repr


@register_serializable(package=BUILTIN)
class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over (batch, time, steps, channels) (channels_last).

    >>> ConvLSTM1D(5, 3, padding="same")(torch.zeros(3, 2, 4, 3)).shape
    torch.Size([3, 4, 5])
    """

    rank = 1


@register_serializable(package=BUILTIN)
class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM over (batch, time, rows, cols, channels) (channels_last), Keras's frame model.

    >>> ConvLSTM2D(5, 3, return_sequences=True)(torch.zeros(3, 2, 8, 8, 3)).shape
    torch.Size([3, 2, 6, 6, 5])
    >>> [tuple(t.shape) for t in ConvLSTM2D(4, (3, 3), padding="same", return_state=True)(torch.zeros(1, 2, 5, 5, 1))]
    [(1, 5, 5, 4), (1, 5, 5, 4), (1, 5, 5, 4)]
    """

    rank = 2


@register_serializable(package=BUILTIN)
class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over (batch, time, dim1, dim2, dim3, channels) (channels_last).

    >>> ConvLSTM3D(2, 3)(torch.zeros(1, 2, 4, 4, 4, 1)).shape
    torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3
