"""rnnkit layers: Keras's recurrent and helper layers as `torch.nn.Module`s."""

from ..cells import Cell, ConvLSTMCell, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ..initializers import Constant
from .additive_attention import AdditiveAttention
from .attention import Attention
from .base import Layer
from .conv import Conv2D, Convolution2D, MaxPooling2D
from .conv1d import Conv1D, Convolution1D
from .conv3d import Conv3D, Convolution3D
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Reshape
from .masking import Masking
from .merge import Add, Concatenate, Lambda, Multiply, add, concatenate, multiply
from .normalization import BatchNormalization, LayerNormalization
from .permute import Permute
from .pooling import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D, GlobalAvgPool1D, GlobalMaxPool1D,
                      GlobalMaxPooling1D, MaxPool1D, MaxPooling1D)
from .recurrent import GRU, LSTM, SimpleRNN
from .relu import ReLU
from .rnn import RNN
from .spatial_dropout import SpatialDropout1D
from .string_lookup import StringLookup
from .wrappers import Bidirectional, RepeatVector, TimeDistributed

__all__ = [
    "AdditiveAttention", "Attention",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell",
    "AveragePooling1D", "AvgPool1D", "Conv1D", "Convolution1D", "GlobalAveragePooling1D", "GlobalAvgPool1D",
    "Conv3D", "Convolution3D", "StringLookup",
    "GlobalMaxPool1D", "GlobalMaxPooling1D", "Masking", "MaxPool1D", "MaxPooling1D", "BatchNormalization",
    "LayerNormalization", "Multiply", "Permute", "ReLU", "SpatialDropout1D", "multiply",
    "Activation", "Add", "Bidirectional", "Cell", "Concatenate", "Constant", "Conv2D", "Convolution2D", "Dense",
    "Dropout", "Embedding", "Flatten", "GRU", "GRUCell", "Input", "InputLayer", "LSTM", "LSTMCell", "Lambda", "Layer",
    "MaxPooling2D", "RNN", "RepeatVector", "Reshape", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells",
    "TimeDistributed", "add",
    "concatenate",
]
