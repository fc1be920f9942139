"""Keras's Circle loss (keras/src/losses/losses.py `circle`; Sun et al., 2020): metric learning on
L2-normalised embeddings, pulling each sample towards the others of its class and away from the rest.

y_true: (batch,) integer class labels; y_pred: (batch, dim) unit-norm embeddings (a Dense without
activation, then UnitNormalization). Each sample's loss compares its cosine distances to the reference
embeddings (by default the batch itself, without the sample's own pair) with the margin, scaled by
gamma. A sample with no other sample of its class, or none of another, has loss 0, and, as Keras masks
those zeros, the batch's loss averages over the samples whose loss is above 0.
"""

from __future__ import annotations

import torch

from .. import keras_mask
from .base import loss_class
from .reduction import built_in, reduce_weighted, squeeze_or_expand_to_same_rank

Tensor = torch.Tensor


@built_in
def circle(y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None, ref_labels=None,
           ref_embeddings=None, remove_diagonal: bool = True, gamma: float = 80, margin: float = 0.4) -> Tensor:
    """Keras's circle: one value per sample of y_pred against the reference embeddings (`ref_embeddings`
    with `ref_labels`; None: y_pred with y_true), the values of 0 masked out."""
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)  # as Keras's LossFunctionWrapper
    refs = y_pred if ref_embeddings is None else torch.as_tensor(ref_embeddings, device=y_pred.device)
    refs = refs.to(y_pred.dtype)
    ref_labels = y_true if ref_labels is None else torch.as_tensor(ref_labels, device=y_pred.device)
    queries = _labels(y_true, y_pred, "y_true", "y_pred")
    keys = _labels(ref_labels, refs, "ref_labels", "ref_embeddings")
    if refs.shape[-1] != y_pred.shape[-1]:
        raise ValueError(f"ref_embeddings have {refs.shape[-1]} values per embedding and y_pred {y_pred.shape[-1]}: "
                         "give both embeddings of the same size.")

    distances = (1 - y_pred @ refs.T).clamp_min(0.0)  # cosine distances of unit vectors
    positive = queries[:, None] == keys[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(len(queries), len(keys), dtype=torch.bool, device=positive.device)
    pos_weights = ((margin + distances) * positive).clamp_min(0.0)
    neg_weights = ((1 + margin - distances) * negative).clamp_min(0.0)
    pos_scores = -1 * gamma * pos_weights * (margin - distances)
    neg_scores = gamma * neg_weights * ((1 - margin) - distances)
    # Keras leaves the other pairs out with -inf; a finite floor gives the same sums (its exp is 0) and no
    # NaN gradient for a sample with no pair of a kind
    floor = torch.tensor(torch.finfo(distances.dtype).min / 4, dtype=distances.dtype, device=distances.device)
    p_loss = torch.logsumexp(torch.where(positive, pos_scores, floor), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_scores, floor), dim=1)
    values = torch.nn.functional.softplus(p_loss + n_loss)
    return reduce_weighted(keras_mask.attach(values, values > 0), sample_weight)


Circle = loss_class("Circle", circle, "Keras's Circle(gamma=80.0, margin=0.4, remove_diagonal=True, reduction, "
                    "name, dtype): the circle loss of integer labels and unit-norm embeddings.",
                    positional=("gamma", "margin", "remove_diagonal", "reduction", "name", "dtype"),
                    options=("gamma", "margin", "remove_diagonal"), integer_targets=True)


def _labels(labels: Tensor, embeddings: Tensor, label_name: str, embedding_name: str) -> Tensor:
    """(n,) integer labels of n embeddings of shape (n, dim), or a clear error."""
    if embeddings.dim() != 2:
        raise ValueError(f"Circle's {embedding_name} are expected to be L2-normalised embeddings of shape "
                         f"(batch_size, embedding_dim). Received: {embedding_name}.shape={tuple(embeddings.shape)}. "
                         "End the model with Dense(dim) and UnitNormalization, without a time axis.")
    if labels.dim() == 2 and labels.shape[-1] == 1:
        labels = labels[:, 0]
    if labels.dim() != 1 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(f"Circle's {label_name} are expected to be one integer class label per embedding, shape "
                         f"({embeddings.shape[0]},). Received: {label_name}.shape={tuple(labels.shape)}.")
    return labels.to(torch.int32).long()  # Keras casts to int32 (truncating any fraction)


def target_shape_error(y_shape: tuple, out_shape: tuple, loss_name: str = "") -> str | None:
    """Why compile's targets of shape `y_shape` cannot go with Circle's output `out_shape` (None: they can)."""
    if len(out_shape) != 2:
        return (f" Circle needs one embedding per sample, (batch, embedding_dim); the model's output is "
                f"{out_shape}.")
    if y_shape not in ((out_shape[0],), (out_shape[0], 1)):
        return f" Circle's targets are one integer class label per sample, shape ({out_shape[0]},); received {y_shape}."
    return None
