"""rnnkit: Keras-exact recurrent sequence models (LSTM, GRU, SimpleRNN) on PyTorch, with state done right."""

from . import backend, callbacks, layers, losses, optimizers
from .callbacks import EarlyStopping, History, LambdaCallback, ModelCheckpoint, ResetStates
from .functional import Model
from .layers import (GRU, LSTM, Activation, Add, Bidirectional, Concatenate, Conv2D, Dense, Dropout, Embedding,
                     Flatten, Input, Lambda, MaxPooling2D, RepeatVector, Reshape, SimpleRNN, TimeDistributed, add,
                     concatenate)
from .model import BaseModel, Sequential
from .keras_import import load_keras
from .persist import CheckpointError, load
from .streaming import Stream

__version__ = "0.1.0"

__all__ = [
    "Activation", "Add", "BaseModel", "Bidirectional", "Concatenate", "Conv2D", "Dense", "Dropout", "EarlyStopping",
    "Embedding", "Flatten", "GRU", "History", "Input", "LSTM", "Lambda", "LambdaCallback", "MaxPooling2D", "Model", "ModelCheckpoint",
    "RepeatVector", "ResetStates", "Reshape", "Sequential", "SimpleRNN", "Stream", "TimeDistributed",
    "__version__", "CheckpointError", "add", "backend", "concatenate", "callbacks", "load", "load_keras", "layers", "losses", "optimizers",
]
