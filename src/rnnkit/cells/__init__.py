"""Recurrent cells: the public `Cell` contract (`base`), the built-in LSTM, GRU and SimpleRNN cells, a stack of
cells run as one (`StackedRNNCells`) and the per-sequence dropout masks of a cell's call (`DropoutRNNCell`)."""

from .base import Cell
from .conv_lstm import ConvLSTMCell
from .dropout import DropoutRNNCell
from .gru import GRUCell
from .lstm import LSTMCell
from .simple_rnn import SimpleRNNCell
from .stacked import StackedRNNCells

__all__ = ["Cell", "ConvLSTMCell", "DropoutRNNCell", "GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]
