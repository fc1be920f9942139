"""rnnkit layers: Keras's recurrent and helper layers as `torch.nn.Module`s."""

from ..cells import Cell, ConvLSTMCell, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ..initializers import Constant
from .activation_layers import ELU, LeakyReLU, Softmax
from .additive_attention import AdditiveAttention
from .attention import Attention
from .base import Layer
from .conv import Conv2D, Convolution2D, MaxPooling2D
from .conv1d import Conv1D, Convolution1D
from .conv3d import Conv3D, Convolution3D
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Reshape
from .dot_product import Dot, dot
from .elementwise_merge import Average, Maximum, Minimum, Subtract, average, maximum, minimum, subtract
from .identity import Identity
from .masking import Masking
from .merge import Add, Concatenate, Lambda, Multiply, add, concatenate, multiply
from .noise import AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization
from .permute import Permute
from .pooling import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D, GlobalAvgPool1D, GlobalMaxPool1D,
                      GlobalMaxPooling1D, MaxPool1D, MaxPooling1D)
from .recurrent import GRU, LSTM, SimpleRNN
from .prelu import PReLU
from .relu import ReLU
from .reshaping1d import Cropping1D, UpSampling1D, ZeroPadding1D
from .rnn import RNN
from .spatial_dropout import SpatialDropout1D
from .string_lookup import StringLookup
from .unit_normalization import UnitNormalization
from .wrappers import Bidirectional, RepeatVector, TimeDistributed

__all__ = [
    "ELU", "LeakyReLU", "PReLU", "Softmax", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "Cropping1D", "UpSampling1D", "ZeroPadding1D", "Average", "Dot", "Maximum", "Minimum", "Subtract",
    "average", "dot", "maximum", "minimum", "subtract", "Identity", "UnitNormalization",
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
