"""What an ONNX export takes from a model: its layers checked against the mode (`plan`), the recurrent
layers inside each (`halves`), their state names, which layers a mask reaches, and `trace`, a module
traced to ONNX with every input kept."""

from __future__ import annotations

import io
import warnings

import torch
from torch import nn

from ..layers.core import Activation, Dense, Dropout, Embedding
from ..layers.rnn import RNN
from ..layers.wrappers import Bidirectional, RepeatVector, TimeDistributed, output_mask

STATE_NAMES = {1: ("h",), 2: ("h", "c")}
MODES = ("step", "sequence")
_PER_STEP = (Dense, Dropout, Activation)  # act on the last axis: per step, on any number of steps


# -- which layers, and their states ------------------------------------------------------------------------------
def plan(model, mode: str) -> list[nn.Module]:
    """The model's layers, or a clear error naming the first one the `mode` graph cannot take."""
    if not hasattr(model, "input_spec"):  # a functional Model's layers are a graph, not one path
        raise TypeError(f"export_onnx takes a Sequential model (one stack of layers), received "
                        f"{type(model).__name__}. Rebuild it as a Sequential to export it.")
    layers = list(model.layers)
    for k, layer in enumerate(layers):
        name, kind = getattr(layer, "name", type(layer).__name__), type(layer).__name__
        if mode == "step" and (isinstance(layer, Bidirectional) or (isinstance(layer, RNN) and layer.go_backwards)):
            raise ValueError(f"export_onnx: layer {name!r} reads time backwards (go_backwards=True or "
                             "Bidirectional), so it has no one-step form: its first output needs the whole "
                             "sequence. Export it with mode='sequence'.")
        if isinstance(layer, Bidirectional) and layer.merge_mode is None:
            raise ValueError(f"export_onnx: layer {name!r} (Bidirectional) has merge_mode=None, so it returns two "
                             "outputs; the graph has one output y. Use merge_mode 'concat', 'sum', 'mul' or 'ave'.")
        for rnn in halves(layer):
            if not hasattr(rnn.cell, "call"):
                raise ValueError(f"export_onnx: the cell of {rnn.name!r} has no call(inputs, states).")
        if isinstance(layer, Embedding) and k:
            raise ValueError(f"export_onnx: layer {name!r} (Embedding) is not the first layer; the graph's input "
                             "x is either ids (an Embedding first) or values.")
        inner = layer.layer if isinstance(layer, TimeDistributed) else layer
        steps = isinstance(layer, (RNN, Bidirectional, Embedding)) or isinstance(inner, _PER_STEP)
        if not steps and not (mode == "sequence" and isinstance(layer, RepeatVector)):
            kind += f" of {type(inner).__name__}" if inner is not layer else ""
            raise ValueError(f"export_onnx: layer {name!r} ({kind}) does not act one step at a time; the {mode} "
                             "graph takes recurrent layers (LSTM, GRU, SimpleRNN, Bidirectional in mode="
                             "'sequence'), Embedding first, and per-step layers (Dense, TimeDistributed(Dense), "
                             "Dropout, Activation" + (", RepeatVector)." if mode == "sequence" else ")."))
    if not any(halves(layer) for layer in layers):
        raise ValueError("export_onnx: the model has no recurrent layer.")
    return layers


def halves(layer) -> list[RNN]:
    """The recurrent layers inside a layer: itself, both halves of a Bidirectional, or none."""
    if isinstance(layer, Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return [layer] if isinstance(layer, RNN) else []


def state_names(rnn: RNN) -> list[str]:
    n = len(rnn.get_initial_state(1))
    return [f"{rnn.name}.{s}" for s in STATE_NAMES.get(n, tuple(f"s{k}" for k in range(n)))]


def masked_layers(layers) -> list[bool]:
    """Per layer: whether a mask reaches it (Keras's rule: from an Embedding with mask_zero, kept only by
    the layers that pass it on)."""
    x, mask, out = torch.zeros(1, 1, 1), None, []
    for layer in layers:
        if isinstance(layer, Embedding):
            out.append(False)
            mask = torch.ones(1, 1, dtype=torch.bool) if layer.mask_zero else None
            continue
        out.append(mask is not None)
        mask = None if mask is None else output_mask(layer, x, mask)
    return out


# -- tracing -------------------------------------------------------------------------------------------
def trace(module: nn.Module, args, inputs: list[str], outputs: list[str], axes: dict, opset: int):
    """`module` traced to an ONNX model, every input kept in order (the exporter drops unused ones; a Scan
    body needs them all)."""
    import onnx  # noqa: PLC0415
    from onnx import helper  # noqa: PLC0415
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes about tracing
        torch.onnx.export(module.eval(), args, buffer, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=opset, dynamo=False)
    proto = onnx.load_from_string(buffer.getvalue())
    kept = {i.name: i for i in proto.graph.input}
    for name, arg in zip(inputs, args):
        if name not in kept:
            dims = [axes.get(name, {}).get(k, d) for k, d in enumerate(arg.shape)]
            kept[name] = helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(arg.numpy().dtype), dims)
    del proto.graph.input[:]
    proto.graph.input.extend(kept[n] for n in inputs)
    return proto
