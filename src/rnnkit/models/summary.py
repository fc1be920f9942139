"""Text summary of a Sequential model: layer, output shape (None for any batch or length), params."""

from __future__ import annotations

from .shapes import sequential_rows


def layer_shapes(model) -> list[tuple[str, str, tuple, int]]:
    """(name, class, output shape, params) per layer, from a dry run that leaves states untouched."""
    if model.input_spec is None:
        raise ValueError("The model has no input shape yet: start it with Input((time_steps, features)) "
                         "or call it on data first.")
    rows, error = sequential_rows(model, tuple(model.input_spec.batch_shape))
    if error:
        raise ValueError(f"summary: the layers do not fit together: {error}")
    return [(r.name, r.kind, r.output_shape, r.params) for r in rows]


def sequential_summary(model) -> str:
    rows = layer_shapes(model)
    return _table(model, [(f"{n} ({c})", str(s), f"{p:,}") for n, c, s, p in rows])


def functional_summary(model) -> str:
    """One row per input and per layer (a shared layer once, with how often the graph calls it)."""
    calls: dict[int, list] = {}
    for node in model._nodes:
        calls.setdefault(id(node.layer), []).append(node)
    body = [(f"{s.name} (Input)", str(s.shape), "0") for s in model.inputs]
    for layer in model._graph_layers:  # model.layers also lists the inputs, as Keras; they are the rows above
        nodes = calls[id(layer)]
        shapes = [str(o.shape) for o in nodes[0].outputs]
        shape = shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
        times = f" x{len(nodes)} calls" if len(nodes) > 1 else ""
        params = sum(p.numel() for p in layer.parameters())
        body.append((f"{getattr(layer, 'name', '?')} ({type(layer).__name__}){times}", shape, f"{params:,}"))
    return _table(model, body)


def _table(model, body: list[tuple[str, str, str]]) -> str:
    head = ("Layer (type)", "Output Shape", "Param #")
    w = [max(len(r[k]) for r in [head, *body]) + 2 for k in range(3)]
    line = "─" * sum(w)
    fmt = lambda r: f"{r[0]:<{w[0]}}{r[1]:<{w[1]}}{r[2]:>{w[2]}}"
    total = model.count_params()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out = [f'Model: "{model.name}"', line, fmt(head), line, *map(fmt, body), line,
           f"Total params: {total:,}", f"Trainable params: {trainable:,}",
           f"Non-trainable params: {total - trainable:,}"]
    return "\n".join(out)
