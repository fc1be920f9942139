"""Keras 3's Muon update rule on torch (keras/src/optimizers/muon.py), and which weights it applies to.

Muon keeps a momentum per weight (m = momentum * m + g) and steps each 2-D weight along the
orthogonalised momentum: Newton-Schulz iterations turn G (g + momentum * m with Nesterov, else m) into
roughly U V^T of its SVD, and w -= lr * NS(G) * sqrt(max(rows, cols)) * rms_rate (Moonlight's scaling;
rms_rate=None leaves it out). Every other weight takes Keras's AdamW step (Muon's `_adamw_update_step`,
state `momentum` and `velocity`) at lr * adam_lr_ratio: weights that are not 2-D, with
exclude_embeddings those whose path contains "embedding", and those whose path matches one of the
`exclude_layers` patterns (`re.search`).

The two kinds are two param groups ("muon": True / False), each with its own decoupled weight decay
(Muon's `weight_decay`, AdamW's `adam_weight_decay`, both at the base learning rate as Keras's
`_apply_weight_decay`). rnnkit keeps a Dense or recurrent kernel transposed, (out, in) for Keras's
(in, out): Newton-Schulz orthogonalises the transpose of a matrix into the transpose of the result, and
for a non-square matrix the arithmetic is the same step for step (Keras transposes the tall one first).
A GRU's two bias tensors are Keras's one (2, 3 * units) matrix (both have its path): they are stacked
into that matrix for the orthogonalisation ("joint" in the group), so they step as Keras's bias does.
"""

from __future__ import annotations

import re

import torch

from ..keras_optimizers import closure_loss

__all__ = ["Muon", "lr_adjust", "muon_param_groups", "uses_adamw", "zeropower_via_newtonschulz5"]


def uses_adamw(path: str, shape: tuple, exclude_layers, exclude_embeddings: bool) -> bool:
    """Keras's `_should_use_adamw` for a weight of this path and (Keras) shape."""
    if len(shape) != 2:
        return True
    if exclude_embeddings and "embedding" in path.lower():
        return True
    return any(re.search(pattern, path) for pattern in exclude_layers or ())


def muon_param_groups(params: list, paths: dict, options: dict, weight_decay) -> list[dict]:
    """The Muon group and the AdamW group (each only if it has weights). Tensors sharing one path (a GRU's
    bias_ih and bias_hh: 1-D, of one length) are one Keras weight of shape (count, length)."""
    by_path: dict[str, list] = {}
    for p in params:
        by_path.setdefault(paths[p], []).append(p)
    muon, adamw, joint = [], [], []
    for path, tensors in by_path.items():
        stacked = len(tensors) > 1 and all(t.dim() == 1 and t.shape == tensors[0].shape for t in tensors)
        units = [tensors] if stacked else [[t] for t in tensors]
        for unit in units:
            shape = (len(unit), unit[0].shape[0]) if len(unit) > 1 else tuple(unit[0].shape)
            if uses_adamw(path, shape, options["exclude_layers"], options["exclude_embeddings"]):
                adamw.extend(unit)
            else:
                if len(unit) > 1:
                    joint.append(list(range(len(muon), len(muon) + len(unit))))
                muon.extend(unit)
    groups = []
    if muon or not adamw:
        groups.append({"params": muon, "muon": True, "joint": joint, "keras_weight_decay": weight_decay})
    if adamw:
        groups.append({"params": adamw, "muon": False, "keras_weight_decay": options["adam_weight_decay"]})
    return groups


def _transpose_last_axes(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(-2, -1)


def zeropower_via_newtonschulz5(x: torch.Tensor, steps: int, a=3.4445, b=-4.7750, c=2.0315) -> torch.Tensor:
    """Keras's `zeropower_via_newtonschulz5`: x scaled to spectral norm <= 1 (x / (|x|_F + 1e-7)), then
    `steps` quintic iterations x = a x + (b A + c A A) x, A = x x^T, on the wide orientation."""
    if x.dim() < 2:
        raise ValueError(f"Expected gradient or momentum to have at least 2 dimensions. Received: "
                         f"shape={tuple(x.shape)}")
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = _transpose_last_axes(x)
    x = x / (torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        temp_a = x @ _transpose_last_axes(x)
        temp_b = b * temp_a + (c * temp_a) @ temp_a
        x = a * x + temp_b @ x
    return _transpose_last_axes(x) if tall else x


def lr_adjust(x: torch.Tensor, rms_rate: float | None) -> torch.Tensor:
    """Keras's `lr_adjust` (Moonlight): the step of a (rows, cols) weight times sqrt(max(rows, cols)) * rms_rate,
    so that its RMS matches AdamW's; as it is when rms_rate is None."""
    if rms_rate is None:
        return x
    return x * float(max(x.shape[0], x.shape[1])) ** 0.5 * rms_rate


class Muon(torch.optim.Optimizer):
    """Keras's Muon over the param groups `muon_param_groups` makes; per-parameter state `momentum`
    (both kinds) and `velocity` (the AdamW weights), and `step`, the updates so far."""

    def __init__(self, params, lr=0.001, adam_beta_1=0.9, adam_beta_2=0.999, epsilon=1e-7, muon_a=3.4445,
                 muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1.0, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2):
        super().__init__(params, dict(lr=lr, adam_beta_1=adam_beta_1, adam_beta_2=adam_beta_2, epsilon=epsilon,
                                      muon_a=muon_a, muon_b=muon_b, muon_c=muon_c, adam_lr_ratio=adam_lr_ratio,
                                      momentum=momentum, ns_steps=ns_steps, nesterov=nesterov, rms_rate=rms_rate,
                                      muon=True, joint=[]))

    def _state(self, p: torch.Tensor, adamw: bool) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["momentum"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if adamw:
                state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        return state

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            if group["muon"]:
                self._muon_group(group)
            else:
                for p in group["params"]:
                    if p.grad is not None:
                        self._adamw(p, p.grad, self._state(p, True), group)
        return loss

    def _adamw(self, p, g, state, group) -> None:
        """Muon's `_adamw_update_step`: Keras's Adam at lr * adam_lr_ratio, in the weights' precision."""
        dtype = p.dtype
        lr = torch.tensor(group["lr"] * group["adam_lr_ratio"], dtype=dtype)
        t = state["step"].to(dtype)
        beta_1, beta_2 = torch.tensor(group["adam_beta_1"], dtype=dtype), torch.tensor(group["adam_beta_2"], dtype=dtype)
        alpha = (lr * torch.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)).to(p.device)
        m, v = state["momentum"], state["velocity"]
        m.add_((g - m) * (1 - group["adam_beta_1"]))
        v.add_((g * g - v) * (1 - group["adam_beta_2"]))
        p.sub_((m * alpha) / (v.sqrt() + group["epsilon"]))

    def _muon_group(self, group) -> None:
        params = group["params"]
        joined = {i for unit in group["joint"] for i in unit}
        units = list(group["joint"]) + [[i] for i in range(len(params)) if i not in joined]
        for unit in units:
            tensors = [params[i] for i in unit if params[i].grad is not None]
            if tensors:
                self._muon(tensors, group)

    def _muon(self, tensors: list, group) -> None:
        """Muon's `_muon_update_step` on one Keras weight (one tensor, or a GRU's biases stacked)."""
        mom = group["momentum"]
        directions = []
        for p in tensors:
            g, m = p.grad, self._state(p, False)["momentum"]
            m.add_(g + m * (mom - 1))
            directions.append(g + mom * m if group["nesterov"] else m)
        x = directions[0] if len(tensors) == 1 else torch.stack(directions)
        update = zeropower_via_newtonschulz5(x, group["ns_steps"], group["muon_a"], group["muon_b"], group["muon_c"])
        step = lr_adjust(group["lr"] * update, group["rms_rate"])
        for i, p in enumerate(tensors):
            p.sub_(step if len(tensors) == 1 else step[i])

