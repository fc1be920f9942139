"""Keras 3's keras/src/layers/convolutional/conv_test.py (the Conv1D cases), ported to rnnkit with
Keras's numbers and tolerances (assertAllClose's atol=rtol=1e-6), plus equivalence tests against
torch.nn.functional.conv1d and a save/load round trip.

`np_conv1d` and `_same_padding` are Keras's NumPy reference, copied unchanged. Keras's
`layer.kernel.assign(w)` is `set_keras_weights([w, b])` here: rnnkit keeps the kernel in PyTorch's layout
and converts from Keras's (kernel_size, channels // groups, filters).

Not applicable:
- the Conv2D/Conv3D cases (rnnkit's Conv2D is covered elsewhere; no Conv3D);
- test_enable_lora, test_lora_weight_name, test_enable_lora_with_alpha, test_lora_rank_argument:
  rnnkit has no LoRA;
- test_conv_constraints: rnnkit has no weight constraints;
- test_conv_raises_exception_on_zero_dims: a Conv2D case;
- test_bad_init_args: ported for Conv1D (Keras's cases use Conv2D for all but `filters`; the messages
  are the same with 1-tuples).
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

import rnnkit
from rnnkit import Sequential
from rnnkit.layers import LSTM, Conv1D, Dense, Input

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


def _same_padding(input_size, kernel_size, stride):
    if input_size % stride == 0:
        padding = max(kernel_size - stride, 0)
    else:
        padding = max(kernel_size - (input_size % stride), 0)
    return padding // 2, padding - padding // 2


def np_conv1d(
    x,
    kernel_weights,
    bias_weights,
    strides,
    padding,
    data_format,
    dilation_rate,
    groups,
):
    if data_format == "channels_first":
        x = x.swapaxes(1, 2)
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        dilation_rate = dilation_rate[0]
    kernel_size, ch_in, ch_out = kernel_weights.shape

    if dilation_rate > 1:
        new_kernel_size = kernel_size + (dilation_rate - 1) * (kernel_size - 1)
        new_kernel_weights = np.zeros(
            (new_kernel_size, ch_in, ch_out), dtype=kernel_weights.dtype
        )
        new_kernel_weights[::dilation_rate] = kernel_weights
        kernel_weights = new_kernel_weights
        kernel_size = kernel_weights.shape[0]

    if padding != "valid":
        n_batch, h_x, _ = x.shape
        h_pad = _same_padding(h_x, kernel_size, h_stride)
        npad = [(0, 0)] * x.ndim
        if padding == "causal":
            npad[1] = (h_pad[0] + h_pad[1], 0)
        else:
            npad[1] = h_pad
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=0)

    n_batch, h_x, _ = x.shape
    h_out = int((h_x - kernel_size) / h_stride) + 1

    kernel_weights = kernel_weights.reshape(-1, ch_out)
    bias_weights = bias_weights.reshape(1, ch_out)

    out_grps = []
    for grp in range(1, groups + 1):
        x_in = x[..., (grp - 1) * ch_in : grp * ch_in]
        stride_shape = (n_batch, h_out, kernel_size, ch_in)
        strides = (
            x_in.strides[0],
            h_stride * x_in.strides[1],
            x_in.strides[1],
            x_in.strides[2],
        )
        inner_dim = kernel_size * ch_in
        x_strided = as_strided(
            x_in, shape=stride_shape, strides=strides
        ).reshape(n_batch, h_out, inner_dim)
        ch_out_groups = ch_out // groups
        kernel_weights_grp = kernel_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ]
        bias_weights_grp = bias_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ]
        out_grps.append(x_strided @ kernel_weights_grp + bias_weights_grp)
    out = np.concatenate(out_grps, axis=-1)
    if data_format == "channels_first":
        out = out.swapaxes(1, 2)
    return out




BASIC_CASES = [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
         groups=1, input_shape=(3, 5, 4), output_shape=(3, 4, 5)),
    dict(filters=6, kernel_size=2, strides=1, padding="same", data_format="channels_last", dilation_rate=(2,),
         groups=2, input_shape=(3, 4, 4), output_shape=(3, 4, 6)),
    dict(filters=6, kernel_size=2, strides=1, padding="causal", data_format="channels_last", dilation_rate=(2,),
         groups=2, input_shape=(3, 4, 4), output_shape=(3, 4, 6)),
    dict(filters=6, kernel_size=2, strides=(2,), padding="valid", data_format="channels_last", dilation_rate=1,
         groups=2, input_shape=(3, 5, 4), output_shape=(3, 2, 6)),
]


# Keras: ConvBasicTest.test_conv1d_basic
@pytest.mark.parametrize("case", BASIC_CASES, ids=lambda c: f"{c['padding']}-groups{c['groups']}")
def test_conv1d_basic(case):
    case = dict(case)
    input_shape, output_shape = case.pop("input_shape"), case.pop("output_shape")
    run_layer_test(Conv1D, init_kwargs=case, input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, supports_masking=False)


# Keras: ConvBasicTest.test_bad_init_args (for Conv1D; see the module docstring)
def test_bad_init_args():
    with pytest.raises(ValueError, match="Invalid value for argument `filters`. Expected a strictly "
                                         "positive value. Received filters=0."):
        Conv1D(filters=0, kernel_size=1)
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be a tuple of \d+ integers. Received "
                                         r"kernel_size=\(0,\), including values \{0\} that do not satisfy "
                                         r"`value > 0`"):
        Conv1D(filters=2, kernel_size=(0,))
    with pytest.raises(ValueError, match=r"The `strides` argument must be a tuple of \d+ integers. Received "
                                         r"strides=\(0,\), including values \{0\} that do not satisfy `value > 0`"):
        Conv1D(filters=2, kernel_size=2, strides=(0,))
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                                         r"Received: strides=\(2,\) and dilation_rate=\(2,\)"):
        Conv1D(filters=2, kernel_size=2, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="The number of groups must be a positive integer. Received: groups=0."):
        Conv1D(filters=5, kernel_size=2, groups=0)
    with pytest.raises(ValueError, match="The number of filters must be evenly divisible by the number of "
                                         "groups. Received: groups=2, filters=5."):
        Conv1D(filters=5, kernel_size=2, groups=2)


# Keras: ConvBasicTest.test_conv_symbolic_invalid_configuration (Conv1D case; eager here)
def test_conv_symbolic_invalid_configuration():
    layer = Conv1D(filters=1, kernel_size=2, dilation_rate=10)
    with pytest.raises(ValueError, match="output size would be zero or negative"):
        layer(np.zeros((1, 10, 3), dtype="float32"))


CORRECTNESS_CASES = [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1, groups=1),
    dict(filters=6, kernel_size=2, strides=1, padding="same", data_format="channels_last", dilation_rate=(2,),
         groups=2),
    dict(filters=6, kernel_size=2, strides=1, padding="causal", data_format="channels_last", dilation_rate=(2,),
         groups=2),
    dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", data_format="channels_last", dilation_rate=1,
         groups=2),
    dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", data_format="channels_first", dilation_rate=1,
         groups=2),
]


# Keras: ConvCorrectnessTest.test_conv1d
@pytest.mark.parametrize("case", CORRECTNESS_CASES,
                         ids=lambda c: f"{c['padding']}-{c['data_format']}-strides{c['strides']}")
def test_conv1d(case):
    layer = Conv1D(**case)
    inputs = np.random.normal(size=[2, 8, 4])
    layer(inputs)  # builds the weights (Keras: layer.build(input_shape=inputs.shape))
    kernel_shape = layer.keras_weights()[0].shape
    kernel_weights = np.random.normal(size=kernel_shape)
    bias_weights = np.random.normal(size=(case["filters"],))
    layer.set_keras_weights([kernel_weights, bias_weights])

    outputs = layer(inputs)
    expected = np_conv1d(inputs, kernel_weights, bias_weights, strides=case["strides"], padding=case["padding"],
                         data_format=case["data_format"], dilation_rate=case["dilation_rate"],
                         groups=case["groups"])
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)


# -- beyond Keras's file ---------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("strides,dilation_rate", [(1, 1), (2, 1), (3, 1), (1, 3)], ids=["s1", "s2", "s3", "d3"])
def test_equals_torch_conv1d_with_the_transposed_kernel(padding, strides, dilation_rate):
    layer = Conv1D(4, 3, strides=strides, padding=padding, dilation_rate=dilation_rate, activation="tanh",
                   bias_initializer="random_normal")
    x = torch.randn(2, 11, 5)
    y = layer(x)
    kernel, bias = layer.keras_weights()  # (kernel_size, in, out)
    w = torch.as_tensor(kernel).permute(2, 1, 0)  # -> (out, in, kernel_size)
    xt = x.transpose(1, 2)
    span = dilation_rate * 2
    if padding == "causal":
        xt = F.pad(xt, (span, 0))
    elif padding == "same":
        total = max((math.ceil(11 / strides) - 1) * strides + span + 1 - 11, 0)
        xt = F.pad(xt, (total // 2, total - total // 2))
    expected = torch.tanh(F.conv1d(xt, w, torch.as_tensor(bias), strides, dilation=dilation_rate)).transpose(1, 2)
    np.testing.assert_allclose(y.detach().numpy(), expected.numpy(), atol=1e-6)
    assert y.shape[1] == (math.ceil(11 / strides) if padding != "valid" else (11 - span - 1) // strides + 1)


def test_causal_output_never_sees_later_steps():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 9, 3)
    changed = x.clone()
    changed[:, 6:] += 1.0
    with torch.no_grad():
        np.testing.assert_allclose(layer(x)[:, :6].numpy(), layer(changed)[:, :6].numpy(), atol=0)


def test_glorot_uniform_scale_matches_keras():
    layer = Conv1D(64, 5, in_channels=32)
    limit = math.sqrt(6.0 / (5 * 32 + 5 * 64))  # Keras: fan_in = k * in, fan_out = k * out
    w = layer.weight.detach()
    assert float(w.abs().max()) <= limit and float(w.abs().max()) > 0.9 * limit
    assert not layer.bias.detach().any()


def test_lazy_build_and_channel_check():
    layer = Conv1D(3, 2)
    assert layer.awaiting_build()
    layer(torch.zeros(1, 4, 5))
    assert layer.in_channels == 5 and tuple(layer.keras_weights()[0].shape) == (2, 5, 3)
    with pytest.raises(ValueError, match="was built for 5 channels"):
        layer(torch.zeros(1, 4, 6))
    with pytest.raises(ValueError, match=r"expected \(batch, time_steps, channels\)"):
        layer(torch.zeros(4, 5))


def test_bad_padding_and_data_format():
    with pytest.raises(ValueError, match="The `padding` argument must be one of"):
        Conv1D(2, 2, padding="full")
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        Conv1D(2, 2, data_format="channels_middle")


def test_save_load_round_trip_gives_the_same_predictions(tmp_path):
    model = Sequential([Input((12, 3)), Conv1D(8, 3, padding="causal", activation="relu"), LSTM(5), Dense(1)])
    x = np.random.default_rng(0).normal(size=(4, 12, 3)).astype("float32")
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, **TOL)
    assert loaded.layers[0].get_config() == model.layers[0].get_config()


def test_conv1d_then_lstm_explains():
    model = Sequential([Input((12, 3)), Conv1D(8, 3, strides=2), LSTM(5)])
    rows = rnnkit.explain(model).rows
    assert rows[0].output_axes == ("batch", "time_steps", "filters")
    assert rows[0].output_shape == (None, 5, 8)
    assert "shortened" in rows[0].time
    assert rows[1].input_axes == ("batch", "time_steps", "filters")


def test_fits():
    model = Sequential([Input((10, 2)), Conv1D(4, 3, padding="same", activation="relu"), LSTM(3), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 10, 2)).astype("float32")
    history = model.fit(x, x[:, -1, :1], epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
