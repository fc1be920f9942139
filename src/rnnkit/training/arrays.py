"""Batches cut from arrays: the rows of each batch (shuffled or in order), the rows of x, y and
sample_weight they take (one entry per output for a model with several), and Keras's validation_split."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .. import convert


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: np.random.Generator | None) -> list[np.ndarray]:
    order = generator.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def take_targets(y, index):
    """Rows `index` of y: a tensor, or one per output (None for an output without targets)."""
    if isinstance(y, (list, tuple)):
        return [None if t is None else convert.take(t, index) for t in y]
    return convert.take(y, index)


def take_weights(sample_weight, index):
    """Rows `index` of a sample_weight tensor, or of each output's (a list or dict of them)."""
    if isinstance(sample_weight, dict):
        return {k: w[index] for k, w in sample_weight.items()}
    if isinstance(sample_weight, (list, tuple)):
        return [None if w is None else w[index] for w in sample_weight]
    return sample_weight[index]


def array_batches(x, y, sample_weight=None, batch_size: int = 32) -> Iterator[tuple]:
    """Converted (x, y[, sample_weight]) in order, `batch_size` rows at a time."""
    for index in batch_indices(convert.num_samples(x), batch_size, False, None):
        batch = (convert.take(x, index), take_targets(y, index))
        yield batch if sample_weight is None else (*batch, take_weights(sample_weight, index))


def split_validation(x, y, validation_split: float, sample_weight=None):
    """Keras's validation_split: the last fraction of the samples (and of their weights), taken before any
    shuffling. Returns x, y, sample_weight, validation_data."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}.")
    n = convert.num_samples(x)
    cut = int(n * (1.0 - validation_split))
    if cut in (0, n):
        raise ValueError(f"validation_split={validation_split} leaves {cut} training samples of {n}; pass a "
                         "validation_split that keeps at least one sample on each side (e.g. 0.2), or more data.")
    first = lambda a, s: [None if v is None else v[s] for v in a] if isinstance(a, (list, tuple)) else a[s]
    train, held = slice(0, cut), slice(cut, n)
    if sample_weight is None:
        return first(x, train), first(y, train), None, (first(x, held), first(y, held))
    return (first(x, train), first(y, train), take_weights(sample_weight, train),
            (first(x, held), first(y, held), take_weights(sample_weight, held)))
