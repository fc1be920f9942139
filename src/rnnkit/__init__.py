"""rnnkit: Keras-exact recurrent sequence models (LSTM, GRU, SimpleRNN) on PyTorch, with state done right."""

from . import callbacks, layers, losses, optimizers
from .callbacks import EarlyStopping, History, LambdaCallback, ModelCheckpoint, ResetStates
from .layers import (GRU, LSTM, Activation, Bidirectional, Conv2D, Dense, Dropout, Embedding, Flatten,
                     Input, MaxPooling2D, RepeatVector, Reshape, SimpleRNN, TimeDistributed)
from .model import BaseModel, Sequential
from .keras_import import load_keras
from .persist import CheckpointError, load

__version__ = "0.1.0"

__all__ = [
    "Activation", "BaseModel", "Bidirectional", "Conv2D", "Dense", "Dropout", "EarlyStopping",
    "Embedding", "Flatten", "GRU", "History", "Input", "LSTM", "LambdaCallback", "MaxPooling2D", "ModelCheckpoint",
    "RepeatVector", "ResetStates", "Reshape", "Sequential", "SimpleRNN", "TimeDistributed",
    "__version__", "CheckpointError", "callbacks", "load", "load_keras", "layers", "losses", "optimizers",
]
