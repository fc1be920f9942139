"""The process-wide state Keras's `clear_session` resets: the counters behind automatic names ("dense",
"dense_1", ...), the custom object scope, the global mixed-precision policy; and what it frees.

>>> name = unique_name("Dense"); clear_session(free_memory=False); unique_name("Dense")
'dense'
"""

from __future__ import annotations

import gc
import itertools
import re
from collections import defaultdict

import torch

from .. import mixed_precision, registry

_uids: dict[str, itertools.count] = defaultdict(itertools.count)


def snake_case(class_name: str) -> str:
    # "SimpleRNN" -> "simple_rnn", "TimeDistributed" -> "time_distributed", "Conv1D" -> "conv1d", as Keras
    # names layers (a digit does not start a new word).
    s = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", class_name)
    return re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s).lower()


def unique_name(class_name: str) -> str:
    """Keras's automatic name for the next object of `class_name`: "dense", then "dense_1", ..."""
    base = snake_case(class_name)
    n = next(_uids[base])
    return base if n == 0 else f"{base}_{n}"


def clear_session(free_memory: bool = True) -> None:
    """Keras's `clear_session` (also `rnnkit.backend.clear_session`): reset what rnnkit keeps for the whole
    process, so that a loop building many models starts each one afresh.

    As Keras's: automatic names start again ("dense", "dense_1", ...), the custom object scope and the
    global mixed-precision policy are reset, torch.compile's caches (Keras's torch backend resets
    TorchDynamo) are dropped, and with `free_memory` Python's garbage collector runs. rnnkit also hands
    the CUDA allocator's unused cached blocks back to the GPU. Objects registered with
    `register_keras_serializable` stay registered, as in Keras.
    """
    _uids.clear()
    registry.clear_scope()
    mixed_precision.set_global_policy("float32")
    torch.compiler.reset()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
