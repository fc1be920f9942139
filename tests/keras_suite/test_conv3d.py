"""Keras 3's keras/src/layers/convolutional/conv_test.py (the Conv3D cases), ported to rnnkit with Keras's
numbers and tolerances (test_conv3d: assertAllClose with rtol=1e-3 and Keras's default atol=1e-6), plus
equivalence with torch.nn.functional.conv3d, a save/load round trip, a Keras-written file and keras-io
conv_lstm's use of it.

`np_conv3d` and `_same_padding` are Keras's NumPy reference, copied unchanged. Keras's
`layer.kernel.assign(w)` is `set_keras_weights([w, b])` here: rnnkit keeps the kernel in PyTorch's layout
and converts from Keras's (k1, k2, k3, channels // groups, filters).

Not applicable:
- the Conv1D/Conv2D cases (tests/keras_suite/test_conv1d.py and rnnkit's Conv2D tests);
- test_enable_lora, test_lora_weight_name, test_enable_lora_with_alpha, test_lora_rank_argument:
  rnnkit has no LoRA;
- test_bad_init_args: Keras's cases use Conv1D (`filters`) and Conv2D; ported here with Conv3D and
  3-tuples, the messages otherwise the same;
- test_conv_constraints: ported with Conv3D (Keras's uses Conv2D); rnnkit keeps the constraint on the
  layer, applied to the kernel in Keras's layout.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

import rnnkit
from rnnkit import constraints
from rnnkit.layers import BatchNormalization, Conv3D, ConvLSTM2D, Input

from layer_helpers import run_layer_test


def _same_padding(input_size, kernel_size, stride):
    if input_size % stride == 0:
        padding = max(kernel_size - stride, 0)
    else:
        padding = max(kernel_size - (input_size % stride), 0)
    return padding // 2, padding - padding // 2


def np_conv3d(
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
        x = x.transpose((0, 2, 3, 4, 1))
    if isinstance(strides, (tuple, list)):
        h_stride, w_stride, d_stride = strides
    else:
        h_stride = strides
        w_stride = strides
        d_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        h_dilation, w_dilation, d_dilation = dilation_rate
    else:
        h_dilation = dilation_rate
        w_dilation = dilation_rate
        d_dilation = dilation_rate

    h_kernel, w_kernel, d_kernel, ch_in, ch_out = kernel_weights.shape

    if h_dilation > 1 or w_dilation > 1 or d_dilation > 1:
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_w_kernel = w_kernel + (w_dilation - 1) * (w_kernel - 1)
        new_d_kernel = d_kernel + (d_dilation - 1) * (d_kernel - 1)
        new_kenel_size_tuple = (new_h_kernel, new_w_kernel, new_d_kernel)
        new_kernel_weights = np.zeros(
            (*new_kenel_size_tuple, ch_in, ch_out),
            dtype=kernel_weights.dtype,
        )
        new_kernel_weights[::h_dilation, ::w_dilation, ::d_dilation] = (
            kernel_weights
        )
        kernel_weights = new_kernel_weights
        h_kernel, w_kernel, d_kernel = kernel_weights.shape[:3]

    if padding == "same":
        n_batch, h_x, w_x, d_x, _ = x.shape
        h_pad = _same_padding(h_x, h_kernel, h_stride)
        w_pad = _same_padding(w_x, w_kernel, w_stride)
        d_pad = _same_padding(d_x, d_kernel, d_stride)
        npad = [(0, 0)] * x.ndim
        npad[1] = h_pad
        npad[2] = w_pad
        npad[3] = d_pad
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=0)

    n_batch, h_x, w_x, d_x, _ = x.shape
    h_out = int((h_x - h_kernel) / h_stride) + 1
    w_out = int((w_x - w_kernel) / w_stride) + 1
    d_out = int((d_x - d_kernel) / d_stride) + 1

    out_grps = []
    for grp in range(1, groups + 1):
        x_in = x[..., (grp - 1) * ch_in : grp * ch_in]
        stride_shape = (
            n_batch,
            h_out,
            w_out,
            d_out,
            h_kernel,
            w_kernel,
            d_kernel,
            ch_in,
        )
        strides = (
            x_in.strides[0],
            h_stride * x_in.strides[1],
            w_stride * x_in.strides[2],
            d_stride * x_in.strides[3],
            x_in.strides[1],
            x_in.strides[2],
            x_in.strides[3],
            x_in.strides[4],
        )
        inner_dim = h_kernel * w_kernel * d_kernel * ch_in
        x_strided = as_strided(
            x_in, shape=stride_shape, strides=strides
        ).reshape(-1, inner_dim)
        ch_out_groups = ch_out // groups
        kernel_weights_grp = kernel_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ].reshape(-1, ch_out_groups)
        bias_weights_grp = bias_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ]
        out_grps.append(x_strided @ kernel_weights_grp + bias_weights_grp)
    out = np.concatenate(out_grps, axis=-1).reshape(
        n_batch, h_out, w_out, d_out, ch_out
    )
    if data_format == "channels_first":
        out = out.transpose((0, 4, 1, 2, 3))
    return out


BASIC_CASES = [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
         groups=1, input_shape=(3, 5, 5, 5, 4), output_shape=(3, 4, 4, 4, 5)),
    dict(filters=6, kernel_size=2, strides=1, padding="same", data_format="channels_last", dilation_rate=(2, 2, 2),
         groups=2, input_shape=(3, 4, 4, 4, 4), output_shape=(3, 4, 4, 4, 6)),
    dict(filters=6, kernel_size=(2, 2, 3), strides=(2, 1, 2), padding="valid", data_format="channels_last",
         dilation_rate=(1, 1, 1), groups=2, input_shape=(3, 5, 5, 5, 4), output_shape=(3, 2, 4, 2, 6)),
]


# Keras: ConvBasicTest.test_conv3d_basic
@pytest.mark.parametrize("case", BASIC_CASES, ids=["valid", "same-dilated-groups2", "valid-strided-groups2"])
def test_conv3d_basic(case):
    case = dict(case)
    input_shape, output_shape = case.pop("input_shape"), case.pop("output_shape")
    run_layer_test(Conv3D, init_kwargs=case, input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, supports_masking=False)


# Keras: ConvBasicTest.test_bad_init_args (with Conv3D; see the module docstring)
def test_bad_init_args():
    with pytest.raises(ValueError, match="Invalid value for argument `filters`. Expected a strictly "
                                         "positive value. Received filters=0."):
        Conv3D(filters=0, kernel_size=1)
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be a tuple of \d+ integers. Received "
                                         r"kernel_size=\(1, 0, 1\), including values \{0\} that do not satisfy "
                                         r"`value > 0`"):
        Conv3D(filters=2, kernel_size=(1, 0, 1))
    with pytest.raises(ValueError, match=r"The `strides` argument must be a tuple of \d+ integers. Received "
                                         r"strides=\(1, 0, 1\), including values \{0\} that do not satisfy "
                                         r"`value > 0`"):
        Conv3D(filters=2, kernel_size=(2, 2, 2), strides=(1, 0, 1))
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                                         r"Received: strides=\(2, 2, 2\) and dilation_rate=\(2, 1, 1\)"):
        Conv3D(filters=2, kernel_size=(2, 2, 2), strides=2, dilation_rate=(2, 1, 1))
    with pytest.raises(ValueError, match="The number of groups must be a positive integer. Received: groups=0."):
        Conv3D(filters=5, kernel_size=(2, 2, 2), groups=0)
    with pytest.raises(ValueError, match="The number of filters must be evenly divisible by the number of "
                                         "groups. Received: groups=2, filters=5."):
        Conv3D(filters=5, kernel_size=(2, 2, 2), groups=2)


# Keras: ConvBasicTest.test_conv_symbolic_invalid_configuration (the Conv3D case)
def test_conv_symbolic_invalid_configuration():
    inputs = Input(shape=(10, 10, 10, 3))
    layer = Conv3D(filters=1, kernel_size=(2, 2, 2), dilation_rate=(10, 10, 10))
    with pytest.raises(ValueError):
        layer(inputs)


CORRECTNESS_CASES = [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1, groups=1),
    dict(filters=6, kernel_size=2, strides=1, padding="same", data_format="channels_last", dilation_rate=(2, 2, 2),
         groups=2),
    dict(filters=6, kernel_size=2, strides=1, padding="same", data_format="channels_last", dilation_rate=(2, 3, 4),
         groups=2),
    dict(filters=6, kernel_size=(2, 2, 3), strides=(2, 1, 2), padding="valid", data_format="channels_last",
         dilation_rate=(1, 1, 1), groups=2),
    dict(filters=6, kernel_size=(2, 2, 3), strides=(2, 1, 2), padding="valid", data_format="channels_first",
         dilation_rate=(1, 1, 1), groups=2),
]


# Keras: ConvCorrectnessTest.test_conv3d
@pytest.mark.parametrize("case", CORRECTNESS_CASES,
                         ids=["valid", "same-dilated", "same-dilated-234", "strided", "strided-channels-first"])
def test_conv3d(case):
    layer = Conv3D(**case)
    inputs = np.random.normal(size=[2, 8, 8, 8, 4])
    layer(inputs)  # builds the weights (Keras: layer.build(input_shape=inputs.shape))
    kernel_shape = layer.keras_weights()[0].shape
    kernel_weights = np.random.normal(size=kernel_shape)
    bias_weights = np.random.normal(size=(case["filters"],))
    layer.set_keras_weights([kernel_weights, bias_weights])

    outputs = layer(inputs)
    expected = np_conv3d(inputs, kernel_weights, bias_weights, strides=case["strides"], padding=case["padding"],
                         data_format=case["data_format"], dilation_rate=case["dilation_rate"],
                         groups=case["groups"])
    np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-3, atol=1e-6)


# Keras: ConvCorrectnessTest.test_conv_constraints (with Conv3D)
def test_conv_constraints():
    layer = Conv3D(filters=4, kernel_size=3, kernel_constraint="non_neg")
    layer(np.zeros((1, 5, 5, 5, 3)))
    assert isinstance(layer.kernel_constraint, constraints.NonNeg)
    layer = Conv3D(filters=4, kernel_size=3, bias_constraint="non_neg")
    layer(np.zeros((1, 5, 5, 5, 3)))
    assert isinstance(layer.bias_constraint, constraints.NonNeg)


# -- beyond Keras's file ---------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,dilation_rate", [(1, 1), (2, 1), ((1, 2, 3), 1), (1, (1, 2, 2))],
                         ids=["s1", "s2", "s123", "d122"])
def test_equals_torch_conv3d_with_the_transposed_kernel(padding, strides, dilation_rate):
    layer = Conv3D(3, (3, 2, 3), strides=strides, padding=padding, dilation_rate=dilation_rate, activation="tanh",
                   bias_initializer="random_normal")
    x = torch.randn(2, 6, 7, 5, 4)
    y = layer(x)
    kernel, bias = layer.keras_weights()  # (k1, k2, k3, in, out)
    w = torch.as_tensor(kernel).permute(4, 3, 0, 1, 2)  # -> (out, in, k1, k2, k3)
    xt = x.permute(0, 4, 1, 2, 3)
    strides3 = layer.strides
    if padding == "same":
        pads = []
        for size, k, s, d in zip(xt.shape[2:], layer.kernel_size, strides3, layer.dilation_rate):
            pads.append(_same_padding(size, d * (k - 1) + 1, s))
        xt = F.pad(xt, (*pads[2], *pads[1], *pads[0]))
    expected = torch.tanh(F.conv3d(xt, w, torch.as_tensor(bias), strides3, dilation=layer.dilation_rate))
    np.testing.assert_allclose(y.detach().numpy(), expected.permute(0, 2, 3, 4, 1).numpy(), atol=1e-6)
    if padding == "same":
        assert y.shape[1:4] == tuple(-(-n // s) for n, s in zip((6, 7, 5), strides3))


def test_glorot_uniform_scale_matches_keras():
    layer = Conv3D(16, (3, 3, 3), in_channels=8)
    receptive = 27
    limit = np.sqrt(6.0 / (receptive * 8 + receptive * 16))  # Keras: fan_in = k^3 * in, fan_out = k^3 * out
    w = layer.weight.detach()
    assert float(w.abs().max()) <= limit and float(w.abs().max()) > 0.9 * limit
    assert not layer.bias.detach().any()


def test_lazy_build_and_channel_check():
    layer = Conv3D(3, 2)
    assert layer.awaiting_build()
    layer(torch.zeros(1, 4, 4, 4, 5))
    assert layer.in_channels == 5 and tuple(layer.keras_weights()[0].shape) == (2, 2, 2, 5, 3)
    with pytest.raises(ValueError, match="was built for 5 channels"):
        layer(torch.zeros(1, 4, 4, 4, 6))
    with pytest.raises(ValueError, match=r"expected \(batch, dim1, dim2, dim3, channels\)"):
        layer(torch.zeros(4, 4, 4, 5))


def test_bad_padding_and_data_format():
    with pytest.raises(ValueError, match="The `padding` argument must be one of"):
        Conv3D(2, 2, padding="causal")  # Keras allows "causal" for rank 1 only
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        Conv3D(2, 2, data_format="channels_middle")


def test_kernel_regularizer_penalises_the_kernel_in_keras_layout():
    layer = Conv3D(2, 2, kernel_regularizer=rnnkit.regularizers.L2(0.1))
    layer(torch.zeros(1, 3, 3, 3, 2))
    kernel = layer.keras_weights()[0]
    np.testing.assert_allclose(float(sum(layer.losses).detach()), 0.1 * np.sum(kernel ** 2), rtol=1e-5)


def test_keras_written_conv3d_loads_and_exports(tmp_path):
    """tests/fixtures/keras_models/next_frame.* (scripts/make_keras_models.py, Keras 3.15.1): keras-io
    conv_lstm's layers with an uneven strided Conv3D kernel; rnnkit's Keras writer gives it back."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "keras_models"
    data = np.load(fixtures / "next_frame.npz")
    model = rnnkit.load_keras(fixtures / "next_frame.keras")
    conv = model.layers[3]
    assert isinstance(conv, Conv3D) and conv.kernel_size == (3, 2, 1) and conv.strides == (1, 2, 1)
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)
    rnnkit.save_keras(model, tmp_path / "m.keras")
    np.testing.assert_allclose(rnnkit.load_keras(tmp_path / "m.keras").predict(data["x"], verbose=0), data["y"],
                               atol=1e-5)


def test_keras_io_conv_lstm_model_saves_and_reloads(tmp_path):
    """keras-io conv_lstm's model (scripts/keras_io/conv_lstm.py), small: ConvLSTM2D, BatchNormalization and
    Conv3D over (batch, frames, rows, cols, channels), frames of any number."""
    inp = Input(shape=(None, 6, 6, 1))
    x = ConvLSTM2D(filters=3, kernel_size=(3, 3), padding="same", return_sequences=True, activation="relu")(inp)
    x = BatchNormalization()(x)
    x = Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)
    model = rnnkit.Model(inp, x)
    model.compile(loss=rnnkit.losses.binary_crossentropy, optimizer=rnnkit.optimizers.Adam())
    frames = np.random.default_rng(0).random((4, 5, 6, 6, 1)).astype("float32")
    model.fit(frames[:, :-1], frames[:, 1:], batch_size=2, epochs=1, verbose=0)
    assert model.predict(frames[:1, :3], verbose=0).shape == (1, 3, 6, 6, 1)  # any number of frames
    before = model.predict(frames, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(loaded.predict(frames, verbose=0), before, atol=1e-6)
    rows = rnnkit.explain(model).rows
    assert rows[-1].output_axes == ("batch", "time_steps", "rows", "cols", "filters")
