"""Keras's keras.preprocessing for sequence models: `sequence.pad_sequences` and
`timeseries_dataset_from_array`.

>>> from rnnkit.preprocessing import sequence
>>> sequence.pad_sequences([[1, 2], [3]], padding="post").tolist()
[[1, 2], [3, 0]]
"""

from . import sequence
from .timeseries import TimeseriesDataset, timeseries_dataset_from_array

__all__ = ["TimeseriesDataset", "sequence", "timeseries_dataset_from_array"]
