"""The custom cells of Keras's keras/src/layers/rnn/rnn_test.py, written to rnnkit's cell contract.

Keras's cells are `layers.Layer`s whose `build(input_shape)` adds weights with `add_weight`; rnnkit's
`build(input_size)` makes `nn.Parameter`s. The math, the initializers ("ones") and the state sizes
are Keras's. Registered under "keras_suite" so that they save and load (Keras's custom_objects).
TwoStatesRNNCell reads states[0] for both states, as Keras's does.
"""

import torch
from torch import nn

from rnnkit import register_serializable
from rnnkit.cells import Cell


@register_serializable(package="keras_suite")
class OneStateRNNCell(Cell):
    def __init__(self, units, state_size=None):
        super().__init__()
        self.units = units
        self.state_size = state_size if state_size else units

    def build(self, input_size):
        super().build(input_size)
        self.kernel = nn.Parameter(torch.ones(input_size, self.units))
        self.recurrent_kernel = nn.Parameter(torch.ones(self.units, self.units))

    def call(self, inputs, states):
        prev_output = states[0]
        h = inputs @ self.kernel
        output = h + prev_output @ self.recurrent_kernel
        return output, [output]

    def get_config(self):
        return {"units": self.units, "state_size": self.state_size}


@register_serializable(package="keras_suite")
class TwoStatesRNNCell(Cell):
    def __init__(self, units, state_size=None):
        super().__init__()
        self.units = units
        self.state_size = state_size if state_size else [units, units]
        self.output_size = units

    def build(self, input_size):
        super().build(input_size)
        self.kernel = nn.Parameter(torch.ones(input_size, self.units))
        self.recurrent_kernel_1 = nn.Parameter(torch.ones(self.units, self.units))
        self.recurrent_kernel_2 = nn.Parameter(torch.ones(self.units, self.units))

    def call(self, inputs, states):
        prev_1 = states[0]
        prev_2 = states[0]
        h = inputs @ self.kernel
        output_1 = h + prev_1 @ self.recurrent_kernel_1
        output_2 = h + prev_2 @ self.recurrent_kernel_2
        output = output_1 + output_2
        return output, [output_1, output_2]

    def get_config(self):
        return {"units": self.units, "state_size": self.state_size}
