"""Autoregressive generation: prime on a known sequence, then feed each output back as the next input.

The seeds write this as `for i in steps: new_step = model.predict(last_step)` on a stateful model:
one full `predict` call per step (about 300x a direct call in Keras). Here the history is encoded once
and each new step costs one cell step per recurrent layer, O(1) in the history length, with the states
carried explicitly -- so it works for non-stateful models too, and leaves a stateful model's kept
states alone unless asked.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from .layers.base import Layer
from .layers.core import Dense, Dropout, Activation
from .layers.recurrent import RNN, as_tensor
from .layers.wrappers import TimeDistributed

Tensor = torch.Tensor
_PER_STEP = (Dense, Dropout, Activation, TimeDistributed)


def step_plan(model, who: str = "generate") -> list[nn.Module]:
    """The model's layers, checked to be ones that can advance one step at a time."""
    layers = list(model.layers)
    for layer in layers:
        if isinstance(layer, RNN):
            if layer.go_backwards:
                raise ValueError(f"{who}: {layer.name!r} reads time backwards (go_backwards=True or "
                                 "Bidirectional); a model that looks at the future cannot generate it.")
        elif not isinstance(layer, _PER_STEP):
            raise ValueError(f"{who}: layer {getattr(layer, 'name', layer)!r} ({type(layer).__name__}) "
                             "does not act step by step; generation needs recurrent layers and per-step "
                             "layers (Dense, TimeDistributed, Dropout, Activation).")
    if not any(isinstance(l, RNN) for l in layers):
        raise ValueError(f"{who}: the model has no recurrent layer.")
    return layers


def apply_step(layer, x: Tensor) -> Tensor:
    if isinstance(layer, TimeDistributed) and x.dim() == 2:
        layer = layer.layer  # one step: (B, F) has no time axis to distribute over
    return layer(x, training=False) if isinstance(layer, Layer) else layer(x)


def step_functions(layers, batch: int) -> list[tuple[bool, Callable]]:
    """(is_recurrent, function) per layer for one step of `batch` rows, built once per generation."""
    out = []
    for layer in layers:
        if isinstance(layer, RNN):
            out.append((True, layer.step_function(batch)))
        else:
            inner = layer.layer if isinstance(layer, TimeDistributed) else layer
            fn = inner.step_function() if isinstance(inner, Dense) and inner.input_size is not None else None
            out.append((False, fn or (lambda h, layer=layer: apply_step(layer, h))))
    return out


def prime_layers(layers, x: Tensor, states: dict[int, list[Tensor]]) -> Tensor:
    """Run the whole history x (B, T, F) once from `states` (layer index -> its initial states), which
    become every recurrent layer's final states; returns the last step's output (B, outputs)."""
    h = x
    for i, layer in enumerate(layers):
        if isinstance(layer, RNN):
            seq, states[i] = layer.sequence(h, initial_state=states[i], training=False)
            h = seq if layer.return_sequences else states[i][0]
        else:
            h = apply_step(layer, h)
    return h[:, -1] if h.dim() == 3 else h


def advance(steppers, h: Tensor, states: dict[int, list[Tensor]]) -> Tensor:
    """One step (B, F) through every layer with `step_functions`, updating `states` in the dict."""
    for i, (recurrent, fn) in enumerate(steppers):
        if recurrent:
            states[i] = fn(h, states[i])
            h = states[i][0]
        else:
            h = fn(h)
    return h


def generate(model, x, steps: int, feedback: Callable[[Tensor], Tensor] | None = None,
             from_kept_states: bool | None = None, update_states: bool = False) -> np.ndarray:
    """Prime `model` on `x` (batch, T, F), then produce `steps` new steps, each fed back as input.

    Args:
        model: a Sequential of recurrent layers and per-step layers; its output size must equal its
            input size (or give `feedback`, a function mapping an output (B, outputs) to the next
            input (B, features)).
        x: the known sequences, (batch, T, F) -- many series at once (400 stocks -> batch 400).
        steps: how many steps to generate.
        from_kept_states: start from a stateful model's kept states (default: yes if it has some).
        update_states: leave the model's kept states where generation ended (default: untouched).

    Returns:
        (batch, steps, outputs) NumPy array: the generated continuation.

    >>> from rnnkit import Sequential, Input, LSTM, Dense
    >>> model = Sequential([Input((None, 2)), LSTM(8, return_sequences=True), Dense(2)])
    >>> generate(model, np.zeros((3, 10, 2), "float32"), steps=5).shape
    (3, 5, 2)
    """
    if not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, received {steps!r}.")
    layers = step_plan(model)
    x = as_tensor(x)
    if x.dim() != 3:
        raise ValueError(f"generate: x must be (batch, time_steps, features), received shape {tuple(x.shape)}.")
    first = next(l for l in layers if isinstance(l, RNN))
    if first.cell.built and x.shape[-1] != first.cell.input_size:
        raise ValueError(f"generate: the model reads {first.cell.input_size} features per step; x has "
                         f"{x.shape[-1]}.")
    recurrent = [l for l in layers if isinstance(l, RNN)]
    if from_kept_states is None:
        from_kept_states = any(l.stateful and l.states is not None for l in recurrent)
    model.eval()
    with torch.no_grad():
        states: dict[int, list[Tensor]] = {}
        for i, layer in enumerate(layers):
            if isinstance(layer, RNN):
                init = layer.states if from_kept_states and layer.stateful and layer.states is not None else None
                if init is not None and init[0].shape[0] != x.shape[0]:
                    raise ValueError(f"generate: {layer.name!r} keeps states for {init[0].shape[0]} rows, "
                                     f"x has {x.shape[0]}; pass from_kept_states=False or call reset_states().")
                states[i] = init if init is not None else layer.cell.get_initial_state(x.shape[0], x.dtype, x.device)
        out = prime_layers(layers, x, states)  # the whole history once -> (B, outputs): the first new step
        steppers = step_functions(layers, x.shape[0])
        produced = []
        for k in range(steps):
            produced.append(out)
            if k == steps - 1:
                break
            nxt = feedback(out) if feedback is not None else out
            if nxt.shape[-1] != x.shape[-1]:
                raise ValueError(
                    f"generate: the model outputs {out.shape[-1]} values per step but reads {x.shape[-1]} "
                    "features, so an output cannot be fed back as the next input. Build the model with "
                    f"outputs={x.shape[-1]} (= features), or pass feedback=fn mapping an output to an input.")
            out = advance(steppers, nxt, states)  # (B, F): one step, carried through every layer
        if update_states:
            for i, layer in enumerate(layers):
                if isinstance(layer, RNN) and layer.stateful:
                    layer._kept = [s.detach() for s in states[i]]
    return torch.stack(produced, dim=1).cpu().numpy()
