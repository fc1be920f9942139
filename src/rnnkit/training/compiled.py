"""fit's train step as one compiled graph (`model.compile(..., jit_compile=True)`).

`train_function(model)` is what fit runs per batch with jit_compile=True. For the default
`train_step` it is `CompiledStep`, the same step (forward, compute_loss, backward, update) written as
a pure function of the weights and compiled as described below; tests check it trains exactly as the
eager `train_step`. A model that overrides `train_step` gets its own method through `torch.compile`.


Small recurrent models spend their time in per-operation overhead, not arithmetic: one batch-1 step of
LSTM(4) is ~40 tensor operations forward and backward, each a few microseconds from Python and
autograd. Here `torch.func.grad_and_value` turns forward, loss and backward into one function of the
weights, and `torch.compile` (inductor) traces it, unrolls the time loop through the cell math and
fuses it into a few C++ kernels. A torch Adam's update runs in the same graph, on that optimizer's own
state tensors, so its `state_dict`, checkpoints and later eager steps carry on from it (a learning-rate
schedule is evaluated per step outside the graph and passed in as a tensor); other
optimizers, clipping and a loss scale ("mixed_float16", where the loss is scaled inside the graph)
keep the eager optimizer step. Under a mixed policy the forward runs under torch.autocast inside
the graph (`rnnkit.mixed_precision`).

The function must be pure: stateful layers read and write their states in a fresh `StateStore` passed
through the forward call (the owner's own type, keyed by layer name), and the model's store takes the
new states only after the call. The compile costs
seconds per distinct batch shape (the cold start, reported by the benchmarks), so it pays for long fits
of small models on short windows; sequences longer than `MAX_UNROLL` steps, and models it cannot
trace, fall back to the eager step with a warning saying why. inductor's C++ wrapper (`cpp_wrapper`)
calls the kernels without Python in between. Per airline step (batch 1, LSTM(4)) on 2 cores: 520 us
eager, 221 us compiled, 159 us with the C++ wrapper, 103 us with Adam's update in the graph.
"""

from __future__ import annotations

import shutil
import types
import warnings

import torch
from torch.func import functional_call, grad_and_value

from .. import keras_mask, mixed_precision, optimizers
from ..layers.base import waiting_for_shape
from ..layers.regularization import has_penalties
from ..state import StateStore

# Time steps. The unrolled graph, and its compile, grow with T; measured for LSTM(16) at batch 32 on 2
# cores: 56 s to compile at T=64 and 204 s at T=128, where a batch then took 2x oneDNN's fused kernel
# (2.06 against 1.19 ms, 4.17 against 1.91 ms). Short windows are where compiling pays.
MAX_UNROLL = 32
_NO_MASK = torch.zeros(0, dtype=torch.bool)  # an output without a mask, in the compiled step's aux


def train_function(model):
    """What fit calls per batch with jit_compile=True: (x, y[, sample_weight]) -> logs."""
    if getattr(type(model).train_step, "_rnnkit_default", False):
        return CompiledStep(model)
    return torch.compile(model.train_step)  # a user's train_step, compiled as written


class CompiledStep:
    """The default `train_step`, compiled. `__call__((x, y[, sample_weight]))` trains on the batch and returns
    its logs; batches it cannot compile take the eager `train_step` (the reason is in `fallback`)."""

    def __init__(self, model):
        self.model = model
        self.fallback: str | None = None
        self.compiled_calls = 0
        self._stateful = [m for m in model.recurrent_layers() if m.stateful]
        reason = _unsupported(model)
        if reason:
            self._give_up(reason)
        self._forward = _TrainingForward(model)
        self._named: list | None = None  # (name, parameter) to train, once the weights exist
        self._fn = torch.compile(_own_code(self._step), dynamic=False, options={"cpp_wrapper": True})

    def _loss(self, params: dict, states: dict, xb, yb, sample_weight, scale):
        # A store made here, inside the traced function, so writing the new states into it stays pure.
        store = StateStore(states)
        out = functional_call(self._forward, {f"model.{k}": v for k, v in params.items()}, (xb, yb),
                              {"state_store": store} if states else {})
        loss = self.model.compute_loss(xb, yb, out, sample_weight)
        # "mixed_float16": the gradients of the scaled loss (a tensor, so a new scale does not recompile)
        scaled = loss if scale is None else loss * scale
        mask = keras_mask.get(out)  # the metrics skip the masked steps too; detach drops the attribute
        mask = _NO_MASK if mask is None else mask  # grad_and_value's aux takes tensors only
        return scaled, (loss.detach(), out.detach(), mask, store.snapshot())

    def _step(self, params: dict, states: dict, xb, yb, sample_weight, adam, scale):
        grads, (_, (loss, out, mask, states)) = grad_and_value(self._loss, has_aux=True)(
            params, states, xb, yb, sample_weight, scale)
        if adam is not None:  # the update too, in the same graph (params and adam's state change in place)
            _adam_update(list(params.values()), [grads[k] for k in params], *adam)
            grads = None
        return grads, loss.detach(), out, mask, states

    def __call__(self, data) -> dict[str, float]:
        xb, yb, sample_weight = data if len(data) == 3 else (*data, None)
        result = self._compiled(xb, yb, sample_weight)
        if result is None:
            return self.model.train_step(data)
        loss, out = result
        return {"loss": float(loss), **self.model.compute_metrics(xb, yb, out, sample_weight)}

    def _compiled(self, xb, yb, sample_weight):
        if self.fallback is not None:
            return None
        time_steps = max((t.shape[1] for t in (xb if isinstance(xb, list) else [xb]) if t.dim() >= 2), default=0)
        if time_steps > MAX_UNROLL:
            self._give_up(f"its batches have {time_steps} time steps and the compiled step unrolls at "
                          f"most {MAX_UNROLL} (longer sequences compile for minutes and run slower than "
                          "the eager fused kernel)")
            return None
        model = self.model
        if self._named is None:
            if waiting_for_shape(model):
                return None  # a lazily built layer gets its weights from this first, eager batch
            self._named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
        named = self._named
        x0 = xb[0] if isinstance(xb, list) else xb
        states = {layer.name: layer._initial_states(x0, None) for layer in self._stateful}
        scaler = model.loss_scaler
        # under a loss scale the eager step unscales, skips non-finite steps and updates (apply_gradients)
        adam = _adam_state(model, [p for _, p in named]) if scaler is None else None
        scale = None if scaler is None else scaler.scale(torch.ones((), device=x0.device))
        try:
            grads, loss, out, mask, states = self._fn({k: p.detach() for k, p in named}, states, xb, yb, sample_weight,
                                                adam, scale)
        except Exception as err:  # noqa: BLE001 - anything the compiler cannot do means: run eagerly
            if adam is not None:  # the eager step counts this iteration itself
                optimizers.step_undone(model.optimizer)
            self._give_up(f"torch.compile failed: {type(err).__name__}: {str(err).splitlines()[0][:300]}")
            return None
        for layer in self._stateful:  # float32 whatever the policy computed them in
            layer.state_store.put(layer.name, [mixed_precision.full_precision(s) for s in states[layer.name]])
        if grads is not None:
            for k, p in named:
                p.grad = grads[k]
            model.apply_gradients()
        self.compiled_calls += 1
        return loss, keras_mask.attach(out, None if mask.numel() == 0 else mask)

    def _give_up(self, reason: str) -> None:
        self.fallback = reason
        warnings.warn(f"jit_compile: {self.model.name} trains eagerly instead because {reason}.",
                      RuntimeWarning, stacklevel=4)


def _adam_state(model, params: list):
    """torch Adam's per-parameter state and hyperparameters, for the update inside the graph; None
    where the eager optimizer step must run (another optimizer, AMSGrad, weight decay, clipping, EMA,
    gradient accumulation, a loss_scale_factor, or an optimizer over other parameters than the trained ones,
    a distributed fit)."""
    opt, spec = model.optimizer, model.optimizer_config
    if model.__dict__.get("_shard") is not None:
        return None  # distributed: the gradients are averaged across ranks before the update
    if (optimizers.torch_class(opt) is not torch.optim.Adam or len(opt.param_groups) != 1 or getattr(spec, "clipnorm", None)
            or getattr(spec, "clipvalue", None) or getattr(spec, "global_clipnorm", None)
            or getattr(spec, "weight_decay", None) or getattr(spec, "kind", "adam") not in ("adam",)
            or getattr(spec, "use_ema", False) or getattr(spec, "gradient_accumulation_steps", None)
            or getattr(spec, "loss_scale_factor", None)):
        return None
    group = opt.param_groups[0]
    same = len(group["params"]) == len(params) and all(a is b for a, b in zip(group["params"], params))
    if (not same or group["amsgrad"] or group["weight_decay"] or group["maximize"]
            or group.get("keras_weight_decay")):
        return None
    states = []
    for p in group["params"]:
        state = opt.state[p]
        if not state:  # as torch.optim.Adam starts it, so that its state_dict and eager steps carry on
            state["step"] = torch.tensor(0.0, dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        states.append(state)
    # A learning-rate schedule: this iteration's rate, counted as optimizer.step()'s hook would (the rate
    # enters the graph as a tensor, so a new value each step does not recompile).
    optimizers.advance_schedule(opt)
    beta1, beta2 = group["betas"]
    return ([s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], [s["step"] for s in states],
            torch.tensor(float(group["lr"])), beta1, beta2, group["eps"])


def _adam_update(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps) -> None:
    """torch.optim.Adam's single-tensor arithmetic, step for step (tests compare it with the fused step)."""
    for p, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        step.add_(1)
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        t = step.double()  # torch takes the bias corrections in double precision (Python floats)
        step_size = (lr.double() / (1 - beta1 ** t)).float()
        denom = (v.sqrt() / (1 - beta2 ** t).sqrt().float()).add_(eps)
        p.sub_(m / denom * step_size)


class _TrainingForward(torch.nn.Module):
    """The model's training forward as a module's forward, for functional_call (teacher forcing needs y)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, xb, yb, state_store=None):
        return self.model._training_forward(xb, yb, state_store)


def _unsupported(model) -> str | None:
    """Why the model's train step cannot be compiled here, or None."""
    if shutil.which("cc") is None and shutil.which("gcc") is None and shutil.which("clang") is None:
        return "torch.compile needs a C++ compiler on CPU and none was found (install gcc)"
    if not model.threads_state_store():
        return "its stateful layers are not top-level layers of a Sequential model"
    if model.output_names_for_compile() is not None:
        return "it has several outputs, whose losses and logs only the eager step computes"
    if has_penalties(model):
        return "its layers have regularizers or constraints, which only the eager step applies"
    return None


def _own_code(method):
    """`method` with a code object of its own. torch.compile keeps its compiled variants per code object, at
    most `torch._dynamo.config.recompile_limit` (8) of them, and past that runs the function eagerly, silently:
    every model's step shares `CompiledStep._step`'s code, so the ninth model in a process trained eagerly
    while reported compiled. A copy per model gives each its own limit."""
    fn = method.__func__
    own = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    own.__kwdefaults__, own.__qualname__ = fn.__kwdefaults__, fn.__qualname__
    return types.MethodType(own, method.__self__)
