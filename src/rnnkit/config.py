"""Process-wide numeric settings, with TensorFlow's spelling (`tf.config`).

TensorFloat-32 (TF32) is how NVIDIA GPUs since Ampere (A100, H100) run float32 matrix products and
convolutions fast: the inputs rounded to 10 bits of mantissa, the sums in float32. A float32 LSTM
step then differs from exact float32 by about 1e-3 relative (3e-4 measured for cuDNN's LSTM against
the CPU on an H100 in issue 17), where exact float32 agrees with Keras to 1e-5.

rnnkit's default is PyTorch's, left as it is when rnnkit is imported (these are settings of the whole
process, shared with any other PyTorch code in it): cuDNN may use TF32 (so the fused LSTM, GRU and
SimpleRNN kernels and Conv layers on the GPU do), cuBLAS matrix products (Dense, the step loop) may not.
`enable_tensor_float_32_execution(False)` gives Keras-exact float32 everywhere; `(True)` allows TF32
for both, the fastest float32 training. CPUs never use TF32: on a CPU these settings change nothing.

>>> before = tensor_float_32_execution_enabled()
>>> enable_tensor_float_32_execution(False)
>>> tensor_float_32_execution_enabled()
False
>>> enable_tensor_float_32_execution(before)
"""

from __future__ import annotations

import torch


def enable_tensor_float_32_execution(enabled: bool) -> None:
    """Allow (True) or forbid (False) TF32 for float32 work on NVIDIA GPUs: cuBLAS matrix products
    (`torch.backends.cuda.matmul.allow_tf32`) and cuDNN kernels (`torch.backends.cudnn.allow_tf32`,
    which covers the fused recurrent kernels and convolutions). False: exact float32, as Keras on a CPU.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enable_tensor_float_32_execution takes True (allow TF32, faster) or False (exact "
                        f"float32), received {enabled!r} (of type {type(enabled).__name__}).")
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled


def tensor_float_32_execution_enabled() -> bool:
    """Whether float32 work may run in TF32 anywhere on an NVIDIA GPU (cuBLAS or cuDNN). True by default
    (PyTorch lets cuDNN use it); False after `enable_tensor_float_32_execution(False)`: exact float32."""
    return bool(torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32)
