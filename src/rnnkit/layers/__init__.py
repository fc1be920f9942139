"""rnnkit layers: Keras's recurrent and helper layers as `torch.nn.Module`s."""

from ..cells import Cell, GRUCell, LSTMCell, SimpleRNNCell
from ..initializers import Constant
from .base import Layer
from .conv import Conv2D, Convolution2D, MaxPooling2D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Reshape
from .merge import Add, Concatenate, Lambda, add, concatenate
from .recurrent import GRU, LSTM, SimpleRNN
from .rnn import RNN
from .wrappers import Bidirectional, RepeatVector, TimeDistributed

__all__ = [
    "Activation", "Add", "Bidirectional", "Cell", "Concatenate", "Constant", "Conv2D", "Convolution2D", "Dense",
    "Dropout", "Embedding", "Flatten", "GRU", "GRUCell", "Input", "InputLayer", "LSTM", "LSTMCell", "Lambda", "Layer",
    "MaxPooling2D", "RNN", "RepeatVector", "Reshape", "SimpleRNN", "SimpleRNNCell", "TimeDistributed", "add",
    "concatenate",
]
