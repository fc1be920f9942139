"""The ONNX sequence graph: what `predict` computes over (batch, time, features), each recurrent layer
an ONNX Scan over time, its initial states graph inputs with zero defaults and its final states outputs.
Built from traced pieces (the per-step layers between recurrent ones, each Scan body) joined by hand."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..cells.base import as_states, output_size
from ..layers.core import Embedding
from ..layers.rnn import RNN
from ..layers.wrappers import TimeDistributed, output_mask
from .onnx_plan import halves, state_names, trace

Tensor = torch.Tensor


# -- the sequence graph --------------------------------------------------------------------------------------------
class _Chain(nn.Module):
    """Per-step layers (and an Embedding first) on a whole sequence, for tracing."""

    def __init__(self, layers):
        super().__init__()
        self.chain = nn.ModuleList(layers)

    def forward(self, h):
        for layer in self.chain:
            if isinstance(layer, Embedding):
                h = F.embedding(h, layer.weight)  # (B, T) ids -> (B, T, E)
            elif isinstance(layer, TimeDistributed):
                h = layer.layer(h)  # Dense, Dropout, Activation act on the last axis: every step at once
            else:
                h = layer(h, training=False)
        return h


class _ScanBody(nn.Module):
    """One step of a recurrent layer as an ONNX Scan body: (*states, last, x_t[, m_t]) -> (*new states,
    last, y_t). `last` is the previous output, which a masked step repeats (Keras's rule)."""

    def __init__(self, layer: RNN, masked: bool):
        super().__init__()
        self.layer, self.masked, self.n = layer, masked, len(layer.get_initial_state(1))

    def forward(self, *args):
        states, last, x_t = list(args[:self.n]), args[self.n], args[self.n + 1]
        out, new = self.layer.cell.call(x_t, states)
        new = as_states(new)
        if self.masked:
            m = args[self.n + 2][:, None]  # (B, 1): padded rows keep their states
            new = [torch.where(m, a, b) for a, b in zip(new, states)]
            if self.layer._split:  # the output is h: carried with the states
                out = new[0]
            else:
                out = torch.where(m, out, torch.zeros_like(out) if self.layer.zero_output_for_mask else last)
            y_t = out * m if self.layer.zero_output_for_mask else out
            last = new[0] if self.layer._split else y_t
        else:
            y_t = last = out
        return (*new, last, y_t)


class _Builder:
    """The sequence graph, assembled from traced pieces: nodes, initializers, names, and the recurrent
    layers' state inputs (with their defaults) and final states."""

    def __init__(self, opset: int):
        self.opset, self.nodes, self.initializers, self.count = opset, [], [], 0
        self.state_inputs, self.defaults, self.finals = [], [], []  # finals: (output name, result, size)

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}__{self.count}"

    def const(self, array, hint: str) -> str:
        from onnx import numpy_helper  # noqa: PLC0415 - optional: only export needs it
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, n_out: int = 1, **attrs) -> list[str]:
        from onnx import helper  # noqa: PLC0415
        outs = [self.fresh(hint) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.fresh(op), **attrs))
        return outs

    def inline(self, graph, feeds: list[str], hint: str) -> list[str]:
        """Copy a traced graph in, its inputs wired to `feeds`; returns the names of its outputs."""
        graph = _renamed(graph, self.fresh(hint) + "/")
        for inp, feed in zip(graph.input, feeds):
            self.nodes.append(_identity(inp.name, feed))
        self.nodes.extend(graph.node)
        self.initializers.extend(graph.initializer)
        return [o.name for o in graph.output]

    def expand(self, default: str, x: str, width: int, hint: str) -> str:
        """A (batch, width) copy of `default` (1 or batch rows), batch taken from x."""
        batch = self.node("Shape", [x], "shape", start=0, end=1)[0]
        shape = self.node("Concat", [batch, self.const(np.array([width], np.int64), "width")], "shape", axis=0)[0]
        return self.node("Expand", [default, shape], hint)[0]

    def chain(self, layers: list[nn.Module], h: str, example: Tensor) -> tuple[str, Tensor]:
        """Per-step layers on h, traced as one piece; returns their output and an example of it."""
        module = _Chain(layers)
        axes = {0: "batch", 1: "time"} if example.dim() >= 3 or not example.is_floating_point() else {0: "batch"}
        graph = trace(module, (example,), ["h"], ["out"], {"h": axes, "out": axes}, self.opset).graph
        with torch.no_grad():
            example = module(example)
        return self.inline(graph, [h], "chain")[0], example

    def scan(self, rnn: RNN, h: str, mask: str | None, x_t: Tensor, flip_output: bool) -> str:
        """`rnn` over the time axis of h (B, T, F) as an ONNX Scan, its states graph inputs with their
        defaults (the cell's initial states) and its final states graph outputs; returns its output,
        (B, T, H) with return_sequences (in input order when `flip_output`), else (B, H)."""
        from onnx import TensorProto, helper  # noqa: PLC0415
        names, init, units = state_names(rnn), rnn.get_initial_state(1), output_size(rnn.cell)
        starts = []
        for name, s in zip(names, init):  # a fed state replaces the default, any number of rows
            self.defaults.append(helper.make_tensor(name, TensorProto.FLOAT, list(s.shape), s.flatten().tolist()))
            self.state_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", s.shape[1]]))
            starts.append(self.expand(name, h, s.shape[1], "start"))
        starts.append(self.expand(self.const(np.zeros((1, units), np.float32), "last"), h, units, "last"))
        masked = mask is not None
        body_in = [f"s{k}" for k in range(len(init))] + ["last", "x_t"] + (["m_t"] if masked else [])
        body_out = [f"s{k}_next" for k in range(len(init))] + ["last_next", "y_t"]
        examples = [s.expand(2, -1).contiguous() for s in init] + [torch.zeros(2, units), x_t]
        examples += [torch.ones(2, dtype=torch.bool)] if masked else []
        body = trace(_ScanBody(rnn, masked), tuple(examples), body_in, body_out,
                      {n: {0: "batch"} for n in body_in + body_out}, self.opset).graph
        scans = [h] + ([mask] if masked else [])
        body = _renamed(body, self.fresh(rnn.name) + "/")
        results = self.node("Scan", starts + scans, rnn.name, n_out=len(body_out), body=body,
                            num_scan_inputs=len(scans), scan_input_axes=[1] * len(scans),
                            scan_input_directions=[int(rnn.go_backwards)] * len(scans), scan_output_axes=[1],
                            scan_output_directions=[int(flip_output)])
        self.finals += [(f"{n}_next", r, s.shape[1]) for n, r, s in zip(names, results, init)]
        return results[-1] if rnn.return_sequences else results[-2]  # -> (B, T, H), or the last output (B, H)


def _identity(src: str, dst: str):
    from onnx import helper  # noqa: PLC0415
    return helper.make_node("Identity", [dst], [src])


def _renamed(graph, prefix: str):
    """A copy of a traced graph with every name prefixed (so that pieces never clash)."""
    import onnx  # noqa: PLC0415
    g = onnx.GraphProto()
    g.CopyFrom(graph)
    rename = lambda n: prefix + n if n else n  # noqa: E731 - "" is an absent optional input
    for node in g.node:
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
        node.name = rename(node.name)
    for group in (g.input, g.output, g.value_info, g.initializer):
        for item in group:
            item.name = rename(item.name)
    return g


def sequence_graph(layers, width: int | None, opset: int):
    import onnx  # noqa: PLC0415
    from onnx import TensorProto, helper  # noqa: PLC0415
    # B: batch, T: time steps, F: features, H: units
    b = _Builder(opset)
    ids = isinstance(layers[0], Embedding)
    example = torch.ones(2, 3, dtype=torch.long) if ids else torch.zeros(2, 3, width)  # -> (B, T[, F])
    h, mask, chain = "x", None, []
    for layer in layers:
        parts = halves(layer)
        if not parts:  # gathered, then traced as one piece before the next recurrent layer
            chain.append(layer)
            if isinstance(layer, Embedding) and layer.mask_zero:
                pad = b.node("Equal", ["x", b.const(np.array(0, np.int64), "zero")], "pad")[0]
                mask = b.node("Not", [pad], "mask")[0]  # (B, T): False where the id is 0
            elif mask is not None and output_mask(layer, example, torch.ones(1, 1, dtype=torch.bool)) is None:
                mask = None  # Keras's rule: a layer that does not support masking drops the mask
            continue
        if chain:
            h, example = b.chain(chain, h, example)
            chain = []
        # Bidirectional flips its backward half's sequence back to input order, as Keras does.
        outs = [b.scan(rnn, h, mask, example[:, 0], flip_output=k == 1 and rnn.return_sequences)
                for k, rnn in enumerate(parts)]
        h = outs[0] if len(outs) == 1 else _merge(b, layer.merge_mode, outs)
        units = output_size(parts[0].cell) * (2 if getattr(layer, "merge_mode", None) == "concat" else 1)
        example = torch.zeros(2, 3, units) if layer.return_sequences else torch.zeros(2, units)  # -> (B, T, H)
        mask = mask if layer.return_sequences else None
    if chain:
        h, example = b.chain(chain, h, example)
    b.nodes.append(_identity("y", h))
    y_shape = ["batch", "time", *example.shape[2:]] if example.dim() >= 3 else ["batch", *example.shape[1:]]
    x_info = helper.make_tensor_value_info("x", TensorProto.INT64 if ids else TensorProto.FLOAT,
                                           ["batch", "time"] + ([] if ids else [width]))
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)]
    for name, result, size in b.finals:
        b.nodes.append(_identity(name, result))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", size]))
    graph = helper.make_graph(b.nodes, "rnnkit_sequence", [x_info, *b.state_inputs], outputs,
                              initializer=b.defaults + b.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="rnnkit")
    proto.ir_version = helper.find_min_ir_version_for(proto.opset_import)
    onnx.checker.check_model(proto)
    return proto, ["x", *[i.name for i in b.state_inputs]], ["y", *[n for n, _, _ in b.finals]]


def _merge(b: _Builder, mode: str, outs: list[str]) -> str:
    """Bidirectional's merge of the forward and backward outputs."""
    if mode == "concat":
        return b.node("Concat", outs, "merged", axis=-1)[0]
    if mode == "mul":
        return b.node("Mul", outs, "merged")[0]
    total = b.node("Add", outs, "merged")[0]
    return total if mode == "sum" else b.node("Div", [total, b.const(np.array(2, np.float32), "two")], "merged")[0]
