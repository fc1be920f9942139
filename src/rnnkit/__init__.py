"""rnnkit: Keras-exact recurrent sequence models (LSTM, GRU, SimpleRNN) on PyTorch, with state done right.

The package is layered; each part imports only the parts listed before it:
checks, convert, state, registry, symbolic, mixed_precision, config, activations, initializers, regularizers,
constraints, losses,
optimizers, callbacks, data -> cells -> layers -> training (steps, Trainer, fit loop, compiled step)
-> io (checkpoints, Keras files) -> models (Sequential, Model, topologies) -> inference (generate, Stream)
-> explanation -> experiments, cli. tests/test_architecture.py checks it.
"""

from . import (backend, callbacks, config, constraints, layers, losses, metrics, mixed_precision, ops, optimizers,
               preprocessing, regularizers, schedules, utils)
from .callbacks import (CSVLogger, EarlyStopping, History, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                        ReduceLROnPlateau, ResetStates, TensorBoard, TerminateOnNaN)
from .cells import Cell, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .explanation import explain
from .inference import OnnxStream, Stream, generate
from .io.checkpoint import CheckpointError, load
from .io.keras_export import save_keras
from .io.keras_safety import KerasFileError
from .io.onnx_export import export_onnx
from .layers import AdditiveAttention, Attention  # noqa: F401  (Luong and Bahdanau attention)
from .layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: F401  (ConvLSTM, Keras's frame layers)
from .layers import (ELU, AlphaDropout, Average, Cropping1D, Dot, GaussianDropout,  # noqa: F401  (Keras's
                     GaussianNoise, Identity, LeakyReLU, Maximum, Minimum, PReLU, Softmax,  # small layers)
                     Subtract, UnitNormalization, UpSampling1D, ZeroPadding1D, average, dot, maximum, minimum,
                     subtract)
from .layers import (GRU, LSTM, RNN, Activation, Add, AveragePooling1D, BatchNormalization, Bidirectional,
                     Concatenate, Conv1D, Conv2D, Dense, Dropout, Embedding, Flatten, GlobalAveragePooling1D,
                     GlobalMaxPooling1D, Input, Lambda, LayerNormalization, Masking, MaxPooling1D, MaxPooling2D,
                     Multiply, Permute, ReLU, RepeatVector, Reshape, SimpleRNN, SpatialDropout1D, TimeDistributed,
                     add, concatenate, multiply)
from .models import BaseModel, Model, Sequential, load_keras, load_model
from .registry import register_serializable
from .state import StateStore
from .training import distributed as distribute  # rnnkit.distribute.DataParallel(), as Keras spells it

__version__ = "0.1.0"

__all__ = [
    "ELU", "LeakyReLU", "PReLU", "Softmax", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "Cropping1D", "UpSampling1D", "ZeroPadding1D", "Average", "Dot", "Maximum", "Minimum", "Subtract",
    "average", "dot", "maximum", "minimum", "subtract", "Identity", "UnitNormalization",
    "AdditiveAttention", "Attention",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "AveragePooling1D", "Conv1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Masking", "MaxPooling1D",
    "BatchNormalization", "LayerNormalization", "Multiply", "Permute", "ReLU", "SpatialDropout1D", "multiply",
    "CSVLogger", "LearningRateScheduler", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN", "schedules", "metrics",
    "preprocessing", "utils", "config", "mixed_precision", "regularizers", "constraints", "ops",
    "Activation", "Add", "BaseModel", "Bidirectional", "Cell", "CheckpointError", "Concatenate", "Conv2D", "Dense",
    "Dropout", "EarlyStopping", "Embedding", "Flatten", "GRU", "GRUCell", "History", "Input", "KerasFileError",
    "LSTM", "LSTMCell", "OnnxStream",
    "Lambda", "LambdaCallback", "MaxPooling2D", "Model", "ModelCheckpoint", "RNN", "RepeatVector", "ResetStates",
    "Reshape", "Sequential", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "StateStore", "Stream", "TimeDistributed",
    "__version__", "add", "backend", "callbacks", "concatenate", "distribute", "explain", "export_onnx", "generate", "layers", "load", "save_keras",
    "load_keras", "load_model", "losses", "optimizers", "register_serializable",
]
