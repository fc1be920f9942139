"""`layer.losses` and `model.losses` as Keras 3 computes them, and constraints after an update.

`losses` lists, for a layer and everything inside it: the activity penalties of the last forward pass
(each layer's `activity_regularizer` of each output, divided by the batch size), then one penalty per
regularized trainable weight, computed from the weights now (`cells.penalties`). `fit` adds their sum to
the loss and calls `apply_constraints` after each optimizer step (Keras's `compute_loss` and
`apply_gradients`).

Activity penalties belong to one forward pass: a layer's list is emptied the first time it runs in a
new outermost call (a model's or the layer's own), as Keras clears losses on entering a call. PyTorch's
global module hooks count the nesting; they are installed only once a layer has an activity
regularizer, and removed when no such layer is left, so other programs pay nothing.
"""

from __future__ import annotations

import weakref

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from ..cells.penalties import mark_in_use, penalties_in_use

Tensor = torch.Tensor


class _Calls:
    """The nesting of module calls now, and which outermost call this is."""
    depth = 0
    generation = 0
    hooks: tuple | None = None
    owners = 0  # live layers that have had an activity regularizer


def _enter(module, args) -> None:
    if _Calls.depth == 0:
        _Calls.generation += 1
    _Calls.depth += 1


def _leave(module, args, output) -> None:
    _Calls.depth = max(0, _Calls.depth - 1)
    regularizer = getattr(module, "activity_regularizer", None)
    if regularizer is None or output is None:
        return
    outputs = output if isinstance(output, (list, tuple)) else [output]
    for out in outputs:
        if isinstance(out, Tensor) and out.is_floating_point():
            loss = regularizer(out)
            if out.dim() > 0:  # the same strength whatever the batch size (Keras's divide_no_nan)
                loss = loss / out.shape[0] if out.shape[0] else torch.zeros_like(torch.as_tensor(loss))
            add_activity_loss(module, loss)


def track_activity(layer: nn.Module) -> None:
    """Record activity penalties from now on (`layer` got an activity regularizer) until no layer that
    had one is left."""
    mark_in_use()
    if layer.__dict__.get("_tracks_activity"):
        return
    layer.__dict__["_tracks_activity"] = True
    _Calls.owners += 1
    weakref.finalize(layer, _release)
    if _Calls.hooks is None:
        _Calls.depth = 0
        _Calls.hooks = (register_module_forward_pre_hook(_enter),
                        register_module_forward_hook(_leave, always_call=True))


def _release() -> None:
    _Calls.owners -= 1
    if _Calls.owners == 0 and _Calls.hooks is not None:
        for hook in _Calls.hooks:
            hook.remove()
        _Calls.hooks = None


def add_activity_loss(layer: nn.Module, loss) -> None:
    """Record `loss` for `layer` in this forward pass (Keras's `add_loss` during a call)."""
    generation, kept = layer.__dict__.get("_activity_losses", (None, []))
    if generation != _Calls.generation:
        kept = []
    kept.append(loss)
    layer.__dict__["_activity_losses"] = (_Calls.generation, kept)


def collect_losses(module: nn.Module) -> list[Tensor]:
    """Keras's `losses` of `module`: activity penalties of its last forward pass (own first, then the
    layers inside), then the penalties of its regularized trainable weights."""
    if not penalties_in_use():
        return []
    kept = [m.__dict__["_activity_losses"] for m in module.modules() if "_activity_losses" in m.__dict__]
    generations = [generation for generation, _ in kept]  # not max(genexpr, default=): dynamo cannot trace that
    latest = max(generations) if generations else None
    found: list[Tensor] = []
    for generation, losses in kept:  # a layer the last forward pass did not run has no activity loss
        if generation == latest:
            found.extend(losses)
    for m in module.modules():
        weight_losses = getattr(m, "weight_losses", None)
        if callable(weight_losses):
            found.extend(weight_losses())
    return found


def apply_constraints(module: nn.Module) -> None:
    """Project every constrained weight in `module` (after an optimizer step)."""
    if not penalties_in_use():
        return
    for m in module.modules():
        apply = getattr(m, "apply_constraints", None)
        if callable(apply):
            apply()


def has_penalties(module: nn.Module) -> bool:
    """Whether `module` holds a layer with an activity regularizer or a weight regularizer or constraint."""
    if not penalties_in_use():
        return False
    return any(value is not None for m in module.modules() for key, value in vars(m).items()
               if key.endswith(("_regularizer", "_constraint")))
