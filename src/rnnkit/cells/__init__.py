"""Recurrent cells: the math of one time step (LSTM, GRU, SimpleRNN) and the public `Cell` contract."""

from .builtin import Cell, GRUCell, LSTMCell, SimpleRNNCell

__all__ = ["Cell", "GRUCell", "LSTMCell", "SimpleRNNCell"]
