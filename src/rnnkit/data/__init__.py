"""Data shaping for recurrent models: windows, time-ordered splits, scaling, stateful layout, data sets."""

from . import datasets
from .datasets import airline_passengers, bit_sums, char_corpus, sine_waves, tank_readings
from .scaling import Scaler
from .stateful import Chunk, stateful_batches
from .windowing import create_dataset, split, windows

__all__ = ["Chunk", "Scaler", "airline_passengers", "bit_sums", "char_corpus", "create_dataset", "datasets",
           "sine_waves", "split", "stateful_batches", "tank_readings", "windows"]
