"""Keras's loss and metric names, computed as Keras computes them (probabilities in, not logits)."""

from __future__ import annotations

from typing import Callable

import torch

# Loss, LossFunctionWrapper, the classes and functions of CTC, Dice, Tversky and Circle, and the reduction
# helpers the training loop and the metrics use are rnnkit.losses's too
from .loss_functions.base import Loss, LossFunctionWrapper, loss_class  # noqa: F401
from .loss_functions.circle import Circle, circle  # noqa: F401
from .loss_functions.circle import target_shape_error as _circle_target_error
from .loss_functions.ctc import CTC, ctc  # noqa: F401
from .loss_functions.ctc import target_shape_error as _ctc_target_error
from .loss_functions.overlap import Dice, Tversky, dice, tversky  # noqa: F401
from .loss_functions.reduction import (apply_mask, built_in, reduce_weighted,  # noqa: F401
                                       squeeze_or_expand_to_same_rank)

Tensor = torch.Tensor
_EPS = 1e-7  # Keras's backend epsilon, used to clip probabilities before the log
_LOG2 = 0.6931471805599453


# Each built-in loss is Keras's: a value per sample (per time step for sequences) reduced over the last
# axis, then Keras's "sum_over_batch_size" reduction: sum(values * sample_weight) / values.numel(). The
# weights are not normalised by their sum, so weights of 2 double the loss (loss_functions.reduction).
# Keras's CTC, Dice, Tversky and Circle live in loss_functions (ctc, overlap, circle); Loss and
# LossFunctionWrapper in loss_functions.base.


def mean_squared_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted(((y_pred - y_true) ** 2).mean(-1), sample_weight)


def mean_absolute_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted((y_pred - y_true).abs().mean(-1), sample_weight)


def binary_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None,
                        from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:  # log(sigmoid(z)) and log(1 - sigmoid(z)) = log(sigmoid(-z)), stable for any z
        f = torch.nn.functional.logsigmoid
        return reduce_weighted(-(y_true * f(y_pred) + (1 - y_true) * f(-y_pred)).mean(-1), sample_weight)
    p = y_pred.clamp(_EPS, 1 - _EPS)
    return reduce_weighted(-(y_true * p.log() + (1 - y_true) * (1 - p).log()).mean(-1), sample_weight)


def categorical_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None,
                             from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        return reduce_weighted(-(y_true * torch.log_softmax(y_pred, -1)).sum(-1), sample_weight)
    p = y_pred / y_pred.sum(-1, keepdim=True)
    return reduce_weighted(-(y_true * p.clamp(_EPS, 1 - _EPS).log()).sum(-1), sample_weight)


def sparse_categorical_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None,
                                    from_logits: bool = False) -> Tensor:
    # y_pred: (..., classes) probabilities (logits with from_logits); y_true: (...) or (..., 1) class ids
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    if from_logits:
        logp = torch.log_softmax(y_pred, -1)
    else:
        p = y_pred / y_pred.sum(-1, keepdim=True)
        logp = p.clamp(_EPS, 1 - _EPS).log()
    values = -logp.gather(-1, y_true.long().unsqueeze(-1)).squeeze(-1)  # -> y_true's shape
    return reduce_weighted(values, sample_weight)


def _hinge_labels(y_true: Tensor) -> Tensor:
    # Keras's convert_binary_labels_to_hinge: labels that are all 0 or 1 become -1 or 1
    binary = bool(((y_true == 0) | (y_true == 1)).all())
    return 2.0 * y_true - 1.0 if binary else y_true


def mean_absolute_percentage_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    diff = ((y_true - y_pred) / y_true.abs().clamp_min(_EPS)).abs()
    return reduce_weighted(100.0 * diff.mean(-1), sample_weight)


def mean_squared_logarithmic_error(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    first, second = (y_pred.clamp_min(_EPS) + 1.0).log(), (y_true.clamp_min(_EPS) + 1.0).log()
    return reduce_weighted(((first - second) ** 2).mean(-1), sample_weight)


def huber(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None, delta: float = 1.0) -> Tensor:
    error = y_pred - y_true
    abs_error = error.abs()
    values = torch.where(abs_error <= delta, 0.5 * error ** 2, delta * abs_error - 0.5 * delta ** 2)
    return reduce_weighted(values.mean(-1), sample_weight)


def log_cosh(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    x = y_pred - y_true  # log(cosh(x)) = x + softplus(-2x) - log(2), finite for large |x|
    return reduce_weighted((x + torch.nn.functional.softplus(-2.0 * x) - _LOG2).mean(-1), sample_weight)


def kl_divergence(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    t, p = y_true.clamp(_EPS, 1.0), y_pred.clamp(_EPS, 1.0)
    return reduce_weighted((t * (t / p).log()).sum(-1), sample_weight)


def poisson(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted((y_pred - y_true * (y_pred + _EPS).log()).mean(-1), sample_weight)


def hinge(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted((1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).mean(-1), sample_weight)


def squared_hinge(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    return reduce_weighted(((1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0) ** 2).mean(-1), sample_weight)


def categorical_hinge(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return reduce_weighted((neg - pos + 1.0).clamp_min(0.0), sample_weight)


def cosine_similarity(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    def normalize(x):  # Keras's l2 normalisation: x / sqrt(max(sum(x^2), 1e-12))
        return x * (x * x).sum(-1, keepdim=True).clamp_min(1e-12).rsqrt()
    return reduce_weighted(-(normalize(y_true) * normalize(y_pred)).sum(-1), sample_weight)


def binary_focal_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None,
                              apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                              from_logits: bool = False, label_smoothing: float = 0.0) -> Tensor:
    y_true = _smooth_binary(y_true, label_smoothing)
    p = torch.sigmoid(y_pred) if from_logits else y_pred
    pc = p.clamp(_EPS, 1 - _EPS)
    bce = -(y_true * pc.log() + (1 - y_true) * (1 - pc).log())
    p_t = y_true * p + (1 - y_true) * (1 - p)
    values = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        values = (y_true * alpha + (1 - y_true) * (1 - alpha)) * values
    return reduce_weighted(values.mean(-1), sample_weight)


def categorical_focal_crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None,
                                   alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0) -> Tensor:
    y_true = _smooth_categorical(y_true, label_smoothing)
    p = torch.softmax(y_pred, -1) if from_logits else y_pred
    p = (p / p.sum(-1, keepdim=True)).clamp(_EPS, 1 - _EPS)
    values = alpha * (1.0 - p) ** gamma * (-y_true * p.log())
    return reduce_weighted(values.sum(-1), sample_weight)


def _smooth_binary(y_true: Tensor, label_smoothing: float) -> Tensor:
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def _smooth_categorical(y_true: Tensor, label_smoothing: float) -> Tensor:
    return y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1] if label_smoothing else y_true


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "mape": mean_absolute_percentage_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "huber": huber,
    "log_cosh": log_cosh,
    "kl_divergence": kl_divergence,
    "kld": kl_divergence,
    "poisson": poisson,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "cosine_similarity": cosine_similarity,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "ctc": ctc,
    "dice": dice,
    "tversky": tversky,
    "circle": circle,
}
for _fn in LOSSES.values():
    built_in(_fn)  # LossFunctionWrapper asks them for their values per sample
_UPPER_CASE = {"MSE": "mse", "MAE": "mae", "MAPE": "mape", "MSLE": "msle", "KLD": "kld"}  # Keras accepts these too

MeanSquaredError = loss_class("MeanSquaredError", mean_squared_error, "Keras's MeanSquaredError.")
MeanAbsoluteError = loss_class("MeanAbsoluteError", mean_absolute_error, "Keras's MeanAbsoluteError.")
MeanAbsolutePercentageError = loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                         "Keras's MeanAbsolutePercentageError.")
MeanSquaredLogarithmicError = loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                         "Keras's MeanSquaredLogarithmicError.")
Huber = loss_class("Huber", huber, "Keras's Huber(delta=1.0).")
LogCosh = loss_class("LogCosh", log_cosh, "Keras's LogCosh.")
KLDivergence = loss_class("KLDivergence", kl_divergence, "Keras's KLDivergence.")
Poisson = loss_class("Poisson", poisson, "Keras's Poisson.")
Hinge = loss_class("Hinge", hinge, "Keras's Hinge (labels 0/1 taken as -1/1).")
SquaredHinge = loss_class("SquaredHinge", squared_hinge, "Keras's SquaredHinge.")
CategoricalHinge = loss_class("CategoricalHinge", categorical_hinge, "Keras's CategoricalHinge.")
CosineSimilarity = loss_class("CosineSimilarity", cosine_similarity, "Keras's CosineSimilarity (last axis).")
BinaryCrossentropy = loss_class("BinaryCrossentropy", binary_crossentropy,
                                "Keras's BinaryCrossentropy(from_logits=False, label_smoothing=0.0).")
CategoricalCrossentropy = loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                     "Keras's CategoricalCrossentropy(from_logits=False, label_smoothing=0.0).")
SparseCategoricalCrossentropy = loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                           "Keras's SparseCategoricalCrossentropy(from_logits=False).",
                                           integer_targets=True)
BinaryFocalCrossentropy = loss_class("BinaryFocalCrossentropy", binary_focal_crossentropy,
                                     "Keras's BinaryFocalCrossentropy.")
CategoricalFocalCrossentropy = loss_class("CategoricalFocalCrossentropy", categorical_focal_crossentropy,
                                          "Keras's CategoricalFocalCrossentropy.")


def is_binary_or_sparse_categorical(y_true_shape: tuple, y_pred_shape: tuple) -> tuple[bool, bool]:
    """Keras's compile_utils rule behind "crossentropy" and "accuracy": one output unit is binary; labels
    of lower rank, or one label per row against several units, are sparse categorical."""
    binary = y_pred_shape[-1] == 1
    sparse = len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1)
    return binary, sparse


def _picked_crossentropy(y_true_shape: tuple, y_pred_shape: tuple) -> str:
    binary, sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    return "binary_crossentropy" if binary else ("sparse_categorical_crossentropy" if sparse
                                                  else "categorical_crossentropy")


def crossentropy(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """Keras's compile(loss="crossentropy") / "ce": binary, sparse categorical or categorical
    crossentropy, picked from the shapes as Keras picks it."""
    fn = LOSSES[_picked_crossentropy(tuple(y_true.shape), tuple(y_pred.shape))]
    return fn(y_true, y_pred, sample_weight)


def get(loss) -> tuple[Callable[[Tensor, Tensor], Tensor], str]:
    """A loss function `fn(y_true, y_pred)` and its name, from a Keras name or a callable.

    Torch loss modules (`nn.MSELoss()`) take (input, target); they are wrapped accordingly.

    >>> fn, name = get("mse")
    >>> float(fn(torch.zeros(2), torch.ones(2))), name
    (1.0, 'mean_squared_error')
    """
    if isinstance(loss, Loss):  # per-sample values; compile's reduction weighs them as Keras's does
        return loss.values, loss.name
    if isinstance(loss, str) and loss.lower() in ("crossentropy", "ce"):
        return crossentropy, loss  # Keras names the loss as the user did
    if isinstance(loss, str):
        loss = _UPPER_CASE.get(loss, loss)
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


_TARGET_RULES = {"ctc": _ctc_target_error, "circle": _circle_target_error}  # targets not shaped like the output


def check_targets(loss_name: str, y_shape: tuple, out_shape: tuple, return_sequences: bool | None) -> None:
    """Refuse targets whose shape cannot match the model's output (rather than broadcasting silently)."""
    y_shape, out_shape = tuple(y_shape), tuple(out_shape)
    hint = _TARGET_RULES.get(loss_name, _output_shaped_targets)(y_shape, out_shape, loss_name)
    if hint is not None:
        raise ValueError(f"Targets y of shape {y_shape} (per batch) cannot match the model's output of shape "
                         f"{out_shape} for loss {loss_name!r}.{hint}")


def _output_shaped_targets(y_shape: tuple, out_shape: tuple, loss_name: str) -> str | None:
    """Why targets of shape `y_shape` cannot go with the output's (None: they can), for the losses whose
    targets are shaped like the output (or one class id per prediction)."""
    if loss_name.lower() in ("crossentropy", "ce"):
        loss_name = _picked_crossentropy(y_shape, out_shape)
    if loss_name == "sparse_categorical_crossentropy":
        ok = y_shape == out_shape[:-1] or y_shape == out_shape[:-1] + (1,)
    else:
        ok = y_shape == out_shape
    if ok:
        return None
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
    return hint
