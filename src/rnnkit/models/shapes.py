"""Per-layer rows: input and output shape with every axis named, params, what happens to time, stateful."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..layers.base import Layer
from ..layers.core import Dense, Embedding, Flatten, Input
from ..layers.conv import Conv2D
from ..layers.conv1d import Conv1D
from ..layers.conv3d import Conv3D
from ..layers.conv_lstm import ConvLSTM
from ..layers.pooling import AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from ..layers.rnn import RNN
from ..symbolic import EXAMPLE_LENGTH
from ..layers.wrappers import Bidirectional, RepeatVector, TimeDistributed, call_layer, recurrent_of



@dataclass
class Row:
    name: str
    kind: str
    input_shape: tuple
    output_shape: tuple
    input_axes: tuple
    output_axes: tuple
    params: int
    time: str
    stateful: bool | None

    @staticmethod
    def describe(shape: tuple, axes: tuple) -> str:
        """(batch, 5 time_steps, 2 features): the shape in the seeds' words."""
        parts = [axis if size is None else f"{size} {axis}" for size, axis in zip(shape, axes)]
        return "(" + ", ".join(parts) + ")"


def last_axis_name(layer, default: str) -> str:
    inner = layer.layer if isinstance(layer, TimeDistributed) else layer
    if isinstance(inner, ConvLSTM):  # an RNN whose steps are feature maps
        return "filters"
    if isinstance(inner, (RNN, Bidirectional, Dense)):
        return "units"
    if isinstance(inner, (Conv2D, Conv1D, Conv3D)):
        return "filters"
    if isinstance(inner, (GlobalAveragePooling1D, GlobalMaxPooling1D)):  # the channels, time pooled away
        return "features"
    if isinstance(inner, Embedding):
        return "embedding"
    if isinstance(inner, Flatten):  # rows x cols x channels become one vector of features
        return "features"
    return default


def axes_for(shape: tuple, last: str, ids: bool = False) -> tuple:
    """Names of each axis of a shape: batch first; time_steps on sequences; rows/cols for frames."""
    n = len(shape)
    if ids and n == 2:
        return ("batch", "time_steps")
    if n == 2:
        return ("batch", last)
    if n == 3:
        return ("batch", "time_steps", last)
    if n == 4:
        return ("batch", "rows", "cols", "channels")
    if n == 5:
        return ("batch", "time_steps", "rows", "cols", "channels" if last == "features" else last)
    return ("batch", *[f"axis{k}" for k in range(1, n)])


def time_effect(layer, in_shape: tuple, out_shape: tuple, time_in: bool) -> str:
    if isinstance(layer, RepeatVector):
        return f"created: the vector repeated at {layer.n} steps"
    rnn = recurrent_of(layer)
    if rnn is not None:
        return "kept: one output per step" if rnn.return_sequences else "dropped: only the last step's output"
    if not time_in:
        return "-"
    if isinstance(layer, (GlobalAveragePooling1D, GlobalMaxPooling1D)):
        how = "averaged" if isinstance(layer, GlobalAveragePooling1D) else "max"
        return f"dropped: pooled over all steps ({how})"
    if isinstance(layer, (Conv1D, Conv3D, MaxPooling1D, AveragePooling1D)) and out_shape[1:2] != in_shape[1:2]:
        return "kept: shortened by the window and strides"
    if isinstance(layer, (Conv1D, Conv3D)):  # on video, Conv3D's first convolved axis is time
        return "kept: each output step sees a window of steps"
    if isinstance(layer, TimeDistributed):
        return "kept: the layer is applied to each step"
    if len(out_shape) < len(in_shape):
        return "merged into the features"
    return "kept: acts on each step"


def is_stateful(layer) -> bool | None:
    rnn = recurrent_of(layer)
    return rnn.stateful if rnn is not None else None


def sequential_rows(model, input_shape: tuple) -> tuple[list[Row], str | None]:
    """Rows from a dry run of a Sequential on zeros of `input_shape` (states untouched), and the first
    error met (a layer that cannot take what the previous one gives), if any."""
    batch = input_shape[0]
    size = [batch or 1, *[EXAMPLE_LENGTH if d is None else d for d in input_shape[1:]]]
    first = model.layers[0] if model.layers else None
    ids = isinstance(first, Embedding)
    x = torch.zeros(size, dtype=torch.long if ids else torch.float32)
    shape, axes = tuple(input_shape), axes_for(tuple(input_shape), "features", ids)
    time_in = len(shape) in (3, 5) or ids
    rows, mask, error = [], None, None
    with torch.no_grad(), model.preserve_states():
        for layer in model.layers:
            try:
                out = call_layer(layer, x, False, mask)
            except (ValueError, RuntimeError, TypeError) as err:
                error = f"{getattr(layer, 'name', type(layer).__name__)}: {err}"
                break
            first_out = out[0] if isinstance(out, (list, tuple)) else out
            out_shape = _known(first_out.shape, shape, batch)
            out_axes = axes_for(out_shape, last_axis_name(layer, axes[-1]))
            params = sum(p.numel() for p in layer.parameters())
            effect = time_effect(layer, shape, out_shape, time_in)
            rows.append(Row(getattr(layer, "name", "?"), type(layer).__name__, shape, out_shape, axes, out_axes,
                            params, effect, is_stateful(layer)))
            mask = layer.compute_mask(x, mask) if isinstance(layer, Layer) else None
            x, shape, axes = out, out_shape, out_axes
            time_in = "time_steps" in axes
    return rows, error


def functional_rows(model) -> list[Row]:
    """Rows from a functional graph's recorded symbols (one per layer call)."""
    rows = []
    for node in model._nodes:
        ins = node.input_symbols()
        in_shape = ins[0].shape if ins else ()
        out_shape = node.outputs[0].shape
        in_axes = axes_for(in_shape, "features")
        out_axes = axes_for(out_shape, last_axis_name(node.layer, in_axes[-1] if in_axes else "features"))
        params = sum(p.numel() for p in node.layer.parameters())
        rows.append(Row(getattr(node.layer, "name", "?"), type(node.layer).__name__, in_shape, out_shape, in_axes,
                        out_axes, params, time_effect(node.layer, in_shape, out_shape, "time_steps" in in_axes),
                        is_stateful(node.layer)))
    return rows


def _known(shape, in_shape: tuple, batch) -> tuple:
    # The dry run used EXAMPLE_LENGTH for an unknown length: report it as None (any length) again.
    unknown_t = len(in_shape) >= 3 and in_shape[1] is None
    out = [batch, *shape[1:]]
    if unknown_t and len(out) >= 3 and out[1] == EXAMPLE_LENGTH:
        out[1] = None
    return tuple(out)


def input_shape_of(model, input_shape=None, x=None, batch_size=None) -> tuple | None:
    """The (batch, ...) input shape from `input_shape` (without the batch axis, as in Keras), x, or the
    model's Input; `batch_size` fills the batch axis."""
    if input_shape is not None:
        return (batch_size, *tuple(input_shape))
    if x is not None:
        return (batch_size, *x.shape[1:])
    spec = getattr(model, "input_spec", None)
    if isinstance(spec, Input):
        return (batch_size or spec.batch_shape[0], *spec.batch_shape[1:])
    return None
