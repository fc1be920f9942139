"""Keras's CTC loss (connectionist temporal classification; keras/src/losses/losses.py `ctc` and the
torch backend's `ctc_loss`), for a recurrent model that reads a sequence and spells a shorter one.

y_pred: (batch, time, classes) scores per time step. As Keras's, they are logits: the loss takes their
log_softmax itself, so a last Dense without activation fits it; a softmax output is taken as logits
too, as Keras does (the loss then trains more slowly), so prefer logits. y_true: (batch,
max_label_length) class ids, padded with 0. Class 0 is the blank and the padding (Keras's mask_index),
so labels count from 1: a task with K symbols needs K + 1 output units. A label's length is its
number of non-zero ids; every sequence is scored over all `time` steps. The loss per sample is the
negative log-likelihood of its label (not divided by the label's length), reduced over the batch as
every Keras loss is. A label no alignment can fit (longer than the steps, counting the blank a
repeated id needs between its copies) gives an infinite loss, as Keras on torch.

>>> import torch
>>> logits = (torch.arange(24.0).reshape(2, 4, 3) - 12) / 100
>>> round(float(ctc(torch.tensor([[1, 2, 1, 0], [1, 2, 0, 2]]), logits)), 5)
2.44865
"""

from __future__ import annotations

import torch

from .. import keras_mask
from .base import loss_class
from .reduction import built_in, reduce_weighted, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor
MASK_INDEX = 0  # Keras's: the blank of the alignment and the padding of the labels


@built_in
def ctc(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """Keras's ctc: the CTC loss of (batch, time, classes) logits against (batch, max_label_length) labels
    padded with 0, one value per sample, reduced as every built-in loss."""
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)  # as Keras's LossFunctionWrapper
    _check(y_true, y_pred)
    logits = y_pred.to(torch.promote_types(y_pred.dtype, torch.float32))  # Keras: at least float32
    batch, steps, _ = logits.shape
    labels = y_true.long()
    label_length = (labels != MASK_INDEX).sum(-1)
    input_length = torch.full((batch,), steps, dtype=torch.long, device=logits.device)
    log_probs = torch.log_softmax(logits.transpose(0, 1), dim=-1)  # (time, batch, classes)
    values = torch.nn.functional.ctc_loss(log_probs, labels, input_length, label_length, blank=MASK_INDEX,
                                          reduction="none", zero_infinity=False)
    return reduce_weighted(values, sample_weight)


CTC = loss_class("CTC", ctc, "Keras's CTC(reduction, name, dtype): the CTC loss of logits against labels padded "
                 "with 0 (see rnnkit.loss_functions.ctc).", integer_targets=True)


def _check(y_true: Tensor, y_pred: Tensor) -> None:
    if y_true.dim() != 2:
        raise ValueError("CTC's targets y_true are expected to be a tensor of shape (batch_size, max_length) of "
                         f"integer class ids, padded with 0. Received: y_true.shape={tuple(y_true.shape)}. Give "
                         "each sample its label sequence, padded with 0 to the longest.")
    if y_pred.dim() != 3:
        raise ValueError("CTC's logits y_pred are expected to be a tensor of shape (batch_size, max_length, "
                         f"num_classes). Received: y_pred.shape={tuple(y_pred.shape)}. Give the model an output "
                         "per time step (return_sequences=True on the last recurrent layer) with one unit per "
                         "class plus the blank (class 0).")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"CTC's y_true has {y_true.shape[0]} label sequences and y_pred {y_pred.shape[0]} "
                         "sequences of logits: give one label sequence per sample.")
    if keras_mask.get(y_pred) is not None:
        raise ValueError("CTC's y_pred carries a mask (Masking or mask_zero upstream), but Keras's CTC scores "
                         "every sequence over all its time steps and cannot leave steps out (Keras fails on "
                         "it too). Remove the mask (mask_zero=False, no Masking layer) before the CTC output.")
    if torch.compiler.is_compiling() or y_true.numel() == 0:  # the compiled step's first batch ran eagerly
        return
    if y_true.is_floating_point() and bool((y_true != y_true.round()).any()):
        raise ValueError("CTC's labels y_true must be whole-number class ids, received "
                         f"{float(y_true[y_true != y_true.round()][0])}. Give each step of a label its class id "
                         "(1, 2, ...), padded with 0.")
    classes = y_pred.shape[-1]
    low, high = int(y_true.min()), int(y_true.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise ValueError(f"CTC's labels y_true must be class ids in [0, {classes}) for y_pred's {classes} classes "
                         f"(0 the blank and the padding), received {bad}. Pad the labels with 0 (not -1), and "
                         f"give the last layer one unit per symbol plus the blank ({max(high + 1, classes)} for "
                         "these labels).")


def target_shape_error(y_shape: tuple, out_shape: tuple, loss_name: str = "") -> str | None:
    """Why compile's targets of shape `y_shape` cannot go with CTC's output `out_shape` (None: they can)."""
    if len(out_shape) != 3:
        return (f" CTC needs an output per time step, (batch, time, classes); the model's is {out_shape}: set "
                "return_sequences=True on the last recurrent layer.")
    if len(y_shape) != 2 or y_shape[0] != out_shape[0]:
        return (f" CTC's targets are label sequences of class ids padded with 0, shape (batch, max_label_length) "
                f"= ({out_shape[0]}, L); received {y_shape}.")
    return None
