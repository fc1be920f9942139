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

from .. import checks
from ..convert import device_of, to_numpy, to_tensor
from ..layers.base import Layer
from ..layers.core import Dense, Embedding
from ..layers.rnn import RNN
from ..layers.stepping import input_features, step_plan
from ..layers.wrappers import TimeDistributed
from ..state import StateStore

Tensor = torch.Tensor


def declared_batch(model) -> int | None:
    """The batch size the model's input declares (a stateful model's), or None."""
    spec = getattr(model, "input_spec", None)
    return None if spec is None or spec.batch_shape[0] is None else int(spec.batch_shape[0])


def apply_step(layer, x: Tensor) -> Tensor:
    if isinstance(layer, TimeDistributed) and x.dim() == 2:
        layer = layer.layer  # one step: (B, F) has no time axis to distribute over
    if isinstance(layer, Embedding) and x.shape[-1] == 1:
        x = x[..., 0]  # ids as one feature: (B, 1) or (B, T, 1) -> (B,) or (B, T)
    return layer(x, training=False) if isinstance(layer, Layer) else layer(x)


def step_functions(layers, batch: int) -> list[tuple[str | None, Callable]]:
    """(state key or None, function) per layer for one step of `batch` rows, built once per generation;
    a recurrent layer's function returns (output, new states)."""
    out = []
    for layer in layers:
        if isinstance(layer, RNN):
            out.append((layer.state_key, layer.output_step_function(batch)))
        else:
            inner = layer.layer if isinstance(layer, TimeDistributed) else layer
            fn = inner.step_function() if isinstance(inner, Dense) and inner.input_size is not None else None
            out.append((None, fn or (lambda h, layer=layer: apply_step(layer, h))))
    return out


def initial_states(layers, batch: int, kept: bool, who: str) -> StateStore:
    """A store with every recurrent layer's starting states: a stateful layer's kept ones when `kept`
    (and it has some), zeros otherwise."""
    states = StateStore()
    for layer in layers:
        if isinstance(layer, RNN):
            init = layer.states if kept and layer.stateful else None
            if init is not None and init[0].shape[0] != batch:
                raise ValueError(f"{who}: {layer.name!r} keeps states for {init[0].shape[0]} rows, x has {batch}; "
                                 "pass from_kept_states=False or call reset_states().")
            if init is None:
                init = layer.get_initial_state(batch)
            states.put(layer.state_key, init)
    return states


def prime_layers(layers, x: Tensor, states: StateStore) -> Tensor:
    """Run the whole history x (B, T, F) once from `states`, which then hold every recurrent layer's
    final states; returns the last step's output (B, outputs)."""
    h = x
    for layer in layers:
        if isinstance(layer, RNN):
            seq, final = layer.sequence(h, initial_state=states[layer.state_key], training=False)
            states.put(layer.state_key, final)
            h = seq if layer.return_sequences else seq[:, -1]
        else:
            h = apply_step(layer, h)
    return h[:, -1] if h.dim() == 3 else h


def advance(steppers, h: Tensor, states: StateStore) -> Tensor:
    """One step (B, F) through every layer with `step_functions`, updating `states`."""
    for key, fn in steppers:
        if key is not None:
            h, new = fn(h, states[key])
            states.put(key, new)
        else:
            h = fn(h)
    return h


def generate(model, x, horizon: int, feedback: Callable[[Tensor], Tensor] | None = None,
             from_kept_states: bool | None = None, update_states: bool = False) -> np.ndarray:
    """Prime `model` on `x` (batch, T, F), then produce `horizon` new steps, each fed back as input.

    Args:
        model: a Sequential of recurrent layers and per-step layers; its output size must equal its
            input size (or give `feedback`, a function mapping an output (B, outputs) to the next
            input (B, features)).
        x: the known sequences, (batch, T, F) -- many series at once (400 stocks -> batch 400).
        horizon: how many steps to generate.
        from_kept_states: start from a stateful model's kept states (default: yes if it has some).
        update_states: leave the model's kept states where generation ended (default: untouched).

    Returns:
        (batch, horizon, outputs) NumPy array: the generated continuation.

    >>> from rnnkit import Sequential, Input, LSTM, Dense
    >>> model = Sequential([Input((None, 2)), LSTM(8, return_sequences=True), Dense(2)])
    >>> generate(model, np.zeros((3, 10, 2), "float32"), horizon=5).shape
    (3, 5, 2)
    """
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon <= 0:
        raise ValueError(f"horizon (how many steps to generate) must be a positive integer, received {horizon!r}.")
    layers = step_plan(model, "generate")
    x = to_tensor(x, device_of(model), integers_as_float=True)
    if x.dim() != 3:
        raise ValueError(f"generate: x must be (batch, time_steps, features), received shape {tuple(x.shape)}.")
    features = input_features(model, layers)
    if features is not None and x.shape[-1] != features:
        raise ValueError(f"generate: the model reads {features} features per step; x has {x.shape[-1]} "
                         f"(shape {tuple(x.shape)}). Pass x with {features} features on its last axis, "
                         "(batch, time_steps, features), as the model was trained on.")
    recurrent = [l for l in layers if isinstance(l, RNN)]
    if from_kept_states is None:
        from_kept_states = any(l.stateful and l.states is not None for l in recurrent)
    model.eval()
    with torch.no_grad():
        states = initial_states(layers, x.shape[0], from_kept_states, "generate")
        out = prime_layers(layers, x, states)  # the whole history once -> (B, outputs): the first new step
        checks.weight_size("generate", f"horizon={horizon}", (x.shape[0], horizon, out.shape[-1]),
                           what="an output array")
        steppers = step_functions(layers, x.shape[0])
        produced = []
        for k in range(horizon):
            produced.append(out)
            if k == horizon - 1:
                break
            nxt = feedback(out) if feedback is not None else out
            if nxt.shape[-1] != x.shape[-1]:
                raise ValueError(
                    f"generate: the model outputs {out.shape[-1]} values per step but reads {x.shape[-1]} "
                    "features, so an output cannot be fed back as the next input. Build the model with "
                    f"outputs={x.shape[-1]} (= features), or pass feedback=fn mapping an output to an input.")
            out = advance(steppers, nxt, states)  # (B, F): one step, carried through every layer
        if update_states:
            for layer in recurrent:
                if layer.stateful:
                    layer.reset_states(states[layer.state_key])
    return to_numpy(torch.stack(produced, dim=1))
