"""The ONNX step graph: one time step, (x_t, *states) -> (y_t, *new states), traced from the cells'
own step equations; the caller keeps the states (what `OnnxStream` and a server need)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..cells.base import as_states
from ..layers.core import Embedding
from ..layers.rnn import RNN
from ..layers.wrappers import TimeDistributed
from .onnx_plan import masked_layers, state_names, trace


# -- the step graph ------------------------------------------------------------------------------------------------
class _StepGraph(nn.Module):
    """(x_t, *states) -> (y_t, *new states) through every layer, for tracing."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.steps = nn.ModuleList(layers)
        self.masked = masked_layers(layers)

    def forward(self, x, *states):
        h, i, new_states, mask = x, 0, [], None
        for layer, masked in zip(self.steps, self.masked):
            if isinstance(layer, Embedding):
                mask = (x != 0)[:, None] if layer.mask_zero else None  # (B, 1): an id 0 is padding
                h = F.embedding(h, layer.weight)  # -> (B, E)
            elif isinstance(layer, RNN):
                n = len(layer.get_initial_state(1))
                old = list(states[i:i + n])
                h, new = layer.cell.call(h, old)
                new = as_states(new)
                if masked:  # padding carries the states; the output is h, so it repeats the previous one
                    new = [torch.where(mask, a, b) for a, b in zip(new, old)]
                    h = new[0]
                new_states.extend(new)
                i += n
            elif isinstance(layer, TimeDistributed):
                h = layer.layer(h)
            else:
                h = layer(h)
        return (h, *new_states)


def step_graph(layers, width: int | None, opset: int):
    for layer, masked in zip(layers, masked_layers(layers)):
        if masked and isinstance(layer, RNN) and not layer._split:
            raise ValueError(f"export_onnx: layer {layer.name!r} gets a mask, and its cell's output is not its "
                             "first state, so a padding step would need the previous output: export with "
                             "mode='sequence'.")
    recurrent = [layer for layer in layers if isinstance(layer, RNN)]
    ids = isinstance(layers[0], Embedding)
    x = torch.ones(2, dtype=torch.long) if ids else torch.zeros(2, width)
    states, names = [], []
    for layer in recurrent:
        states += layer.get_initial_state(2)
        names += state_names(layer)
    inputs, outputs = ["x", *names], ["y", *[f"{n}_next" for n in names]]
    proto = trace(_StepGraph(layers), (x, *states), inputs, outputs, {n: {0: "batch"} for n in inputs + outputs},
                   opset)
    return proto, inputs, outputs
