"""Keras 3's keras/src/layers/rnn/conv_lstm3d_test.py, ported to rnnkit with Keras's numbers and tolerances.

Keras runs each case under its global `image_data_format`; here both data formats run, as `data_format=`
arguments. `run_layer_test` is recurrent_checks' (the weights as Keras counts them, config round trip, a
training step inside a model); Keras's symbolic-call and seed-generator checks do not apply. Keras's
`tpu_atol`/`tpu_rtol` apply on TPUs only, so the tolerance is assertAllClose's default (1e-6).
(Keras's own 3D test asserts 1e-4 on TPU only; the CPU default holds here.)
"""

import numpy as np
import pytest

from rnnkit.initializers import Constant
from rnnkit.layers import ConvLSTM3D

from recurrent_checks import DATA_FORMATS, by_format, close, run_layer_test

@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_basics(data_format):
    cl = data_format == "channels_last"
    run_layer_test(ConvLSTM3D, init_kwargs={"filters": 5, "kernel_size": 3, "padding": "same",
                                            "data_format": data_format},
                   input_shape=by_format(cl, (3, 2, 4, 4, 4, 3), (3, 2, 3, 4, 4, 4)),
                   expected_output_shape=by_format(cl, (3, 4, 4, 4, 5), (3, 5, 4, 4, 4)),
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)
    run_layer_test(ConvLSTM3D, init_kwargs={"filters": 5, "kernel_size": 3, "padding": "valid",
                                            "recurrent_dropout": 0.5, "data_format": data_format},
                   input_shape=by_format(cl, (3, 2, 8, 8, 8, 3), (3, 2, 3, 8, 8, 8)), call_kwargs={"training": True},
                   expected_output_shape=by_format(cl, (3, 6, 6, 6, 5), (3, 5, 6, 6, 6)),
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)
    run_layer_test(ConvLSTM3D, init_kwargs={"filters": 5, "kernel_size": 3, "padding": "valid",
                                            "return_sequences": True, "data_format": data_format},
                   input_shape=by_format(cl, (3, 2, 8, 8, 8, 3), (3, 2, 3, 8, 8, 8)),
                   expected_output_shape=by_format(cl, (3, 2, 6, 6, 6, 5), (3, 2, 5, 6, 6, 6)),
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)


@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_correctness(data_format):
    sequence = np.arange(1920).reshape((2, 3, 4, 4, 4, 5)).astype("float32") / 100
    expected_output = np.array(
        [
            [
                [
                    [[0.99149036, 0.99149036], [0.99180907, 0.99180907]],
                    [[0.99258363, 0.99258363], [0.9927925, 0.9927925]],
                ],
                [
                    [[0.99413764, 0.99413764], [0.99420583, 0.99420583]],
                    [[0.9943788, 0.9943788], [0.9944278, 0.9944278]],
                ],
            ],
            [
                [
                    [[0.9950547, 0.9950547], [0.9950547, 0.9950547]],
                    [[0.9950547, 0.9950547], [0.9950547, 0.9950547]],
                ],
                [
                    [[0.9950547, 0.9950547], [0.9950547, 0.9950547]],
                    [[0.9950547, 0.9950547], [0.9950547, 0.9950547]],
                ],
            ],
        ]
    )
    if data_format == "channels_first":
        sequence = sequence.transpose((0, 1, 5, 2, 3, 4))
        expected_output = expected_output.transpose((0, 4, 1, 2, 3))
    layer = ConvLSTM3D(filters=2, kernel_size=3, data_format=data_format, kernel_initializer=Constant(0.01),
                       recurrent_initializer=Constant(0.02), bias_initializer=Constant(0.03))
    close(layer(sequence), expected_output)


def test_symbolic_invalid_strides_dilation_rate():
    with pytest.raises(ValueError, match=r"Specifying `strides > 1` is not compatible with `dilation_rate > 1`"):
        ConvLSTM3D(filters=1, kernel_size=1, strides=2, padding="same", dilation_rate=(1, 2, 2), return_state=True)
