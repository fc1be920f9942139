"""Which models can advance one time step at a time, and how many features a step reads.

`generate`, `Stream` and the ONNX step export all run a model step by step: its recurrent layers through
their cells, its per-step layers (Dense, TimeDistributed, Dropout, Activation) on each step's rows, and
an Embedding first on each step's id (one feature: the id). A layer that needs the whole sequence (one
reading time backwards, Bidirectional, Conv2D, ...) has no such form; `step_plan` names it.
"""

from __future__ import annotations

from torch import nn

from .core import Activation, Dense, Dropout, Embedding
from .rnn import RNN
from .wrappers import Bidirectional, TimeDistributed

PER_STEP = (Dense, Dropout, Activation, TimeDistributed)


def step_plan(model, who: str) -> list[nn.Module]:
    """The model's layers, checked to be ones that can advance one step at a time (`who` names the caller
    in the errors)."""
    layers = list(getattr(model, "layers", []))
    for k, layer in enumerate(layers):
        if isinstance(layer, Embedding) and k == 0:
            if layer.mask_zero:
                raise ValueError(f"{who}: layer {layer.name!r} (Embedding) has mask_zero=True; {who} does not "
                                 "carry masks (an id 0 would be stepped like any other). Use predict, or "
                                 "rnnkit.export_onnx, whose step graph skips padding as Keras does.")
            continue
        if isinstance(layer, Bidirectional) or (isinstance(layer, RNN) and layer.go_backwards):
            raise ValueError(f"{who}: layer {layer.name!r} reads time backwards (go_backwards=True or "
                             "Bidirectional), so it has no one-step form: its first output needs the whole "
                             "sequence, and a model that looks at the future cannot generate it.")
        if not isinstance(layer, (RNN, *PER_STEP)):
            raise ValueError(f"{who}: layer {getattr(layer, 'name', layer)!r} ({type(layer).__name__}) does not "
                             f"act one step at a time; {who} needs recurrent layers and per-step layers (Dense, "
                             "TimeDistributed, Dropout, Activation).")
    if not any(isinstance(layer, RNN) for layer in layers):
        raise ValueError(f"{who}: the model has no recurrent layer.")
    return layers


def input_features(model, layers) -> int | None:
    """Features per step the model reads: its declared input's last axis, else the first layer that
    knows its input size (Dense or TimeDistributed(Dense) before the first recurrent layer included);
    None while that is unknown (a model not built yet). An Embedding first reads one id per step."""
    if layers and isinstance(layers[0], Embedding):
        return 1
    spec = getattr(model, "input_spec", None)
    if spec is not None and spec.batch_shape[-1] is not None:
        return int(spec.batch_shape[-1])
    for layer in layers:
        inner = layer.layer if isinstance(layer, TimeDistributed) else layer
        if isinstance(inner, (RNN, Dense)):
            return None if inner.input_size is None else int(inner.input_size)
    return None
