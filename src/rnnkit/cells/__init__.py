"""Recurrent cells: the public `Cell` contract (`base`) and the built-in LSTM, GRU and SimpleRNN cells."""

from .base import Cell
from .gru import GRUCell
from .lstm import LSTMCell
from .simple_rnn import SimpleRNNCell

__all__ = ["Cell", "GRUCell", "LSTMCell", "SimpleRNNCell"]
