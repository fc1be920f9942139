"""Keras's loss and metric names, computed as Keras computes them (probabilities in, not logits)."""

from __future__ import annotations

from typing import Callable

import torch

Tensor = torch.Tensor
_EPS = 1e-7  # Keras's backend epsilon, used to clip probabilities before the log


# Each built-in loss is Keras's: a value per sample (per time step for sequences) reduced over the last
# axis, then Keras's "sum_over_batch_size" reduction: sum(values * sample_weight) / values.numel(). The
# weights are not normalised by their sum, so weights of 2 double the loss (keras/src/losses/loss.py).


def mean_squared_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted(((y_pred - y_true) ** 2).mean(-1), sample_weight)


def mean_absolute_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted((y_pred - y_true).abs().mean(-1), sample_weight)


def binary_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    p = y_pred.clamp(_EPS, 1 - _EPS)
    return reduce_weighted(-(y_true * p.log() + (1 - y_true) * (1 - p).log()).mean(-1), sample_weight)


def categorical_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    p = y_pred / y_pred.sum(-1, keepdim=True)
    return reduce_weighted(-(y_true * p.clamp(_EPS, 1 - _EPS).log()).sum(-1), sample_weight)


def sparse_categorical_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    # y_pred: (..., classes) probabilities; y_true: (...) or (..., 1) integer class ids
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    p = y_pred / y_pred.sum(-1, keepdim=True)
    logp = p.clamp(_EPS, 1 - _EPS).log()
    values = -logp.gather(-1, y_true.long().unsqueeze(-1)).squeeze(-1)  # -> y_true's shape
    return reduce_weighted(values, sample_weight)


def reduce_weighted(values: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """Keras's `reduce_weighted_values` with "sum_over_batch_size": sum(values * w) / values.numel().

    The weight's rank is matched to the values' as Keras's `squeeze_or_expand_to_same_rank` does (a
    trailing axis of 1 dropped or added); per-sample weights (B,) on per-step values (B, T) apply to every
    step, as in Keras 2 (Keras 3 broadcasts them against the time axis and fails). A scalar `values`
    (a custom loss that reduced itself) is scaled by the weights' mean, as Keras's reduction does.

    >>> float(reduce_weighted(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 0.0])))
    1.0
    """
    if sample_weight is None:
        return values.mean() if values.dim() else values
    w = sample_weight.to(values.dtype)
    if values.dim() == w.dim() + 1 and values.shape[-1] == 1:
        values = values.squeeze(-1)
    elif w.dim() == values.dim() + 1 and w.shape[-1] == 1:
        w = w.squeeze(-1)
    if values.dim() == 0:
        return (values * w).mean()
    w = w.reshape(tuple(w.shape) + (1,) * (values.dim() - w.dim()))  # (B,) -> (B, 1): every step of a sample
    try:
        torch.broadcast_shapes(tuple(w.shape), tuple(values.shape))
    except RuntimeError:
        raise ValueError(f"sample_weight of shape {tuple(sample_weight.shape)} does not fit the loss values of "
                         f"shape {tuple(values.shape)}: give one weight per sample, shape {tuple(values.shape[:1])}, "
                         f"or per sample and time step, shape {tuple(values.shape)}.") from None
    weighted = values * w
    return weighted.sum() / weighted.numel()  # Keras divides by the weighted values' size


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def get(loss) -> tuple[Callable[[Tensor, Tensor], Tensor], str]:
    """A loss function `fn(y_true, y_pred)` and its name, from a Keras name or a callable.

    Torch loss modules (`nn.MSELoss()`) take (input, target); they are wrapped accordingly.

    >>> fn, name = get("mse")
    >>> float(fn(torch.zeros(2), torch.ones(2))), name
    (1.0, 'mean_squared_error')
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}. Expected one of {sorted(LOSSES)} or a callable "
                             "loss(y_true, y_pred).")
        fn = LOSSES[loss]
        return fn, fn.__name__
    if isinstance(loss, torch.nn.Module):
        return (lambda y_true, y_pred: loss(y_pred, y_true)), type(loss).__name__
    if callable(loss):
        return loss, getattr(loss, "__name__", "loss")
    raise TypeError(f"loss must be a Keras loss name or a callable, received {type(loss).__name__}.")


def check_targets(loss_name: str, y_shape: tuple, out_shape: tuple, return_sequences: bool | None) -> None:
    """Refuse targets whose shape cannot match the model's output (rather than broadcasting silently)."""
    y_shape, out_shape = tuple(y_shape), tuple(out_shape)
    if loss_name == "sparse_categorical_crossentropy":
        ok = y_shape == out_shape[:-1] or y_shape == out_shape[:-1] + (1,)
    else:
        ok = y_shape == out_shape
    if ok:
        return
    hint = ""
    if len(out_shape) == 3 and len(y_shape) == 2:
        hint = (" The model returns one output per time step (a recurrent layer with "
                "return_sequences=True feeds the output): give y one value per step, shape "
                f"{out_shape}, or set return_sequences=False on the last recurrent layer.")
    elif len(out_shape) == 2 and len(y_shape) == 3:
        hint = (" y has a time axis but the model returns one output per sequence (its last recurrent "
                "layer has return_sequences=False): set return_sequences=True (many-to-many), or give "
                f"one target per sequence, shape {out_shape}.")
    elif (len(y_shape) == len(out_shape) and y_shape[:-1] == out_shape[:-1]
          and loss_name != "sparse_categorical_crossentropy"):
        hint = (f" The model's last layer gives {out_shape[-1]} values per target and y has {y_shape[-1]}: give the "
                f"last layer {y_shape[-1]} units, or y {out_shape[-1]} values per target.")
    else:
        hint = f" Give y the shape of the output, {out_shape} per batch."
    raise ValueError(f"Targets y of shape {y_shape} (per batch) cannot match the model's output of shape "
                     f"{out_shape} for loss {loss_name!r}.{hint}")
