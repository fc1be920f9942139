"""torch optimizers doing Keras 3's arithmetic where torch's built-in optimizer computes another formula.

Keras 3 (keras/src/optimizers/*.py, `update_step`) and torch differ in where epsilon goes:

- RMSprop: Keras divides by sqrt(velocity + epsilon) (centered: sqrt(velocity - average_grad**2 +
  epsilon)) and its momentum accumulates lr * g / sqrt(...); torch divides by sqrt(square_avg) + eps.
  With Keras's epsilon=1e-7 the two part wherever velocity is not >> epsilon (gradients below ~1e-3).
- Adamax: Keras divides by (1 - beta_1**t) * (max(beta_2 * u, |g|) + epsilon); torch takes
  max(beta_2 * u, |g| + eps), so eps enters the running norm.

Adagrad and Nadam need no class of their own: Keras's Adagrad divides by sqrt(accumulator + epsilon),
which is torch's Adagrad with eps=0 and the accumulator started at initial_accumulator_value + epsilon
(the fused step stays); Keras's Nadam is torch's NAdam with momentum_decay=1 (Keras's momentum cache
uses 0.96 ** t, torch's 0.96 ** (t * momentum_decay)). SGD and Adadelta compute the same as torch.
"""

from __future__ import annotations

import torch


class _PerParameter(torch.optim.Optimizer):
    """The loop every optimizer here shares: for each parameter with a gradient, make its state on first
    use (`_init_state`), count the step, and apply `_update`."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    self._init_state(p, state, group)
                state["step"] += 1
                self._update(p, p.grad, state, group)
        return loss

    def _init_state(self, p: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


def _zeros(p: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p, memory_format=torch.preserve_format)


class RMSprop(_PerParameter):
    """Keras 3's RMSprop (keras/src/optimizers/rmsprop.py `update_step`), per-parameter state
    `velocity`, and `momentum` when momentum > 0, `average_gradient` when centered."""

    def __init__(self, params, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        if lr < 0 or epsilon < 0 or not 0 <= rho <= 1 or momentum < 0:
            raise ValueError(f"invalid RMSprop hyper-parameters lr={lr}, rho={rho}, momentum={momentum}, "
                             f"epsilon={epsilon}")
        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered))

    def _init_state(self, p, state, group):
        state["velocity"] = _zeros(p)
        if group["momentum"] > 0:
            state["momentum"] = _zeros(p)
        if group["centered"]:
            state["average_gradient"] = _zeros(p)

    def _update(self, p, g, state, group):
        lr, rho, mom, eps = group["lr"], group["rho"], group["momentum"], group["epsilon"]
        v = state["velocity"]
        v.mul_(rho).addcmul_(g, g, value=1 - rho)
        if group["centered"]:
            a = state["average_gradient"]
            a.mul_(rho).add_(g, alpha=1 - rho)
            denom = (v - a * a).add_(eps).sqrt_()
        else:
            denom = (v + eps).sqrt_()
        increment = (g * lr).div_(denom)
        if mom > 0:
            m = state["momentum"]
            m.mul_(mom).add_(increment)
            p.sub_(m)
        else:
            p.sub_(increment)


class Adamax(_PerParameter):
    """Keras 3's Adamax (keras/src/optimizers/adamax.py `update_step`), per-parameter state
    `exp_avg` (Keras's m) and `exp_inf` (Keras's u)."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), epsilon=1e-7):
        if lr < 0 or epsilon < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Adamax hyper-parameters lr={lr}, betas={betas}, epsilon={epsilon}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), epsilon=epsilon))

    def _init_state(self, p, state, group):
        state["exp_avg"] = _zeros(p)
        state["exp_inf"] = _zeros(p)

    def _update(self, p, g, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["epsilon"]
        t = float(state["step"])
        m, u = state["exp_avg"], state["exp_inf"]
        m.lerp_(g, 1 - beta1)  # m += (g - m) * (1 - beta_1)
        torch.maximum(u.mul_(beta2), g.abs(), out=u)
        p.sub_((m * lr).div_((u + eps).mul_(1 - beta1 ** t)))


class Lion(_PerParameter):
    """Keras 3's Lion (keras/src/optimizers/lion.py `update_step`), per-parameter state `exp_avg`
    (Keras's m): w -= lr * sign(beta_1 * m + (1 - beta_1) * g), then m = beta_2 * m + (1 - beta_2) * g."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.99)):
        if lr < 0 or not 0 < betas[0] <= 1 or not 0 <= betas[1] <= 1:
            raise ValueError(f"invalid Lion hyper-parameters lr={lr}, betas={betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas)))

    def _init_state(self, p, state, group):
        state["exp_avg"] = _zeros(p)

    def _update(self, p, g, state, group):
        lr, (beta1, beta2) = group["lr"], group["betas"]
        m = state["exp_avg"]
        p.sub_(torch.sign(m * beta1 + g * (1 - beta1)) * lr)
        m.mul_(beta2).add_(g * (1 - beta2))
