"""Mixed precision with Keras's spelling: float16 or bfloat16 arithmetic, float32 weights.

    rnnkit.mixed_precision.set_global_policy("mixed_bfloat16")   # models built from now on use it
    model = Sequential([Input((20, 1)), LSTM(32), Dense(1)])       # model.dtype_policy: mixed_bfloat16
    model = Sequential([...], dtype="float32")                      # this one stays in float32
    model.dtype_policy = "mixed_float16"                            # or switch one model afterwards

As in Keras, a policy is fixed when a model is built: the global policy at that moment, or the model's
`dtype=` argument (Keras's per-layer argument; in rnnkit the policy belongs to the whole model).
`model.compile` takes no policy, but its `auto_scale_loss=True` (Keras's default) scales the loss of a
"mixed_float16" model as Keras's `LossScaleOptimizer` does: multiplied by a dynamic scale (2**15 at
first, halved and the step skipped when a gradient is not finite, doubled after 2,000 finite steps),
gradients divided by it before clipping and the update (`torch.amp.GradScaler`). "mixed_bfloat16" has
float32's range and needs no scaling.

How it runs: every forward pass of a model with a mixed policy (fit, evaluate, predict, the
*_on_batch calls, `model(x)`, the compiled step) runs under `torch.autocast` for the weights' device,
so matrix products and the fused recurrent kernels run in the compute dtype. Weights, optimizer state,
kept states, the model's outputs (so predict's NumPy arrays), the loss and metrics stay float32.
`generate`, `Stream` and ONNX export step the layers themselves and compute in float32. A float32
model called inside the user's own `torch.autocast` is left to it.

Files: a Sequential or functional model's config holds its policy, so `rnnkit.load` gives it back; a
topology (ManyToOne, Seq2Seq, ...) saves its constructor's arguments, which do not, so it takes the
global policy when loaded (set `model.dtype_policy` again). The loss scale and its count of finite
steps travel with the optimizer's state (`training.loss_scale_state`), as Keras's LossScaleOptimizer
keeps them among its variables; a Keras-format file (`save_keras`) holds no optimizer state.

On a CPU whose oneDNN has no bfloat16 (float16) kernels (`torch.ops.mkldnn._is_mkldnn_bf16_supported()`
is False: CPUs without AVX-512), oneDNN's fused LSTM refuses low precision, so the forward runs with
oneDNN off: PyTorch's own kernels with bfloat16 (float16) matrix products, emulated and slow.
Measured on such a CPU (AMD EPYC, AVX2 only, 1 thread of a shared 2-core VM, load about 1.5; torch
2.13; 2026-11-23) on `tests/test_mixed_precision.py`'s task: LSTM(32) -> Dense(1), 512 windows of 20
steps of shifted sines, batch 32, Adam(0.01), seed 0. Loss after 3 and after 10 epochs, and one epoch's
time (best of 3, over 3 runs):

    policy          loss, 3 epochs   loss, 10 epochs   one epoch
    float32         1.75e-3          1.87e-5           0.030-0.047 s
    mixed_bfloat16  1.78e-3          2.47e-5           0.21-0.32 s
    mixed_float16   1.74e-3          1.97e-5           0.23-0.30 s

Mixed precision trains as float32 does (within 2% after 3 epochs, when the loss has fallen 75x; at
1e-5, after 10, bfloat16's rounding shows) but on this CPU 5-10x slower: it is for GPUs and for CPUs
with AVX-512 BF16 or AMX. Its speed on a GPU is not measured yet.

>>> set_global_policy("mixed_bfloat16")
>>> policy = global_policy()
>>> policy, policy.compute_dtype, policy.variable_dtype
(<DTypePolicy "mixed_bfloat16">, 'bfloat16', 'float32')
>>> set_global_policy("float32")
"""

from __future__ import annotations

import contextlib

import torch

# name -> (compute dtype, variable dtype), as Keras parses them
_POLICIES = {"float32": ("float32", "float32"), "mixed_float16": ("float16", "float32"),
             "mixed_bfloat16": ("bfloat16", "float32")}
_TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
_LOW = (torch.float16, torch.bfloat16)
# Keras's LossScaleOptimizer: initial_scale=2**15, dynamic_growth_steps=2000 (factor 2 either way)
INITIAL_LOSS_SCALE = 2.0 ** 15
LOSS_SCALE_GROWTH_STEPS = 2000


class Policy:
    """A dtype policy: the dtype a model computes in and the dtype of its weights (Keras's DTypePolicy).

    Args:
        name: "float32", "mixed_float16" (compute float16, weights float32) or "mixed_bfloat16"
            (compute bfloat16, weights float32); None for the global policy.

    >>> Policy("mixed_float16").compute_dtype, Policy("mixed_float16").variable_dtype
    ('float16', 'float32')
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(f"A dtype policy's name must be a string such as 'mixed_bfloat16', received "
                            f"{name!r} (of type {type(name).__name__}). Valid names: {', '.join(_POLICIES)}.")
        if name not in _POLICIES:
            hint = (f" rnnkit keeps weights in float32: use 'mixed_{name}' for {name} arithmetic."
                    if name in ("float16", "bfloat16") else "")
            raise ValueError(f"Unknown dtype policy {name!r}. Valid policies: {', '.join(_POLICIES)}.{hint}")
        self._name = name
        self._compute_dtype, self._variable_dtype = _POLICIES[name]
        self.mixed = self._compute_dtype != self._variable_dtype  # read on every forward call

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the arithmetic: 'float32', 'float16' or 'bfloat16'."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the weights (always 'float32' in rnnkit)."""
        return self._variable_dtype

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "Policy":
        return cls(**config)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)


DTypePolicy = Policy  # Keras 3's name

_global = Policy("float32")


def set_global_policy(policy: str | Policy) -> None:
    """Set the policy models built from now on take (Keras's `mixed_precision.set_global_policy`).

    Models built earlier keep theirs, as Keras layers do."""
    global _global
    if not isinstance(policy, (str, Policy)):
        raise TypeError(f"set_global_policy takes a policy name ({', '.join(_POLICIES)}) or a Policy, received "
                        f"{policy!r} (of type {type(policy).__name__}).")
    _global = policy if isinstance(policy, Policy) else Policy(policy)


def global_policy() -> Policy:
    """The policy new models take ("float32" unless `set_global_policy` changed it)."""
    return _global


set_dtype_policy, dtype_policy = set_global_policy, global_policy  # Keras 3's spellings


def get(dtype: str | Policy | None) -> Policy:
    """A model's `dtype=` argument as a Policy (None: the global policy)."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, Policy):
        return dtype
    return Policy(dtype)


# -- what models and the training steps use --------------------------------------------------------------
def autocast(policy: Policy, device: torch.device):
    """The context a forward pass of a model with `policy` runs in on `device` (a no-op for float32)."""
    if not policy.mixed:
        return contextlib.nullcontext()
    kind = torch.device(device).type
    dtype = _TORCH_DTYPES[policy.compute_dtype]
    if not torch.amp.is_autocast_available(kind):
        raise ValueError(f"The dtype policy {policy.name!r} runs through torch.autocast, which PyTorch does not "
                         f"offer for {kind!r} devices. Use the 'float32' policy there (model.dtype_policy = "
                         "'float32'), or move the model to a CPU or CUDA device.")
    cast = torch.autocast(kind, dtype=dtype)
    if kind != "cpu" or torch.compiler.is_compiling() or _onednn_computes(dtype):
        return cast
    stack = contextlib.ExitStack()
    stack.enter_context(cast)
    stack.enter_context(_onednn_off())
    return stack


def _onednn_computes(dtype: torch.dtype) -> bool:
    """Whether this CPU's oneDNN has kernels in `dtype` (its fused LSTM refuses to start otherwise)."""
    try:
        if dtype is torch.bfloat16:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):  # a build without these queries: take the path that always runs
        return False


@contextlib.contextmanager
def _onednn_off():
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = enabled


def full_precision(out):
    """A model's output(s) in float32: float16/bfloat16 tensors cast, anything else as it is."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.dtype in _LOW else out
    if isinstance(out, (list, tuple)):
        return type(out)(full_precision(o) for o in out)
    return out


def has_low_precision(tensors) -> bool:
    return any(t.dtype in _LOW for t in tensors)


def needs_loss_scaling(policy: Policy) -> bool:
    """float16's range ends at 65504 and its smallest normal number is 6e-5: small gradients underflow
    unless the loss is scaled up first (Keras wraps the optimizer in a LossScaleOptimizer)."""
    return policy.compute_dtype == "float16"


def loss_scaler(device: torch.device, init_scale: float = INITIAL_LOSS_SCALE,
                growth_interval: int = LOSS_SCALE_GROWTH_STEPS) -> torch.amp.GradScaler:
    """A dynamic loss scale with Keras's LossScaleOptimizer's rule, for the weights' device: halved (and
    the step skipped) on a non-finite gradient, doubled after `growth_interval` finite steps in a row. Its
    scale exists from the start, so gradients given directly (not from a scaled loss) can be unscaled."""
    device = torch.device(device)
    scaler = torch.amp.GradScaler(device.type, init_scale=init_scale, growth_factor=2.0, backoff_factor=0.5,
                                  growth_interval=growth_interval)
    scaler.scale(torch.zeros((), device=device))  # makes the scale tensor (GradScaler makes it on first use)
    return scaler
