"""Keras 3's pooling tests (the 1-D cases), ported to rnnkit with Keras's numbers and tolerances
(assertAllClose's atol=rtol=1e-6): keras/src/layers/pooling/max_pooling_test.py,
average_pooling_test.py, global_average_pooling_test.py and global_max_pooling_test.py.

`np_maxpool1d`, `np_avgpool1d` and `_same_padding` are Keras's NumPy references, copied unchanged.

Not applicable: the 2-D and 3-D cases (rnnkit has MaxPooling2D only, tested elsewhere, and no 3-D
pooling); run_layer_test's symbolic, mixed-precision and loss checks (layer_helpers.py checks what
applies).
"""

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import as_strided

import rnnkit
from rnnkit import Model, Sequential
from rnnkit.layers import (LSTM, AveragePooling1D, Conv1D, Dense, Embedding, GlobalAveragePooling1D,
                           GlobalMaxPooling1D, Input, Masking, MaxPooling1D)

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


def _same_padding(input_size, pool_size, stride):
    if input_size % stride == 0:
        return max(pool_size - stride, 0)
    else:
        return max(pool_size - (input_size % stride), 0)


def np_maxpool1d(x, pool_size, strides, padding, data_format):
    if data_format == "channels_first":
        x = x.swapaxes(1, 2)
    if isinstance(pool_size, (tuple, list)):
        pool_size = pool_size[0]
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides

    if padding == "same":
        n_batch, h_x, ch_x = x.shape
        pad_value = _same_padding(h_x, pool_size, h_stride)
        npad = [(0, 0)] * x.ndim
        npad[1] = (0, pad_value)
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=-np.inf)

    n_batch, h_x, ch_x = x.shape
    out_h = int((h_x - pool_size) / h_stride) + 1

    stride_shape = (n_batch, out_h, ch_x, pool_size)
    strides = (
        x.strides[0],
        h_stride * x.strides[1],
        x.strides[2],
        x.strides[1],
    )
    windows = as_strided(x, shape=stride_shape, strides=strides)
    out = np.max(windows, axis=(3,))
    if data_format == "channels_first":
        out = out.swapaxes(1, 2)
    return out



def np_avgpool1d(x, pool_size, strides, padding, data_format):
    if data_format == "channels_first":
        x = x.swapaxes(1, 2)
    if isinstance(pool_size, (tuple, list)):
        pool_size = pool_size[0]
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides

    if padding == "same":
        n_batch, h_x, ch_x = x.shape
        pad_value = _same_padding(h_x, pool_size, h_stride)
        npad = [(0, 0)] * x.ndim
        npad[1] = (0, pad_value)
        x = np.pad(x, pad_width=npad, mode="edge")

    n_batch, h_x, ch_x = x.shape
    out_h = int((h_x - pool_size) / h_stride) + 1

    stride_shape = (n_batch, out_h, ch_x, pool_size)
    strides = (
        x.strides[0],
        h_stride * x.strides[1],
        x.strides[2],
        x.strides[1],
    )
    windows = as_strided(x, shape=stride_shape, strides=strides)
    out = np.mean(windows, axis=(3,))
    if data_format == "channels_first":
        out = out.swapaxes(1, 2)
    return out



BASIC_CASES = [
    (2, 1, "valid", "channels_last", (3, 5, 4), (3, 4, 4)),
    (2, 1, "same", "channels_first", (3, 5, 4), (3, 5, 4)),
    ((2,), (2,), "valid", "channels_last", (3, 5, 4), (3, 2, 4)),
]


# Keras: MaxPoolingBasicTest.test_max_pooling1d, AveragePoolingBasicTest.test_average_pooling1d
@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D], ids=["max", "average"])
@pytest.mark.parametrize("pool_size,strides,padding,data_format,input_shape,output_shape", BASIC_CASES)
def test_pooling1d_basic(cls, pool_size, strides, padding, data_format, input_shape, output_shape):
    run_layer_test(cls, init_kwargs={"pool_size": pool_size, "strides": strides, "padding": padding,
                                     "data_format": data_format},
                   input_shape=input_shape, expected_output_shape=output_shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, supports_masking=False,
                   assert_built_after_instantiation=True)


# Keras: MaxPoolingCorrectnessTest.test_max_pooling1d
@pytest.mark.parametrize("pool_size,strides,padding,data_format", [
    (2, 1, "valid", "channels_last"),
    (2, 1, "valid", "channels_first"),
    (2, 1, "same", "channels_last"),
    (2, 1, "same", "channels_first"),
    ((2,), (2,), "valid", "channels_last"),
    ((2,), (2,), "valid", "channels_first"),
])
def test_max_pooling1d(pool_size, strides, padding, data_format):
    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    layer = MaxPooling1D(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    outputs = layer(inputs)
    expected = np_maxpool1d(inputs, pool_size, strides, padding, data_format)
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)


# Keras: AveragePoolingCorrectnessTest.test_average_pooling1d and test_average_pooling1d_same_padding
@pytest.mark.parametrize("pool_size,strides,padding,data_format", [
    (2, 1, "valid", "channels_last"),
    (2, 1, "valid", "channels_first"),
    ((2,), (2,), "valid", "channels_last"),
    ((2,), (2,), "valid", "channels_first"),
    (2, 1, "same", "channels_last"),
    (2, 1, "same", "channels_first"),
    ((2,), (2,), "same", "channels_last"),
    ((2,), (2,), "same", "channels_first"),
])
def test_average_pooling1d(pool_size, strides, padding, data_format):
    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    layer = AveragePooling1D(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    outputs = layer(inputs)
    expected = np_avgpool1d(inputs, pool_size, strides, padding, data_format)
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)


GLOBAL_BASIC_CASES = [
    ("channels_last", False, (3, 5, 4), (3, 4)),
    ("channels_last", True, (3, 5, 4), (3, 1, 4)),
    ("channels_first", False, (3, 5, 4), (3, 5)),
]


# Keras: GlobalAveragePoolingBasicTest.test_global_average_pooling1d,
#        GlobalMaxPoolingBasicTest.test_global_max_pooling1d
@pytest.mark.parametrize("cls,masking", [(GlobalAveragePooling1D, True), (GlobalMaxPooling1D, False)],
                         ids=["average", "max"])
@pytest.mark.parametrize("data_format,keepdims,input_shape,output_shape", GLOBAL_BASIC_CASES)
def test_global_pooling1d_basic(cls, masking, data_format, keepdims, input_shape, output_shape):
    run_layer_test(cls, init_kwargs={"data_format": data_format, "keepdims": keepdims}, input_shape=input_shape,
                   expected_output_shape=output_shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, supports_masking=masking,
                   assert_built_after_instantiation=True)


FORMATS_KEEPDIMS = [("channels_last", False), ("channels_last", True), ("channels_first", False),
                    ("channels_first", True)]


# Keras: GlobalAveragePoolingCorrectnessTest.test_global_average_pooling1d
@pytest.mark.parametrize("data_format,keepdims", FORMATS_KEEPDIMS)
def test_global_average_pooling1d(data_format, keepdims):
    def np_gap1d(x, data_format, keepdims, mask=None):
        steps_axis = 1 if data_format == "channels_last" else 2
        if mask is not None:
            mask = np.expand_dims(mask, 2 if data_format == "channels_last" else 1)
            x *= mask
            res = np.sum(x, axis=steps_axis) / np.sum(mask, axis=steps_axis)
        else:
            res = np.mean(x, axis=steps_axis)
        if keepdims:
            res = np.expand_dims(res, axis=steps_axis)
        return res

    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    layer = GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    outputs = layer(inputs)
    expected = np_gap1d(inputs, data_format, keepdims)
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)

    if data_format == "channels_last":
        mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    else:
        mask = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], dtype="int32")
    outputs = layer(inputs, mask)
    expected = np_gap1d(inputs, data_format, keepdims, mask)
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)


# Keras: GlobalMaxPoolingCorrectnessTest.test_global_max_pooling1d
@pytest.mark.parametrize("data_format,keepdims", FORMATS_KEEPDIMS)
def test_global_max_pooling1d(data_format, keepdims):
    def np_global_max_pool1d(x, data_format, keepdims):
        steps_axis = [1] if data_format == "channels_last" else [2]
        res = np.apply_over_axes(np.max, x, steps_axis)
        if not keepdims:
            res = res.squeeze()
        return res

    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    layer = GlobalMaxPooling1D(data_format=data_format, keepdims=keepdims)
    outputs = layer(inputs)
    expected = np_global_max_pool1d(inputs, data_format, keepdims)
    np.testing.assert_allclose(outputs.numpy(), expected, **TOL)


# -- beyond Keras's files --------------------------------------------------------------------------------
def test_same_padding_splits_like_tensorflow():
    """Window 3, stride 1 on 4 steps: one padded step before and one after (TensorFlow's rule), so
    the max never takes the padding and the average counts real steps only."""
    x = torch.tensor([[[1.0], [5.0], [2.0], [4.0]]])
    assert MaxPooling1D(3, strides=1, padding="same")(x)[0, :, 0].tolist() == [5.0, 5.0, 5.0, 4.0]
    np.testing.assert_allclose(AveragePooling1D(3, strides=1, padding="same")(x)[0, :, 0].numpy(),
                               [3.0, 8 / 3, 11 / 3, 3.0], **TOL)
    neg = -x
    assert MaxPooling1D(3, strides=1, padding="same")(neg)[0, :, 0].tolist() == [-1.0, -1.0, -2.0, -2.0]


def test_pool_longer_than_the_sequence_is_refused():
    with pytest.raises(ValueError, match="pool_size=4 is longer than the 3 time steps"):
        MaxPooling1D(4)(torch.zeros(1, 3, 2))


def test_masked_global_average_in_sequential_and_functional():
    """Masking -> GlobalAveragePooling1D averages the real steps only, in both model kinds."""
    x = np.array([[[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]], [[5.0, 6.0], [0.0, 0.0], [0.0, 0.0]]], dtype="float32")
    expected = np.array([[2.0, 3.0], [5.0, 6.0]])
    seq = Sequential([Input((3, 2)), Masking(), GlobalAveragePooling1D()])
    np.testing.assert_allclose(seq.predict(x, verbose=0), expected, **TOL)
    inputs = Input((3, 2))
    functional = Model(inputs, GlobalAveragePooling1D()(Masking()(inputs)))
    np.testing.assert_allclose(functional.predict(x, verbose=0), expected, **TOL)


def test_embedding_mask_reaches_global_average():
    emb = Embedding(5, 2, mask_zero=True)
    model = Sequential([Input((3,), dtype="int64"), emb, GlobalAveragePooling1D()])
    ids = np.array([[1, 2, 0]])
    vectors = emb.weight.detach().numpy()
    np.testing.assert_allclose(model.predict(ids, verbose=0), vectors[[1, 2]].mean(0, keepdims=True), atol=1e-6)


def test_sequence_classifier_saves_and_loads(tmp_path):
    model = Sequential([Input((16, 3)), Conv1D(8, 3, activation="relu"), MaxPooling1D(2),
                        AveragePooling1D(2, padding="same"), LSTM(4, return_sequences=True), GlobalMaxPooling1D(),
                        Dense(1)])
    x = np.random.default_rng(0).normal(size=(3, 16, 3)).astype("float32")
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(x, verbose=0), before, **TOL)
    rows = rnnkit.explain(model).rows
    assert [r.output_shape for r in rows] == [(None, 14, 8), (None, 7, 8), (None, 4, 8), (None, 4, 4), (None, 4),
                                              (None, 1)]
    assert rows[4].output_axes == ("batch", "features")
