"""AdditiveAttention: Bahdanau-style attention, scores = sum(scale * tanh(query + key)) (Keras's layer)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import initializers
from ..registry import BUILTIN, register_serializable
from .attention import Attention


@register_serializable(package=BUILTIN)
class AdditiveAttention(Attention):
    """Additive attention, a.k.a. Bahdanau-style attention (Keras's `AdditiveAttention`).

    As `Attention`, but scores = sum over features of scale * tanh(query + key), with `scale` a learned
    vector of the feature size (Glorot-uniform, made on the first call, when the size is known).

    Args:
        use_scale: learn the per-feature `scale` (else scale = 1).
        dropout: fraction of the attention weights dropped while training.
        seed: seed of the dropout draws.

    >>> import torch
    >>> AdditiveAttention()([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None,
                 name: str | None = None):
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, seed=seed, name=name)

    def build(self, input_shape) -> None:
        self.concat_score_weight = None
        if input_shape is None or not self.use_scale:  # the scale's size is the query's features: wait for it
            self.scale = None
            return
        dim = int(input_shape[0][-1])
        self.scale = nn.Parameter(initializers.get("glorot_uniform")(torch.empty(dim)))

    def awaiting_build(self) -> bool:
        return self.use_scale and self.scale is None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "scale")
        if self.awaiting_build() and saved is not None:
            self.build([tuple(saved.shape)])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_keras_weights(self, weights) -> None:
        if self.awaiting_build() and len(weights) == 1:
            self.build([np.shape(weights[0])])
        super().set_keras_weights(weights)

    def _calculate_scores(self, query, key):
        # B: batch, Tq / Tv: query / value steps, D: features
        q, k = query.unsqueeze(-2), key.unsqueeze(-3)  # -> (B, Tq, 1, D), (B, 1, Tv, D)
        scale = self.scale if self.scale is not None else 1.0
        return (scale * torch.tanh(q + k)).sum(dim=-1)  # -> (B, Tq, Tv)

    def forward(self, inputs, mask=None, training: bool | None = None, return_attention_scores: bool = False,
                use_causal_mask: bool = False):
        self._validate_inputs(inputs, mask)
        if self.awaiting_build():
            self.build([tuple(inputs[0].shape)])
            self.to(inputs[0].device)
        return super().forward(inputs, mask, training, return_attention_scores, use_causal_mask)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
