"""Keras's `pad_sequences` (keras.preprocessing.sequence, keras/src/utils/sequence_utils.py): lists of
sequences of different lengths -> one array (samples, maxlen, ...), for Embedding or a masked RNN.
"""

from __future__ import annotations

import numpy as np

from .. import checks


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """Pad (or cut) every sequence to `maxlen` steps, exactly as Keras does.

    Args:
        sequences: a list of sequences (lists or arrays); each step a number or an array of one shape.
        maxlen: the length of the result; None: the longest sequence's.
        dtype: the result's NumPy dtype. Strings need `dtype=object` (any length) or a string dtype such
            as "<U3"; a string `value` with a number dtype is refused, as in Keras 3.
        padding: "pre" (pad in front, the default) or "post".
        truncating: "pre" (drop the first steps of longer sequences) or "post" (drop the last).
        value: what padded steps hold.

    Returns:
        An array of shape (len(sequences), maxlen) + the shape of one step.

    >>> pad_sequences([[1], [1, 2], [1, 2, 3]])
    array([[0, 0, 1],
           [0, 1, 2],
           [1, 2, 3]], dtype=int32)
    >>> pad_sequences([[1], [1, 2, 3]], maxlen=2, padding="post", truncating="post")
    array([[1, 0],
           [1, 2]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood: pass truncating="pre" or "post".')
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood: pass padding="pre" or "post".')
    num_samples = len(sequences)
    lengths = []
    sample_shape: tuple = ()
    found = False
    for x in sequences:  # the step shape comes from the first non-empty sequence; the loop below checks it
        try:
            lengths.append(len(x))
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x}") from e
        if not found and len(x):
            sample_shape, found = np.asarray(x).shape[1:], True
    if maxlen is None:
        if not lengths:
            raise ValueError("pad_sequences received no sequences and no maxlen: pass at least one sequence, "
                             "or maxlen for the length of the (empty) result.")
        maxlen = int(np.max(lengths))
    else:
        maxlen = checks.non_negative_int("maxlen", maxlen, "pad_sequences", "the length of the result")

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")

    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue  # an empty sequence is all padding
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} is different "
                             f"from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x
