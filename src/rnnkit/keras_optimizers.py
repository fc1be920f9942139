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

Ftrl, Lamb and Adafactor, which torch lacks, follow Keras's `update_step` here too.
"""

from __future__ import annotations

import torch


def closure_loss(closure):
    """The loss of torch's `step(closure)` protocol: closure() with gradients on, None without a closure."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class _PerParameter(torch.optim.Optimizer):
    """The loop every optimizer here shares: for each parameter with a gradient, make its state on first
    use (`_init_state`), count the step, and apply `_update`."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
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


class Ftrl(_PerParameter):
    """Keras 3's Ftrl (keras/src/optimizers/ftrl.py `update_step`), per-parameter state `accumulator` (n,
    started at initial_accumulator_value) and `linear` (z). Keras solves for the weight each step:
    w = (clip(z, -l1, l1) - z) / (n ** -lr_power / lr + 2 * (l2 + beta / (2 * lr))), after
    z += g + 2 * l2_shrinkage * w - (n_new ** -lr_power - n ** -lr_power) / lr * w."""

    def __init__(self, params, lr=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0):
        super().__init__(params, dict(lr=lr, learning_rate_power=learning_rate_power,
                                      initial_accumulator_value=initial_accumulator_value,
                                      l1=l1_regularization_strength, l2=l2_regularization_strength,
                                      l2_shrinkage=l2_shrinkage_regularization_strength, beta=beta))

    def _init_state(self, p, state, group):
        state["accumulator"] = torch.full_like(p, group["initial_accumulator_value"],
                                               memory_format=torch.preserve_format)
        state["linear"] = _zeros(p)

    def _update(self, p, g, state, group):
        lr, power, l1 = group["lr"], -group["learning_rate_power"], group["l1"]
        accum, linear = state["accumulator"], state["linear"]
        l2 = group["l2"] + group["beta"] / (2.0 * lr)
        grad_to_use = g + p * (2 * group["l2_shrinkage"])
        new_accum = accum + g * g
        new_power = new_accum.pow(power)
        linear.add_(grad_to_use - (new_power - accum.pow(power)) / lr * p)
        quadratic = new_power / lr + 2 * l2
        p.copy_((linear.clamp(-l1, l1) - linear) / quadratic)
        accum.copy_(new_accum)


class Lamb(_PerParameter):
    """Keras 3's Lamb (keras/src/optimizers/lamb.py `update_step`), per-parameter state `momentum` (m) and
    `velocity` (v): Adam's bias-corrected step u = m_hat / (sqrt(v_hat) + epsilon), scaled per tensor by
    the trust ratio |w| / |u| (1 where either norm is 0): w -= ratio * lr * u. The ratio is per tensor, and
    rnnkit keeps a GRU's one Keras bias (2, 3 * units) as two tensors: there each half gets its own ratio."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), epsilon=1e-7):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), epsilon=epsilon))

    def _init_state(self, p, state, group):
        state["momentum"] = _zeros(p)
        state["velocity"] = _zeros(p)

    def _update(self, p, g, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["epsilon"]
        t = float(state["step"])
        m, v = state["momentum"], state["velocity"]
        m.add_((g - m) * (1 - beta1))
        v.add_((g * g - v) * (1 - beta2))
        update = (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt_().add_(eps))
        w_norm, u_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(update)
        one = torch.ones((), dtype=p.dtype, device=p.device)
        ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, one)
        p.sub_(update * (ratio * lr))


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x.square().mean().sqrt()


class Adafactor(_PerParameter):
    """Keras 3's Adafactor (keras/src/optimizers/adafactor.py `update_step`). Each step, with t the step:
    rho = min(lr, 1 / sqrt(t)), alpha = max(epsilon_2, rms(w)) * rho, beta_2 = 1 - t ** beta_2_decay,
    u = g / sqrt(v), w -= alpha * u / max(1, rms(u) / clip_threshold).

    For a weight of two or more axes v is factored: the state keeps the running mean of g**2 + epsilon_1
    over the last axis (`r`, shape w.shape[:-1]) and over the second-to-last (`c`, w.shape[:-2] +
    w.shape[-1:]), and v = r / mean(r) (x) c; smaller weights keep the full `velocity`. For a matrix the
    factoring is the same either way round (v of w.T is v.T), so rnnkit's (out, in) Dense and recurrent
    kernels step exactly as Keras's (in, out) ones; a convolution kernel is factored over rnnkit's last two
    axes, (in, k), where Keras's (k, in, out) kernel is factored over (in, out), and a GRU's two bias
    tensors are not factored, where Keras's one (2, 3 * units) bias is.

    Keras's `relative_step` caps lr at 1 / sqrt(t) for a constant rate, which rho does in any case, so
    it changes nothing (kept for the config)."""

    def __init__(self, params, lr=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True):
        super().__init__(params, dict(lr=lr, beta_2_decay=beta_2_decay, epsilon_1=epsilon_1, epsilon_2=epsilon_2,
                                      clip_threshold=clip_threshold, relative_step=relative_step))

    def _init_state(self, p, state, group):
        if p.dim() >= 2:
            state["r"] = p.new_zeros(p.shape[:-1])
            state["c"] = p.new_zeros(p.shape[:-2] + p.shape[-1:])
        else:
            state["velocity"] = _zeros(p)

    def _update(self, p, g, state, group):
        t = float(state["step"])
        rho = min(group["lr"], 1 / t ** 0.5)
        alpha = torch.clamp(_rms(p), min=group["epsilon_2"]) * rho
        regulated = g * g + group["epsilon_1"]
        beta2 = 1 - t ** group["beta_2_decay"]
        if p.dim() >= 2:
            r, c = state["r"], state["c"]
            r.copy_(r * beta2 + regulated.mean(dim=-1) * (1 - beta2))
            c.copy_(c * beta2 + regulated.mean(dim=-2) * (1 - beta2))
            v = (r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2)
        else:
            v = state["velocity"]
            v.copy_(v * beta2 + regulated * (1 - beta2))
        u = g / v.sqrt()
        u_hat = u / torch.clamp(_rms(u) / group["clip_threshold"], min=1.0)
        p.sub_(alpha * u_hat)
