"""Attention: dot-product (Luong-style) attention of a query over a value sequence (Keras's `Attention`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..registry import BUILTIN, register_serializable
from .base import Layer

SCORE_MODES = ("dot", "concat")


@register_serializable(package=BUILTIN)
class Attention(Layer):
    """Dot-product attention, a.k.a. Luong-style attention (Keras's `Attention`).

    Called on `[query, value]` or `[query, value, key]` (key defaults to value): scores = query . key,
    softmax over the value steps, output = softmax(scores) @ value.

    Args:
        use_scale: learn a scalar `scale` that multiplies the scores.
        score_mode: "dot" (query . key) or "concat" (sum of tanh(query + key), times a learned scalar
            `concat_score_weight`).
        dropout: fraction of the attention weights dropped while training.
        seed: seed of the dropout draws (None: PyTorch's global generator).

    Call arguments: `mask=[query_mask, value_mask]` (True where a step is real: a masked query step
    outputs zeros, a masked value step gets no weight), `return_attention_scores` (also return the
    weights after masking and softmax), `use_causal_mask` (query step i sees value steps j <= i),
    `training`.

    Input shape: query (B, Tq, D), value (B, Tv, D), key (B, Tv, D). Output shape: (B, Tq, D), and the
    scores (B, Tq, Tv) with `return_attention_scores=True`.

    >>> import torch
    >>> out, scores = Attention()([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)], return_attention_scores=True)
    >>> out.shape, scores.shape
    (torch.Size([2, 3, 4]), torch.Size([2, 3, 5]))
    """

    supports_masking = True
    list_masks = True  # a functional model hands it [query_mask, value_mask(, key_mask)], as Keras does

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, name: str | None = None):
        super().__init__(name)
        if score_mode not in SCORE_MODES:
            raise ValueError("Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                             f"Received: score_mode={score_mode}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"Attention `dropout` is a fraction in [0, 1], received dropout={dropout}.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.build(None)

    # -- weights (Keras's: scale, then concat_score_weight, both scalars starting at 1) ------------------
    def build(self, input_shape) -> None:
        self.scale = nn.Parameter(torch.ones(())) if self.use_scale else None
        self.concat_score_weight = nn.Parameter(torch.ones(())) if self.score_mode == "concat" else None

    def _keras_params(self) -> list[nn.Parameter]:
        return [p for p in (self.scale, self.concat_score_weight) if p is not None]

    def keras_weights(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy() for p in self._keras_params()]

    def set_keras_weights(self, weights) -> None:
        """Keras's order: scale, concat_score_weight (those present)."""
        params = self._keras_params()
        if len(weights) != len(params):
            raise ValueError(f"{type(self).__name__} {self.name!r} has {len(params)} weight(s), received "
                             f"{len(weights)}.")
        with torch.no_grad():
            for p, w in zip(params, weights):
                w = torch.as_tensor(np.asarray(w, dtype=np.float32))
                if tuple(w.shape) != tuple(p.shape):
                    raise ValueError(f"{type(self).__name__} {self.name!r}: weight of shape {tuple(p.shape)} "
                                     f"received shape {tuple(w.shape)}.")
                p.copy_(w)

    # -- the math (Keras's override points, same names) ---------------------------------------------------
    def _calculate_scores(self, query, key):
        # B: batch, Tq / Tv: query / value steps, D: features
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)  # -> (B, Tq, Tv)
            return scores * self.scale if self.scale is not None else scores
        q, k = query.unsqueeze(-2), key.unsqueeze(-3)  # -> (B, Tq, 1, D), (B, 1, Tv, D)
        summed = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * torch.tanh(summed).sum(dim=-1)  # -> (B, Tq, Tv)

    def _apply_scores(self, scores, value, scores_mask=None, training: bool = False):
        if scores_mask is not None:
            # a large negative bias rather than -inf, as Keras: a fully masked row stays finite (uniform)
            max_value = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            padding = ~scores_mask
            if padding.dim() == 2:
                padding = padding.unsqueeze(-2)  # (B, Tv) -> (B, 1, Tv)
            scores = torch.where(padding, scores - max_value, scores)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            if self.dropout >= 1.0:
                weights = torch.zeros_like(weights)
            else:
                keep = torch.rand(weights.shape, generator=self._generator).to(weights.device) >= self.dropout
                weights = torch.where(keep, weights / (1.0 - self.dropout), torch.zeros_like(weights))
        return weights @ value, weights  # -> (B, Tq, D), (B, Tq, Tv)

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask: bool):
        if v_mask is not None:
            v_mask = torch.as_tensor(v_mask, device=scores.device).bool()
        if not use_causal_mask:
            return v_mask
        tq, tv = scores.shape[-2], scores.shape[-1]
        causal = torch.ones(tq, tv, dtype=torch.bool, device=scores.device).tril().unsqueeze(0)  # (1, Tq, Tv)
        return causal if v_mask is None else v_mask.unsqueeze(-2) & causal

    def forward(self, inputs, mask=None, training: bool | None = None, return_attention_scores: bool = False,
                use_causal_mask: bool = False):
        self._validate_inputs(inputs, mask)
        training = self.training if training is None else training
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, weights = self._apply_scores(scores, v, scores_mask, training=bool(training))
        if q_mask is not None:
            q_mask = torch.as_tensor(q_mask, device=output.device).bool().unsqueeze(-1)  # -> (B, Tq, 1)
            output = torch.where(q_mask, output, torch.zeros_like(output))
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, mask=None):
        """The query's mask (the output has the query's steps)."""
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return torch.as_tensor(np.asarray(mask[0]) if not isinstance(mask[0], torch.Tensor) else mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def _validate_inputs(self, inputs, mask=None) -> None:
        class_name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{class_name} layer must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: inputs of type {type(inputs).__name__}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{class_name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                             f"[query, value, key]. Received length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{class_name} layer mask must be a list, namely [query_mask, value_mask]. "
                                 f"Received: mask of type {type(mask).__name__}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{class_name} layer accepts mask list of length 2 or 3. Received: mask list "
                                 f"of length {len(mask)}.")

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}
