"""Keras 3's keras/src/layers/rnn/conv_lstm_test.py, ported to rnnkit with Keras's numbers and tolerances.

Keras runs each case under its global `image_data_format`; here both data formats run, as
`data_format=` arguments. Keras's `ConvLSTM(rank=2, ...)` is its internal base class; rnnkit's public
layer for rank 2 is `ConvLSTM2D`, the same class with the rank fixed. Keras's `tpu_atol`/`tpu_rtol` apply
on TPUs only, so the tolerance is assertAllClose's default (1e-6).
"""

import numpy as np
import pytest
import torch

from rnnkit.cells import ConvLSTMCell
from rnnkit.initializers import Constant
from rnnkit.layers import ConvLSTM2D

from recurrent_checks import DATA_FORMATS, close

@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_cell_correctness(data_format):
    x = np.arange(150).reshape((2, 5, 5, 3)).astype("float32") / 10
    s1 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 10
    s2 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 10
    if data_format == "channels_first":
        x, s1, s2 = (a.transpose((0, 3, 1, 2)) for a in (x, s1, s2))
    layer = ConvLSTMCell(rank=2, filters=4, kernel_size=3, padding="same", data_format=data_format,
                         kernel_initializer=Constant(0.01), recurrent_initializer=Constant(0.02))
    output = layer(torch.tensor(x), [torch.tensor(s1), torch.tensor(s2)])
    close(output[0].sum(), 188.89502)
    close(output[1][0].sum(), 188.89502)
    close(output[1][1].sum(), 2170.444)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_layer_correctness(data_format):
    x = np.arange(450).reshape((2, 3, 5, 5, 3)).astype("float32") / 100
    s1 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 100
    s2 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 100
    if data_format == "channels_first":
        x = x.transpose((0, 1, 4, 2, 3))
        s1, s2 = (a.transpose((0, 3, 1, 2)) for a in (s1, s2))
    layer = ConvLSTM2D(filters=4, kernel_size=3, padding="same", data_format=data_format,
                       kernel_initializer=Constant(0.01), recurrent_initializer=Constant(0.02))
    output = layer(x, initial_state=[s1, s2])
    close(np.sum(output.numpy()), 119.812454)
