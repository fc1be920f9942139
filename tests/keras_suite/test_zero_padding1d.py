"""Keras 3's keras/src/layers/reshaping/zero_padding1d_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6).

test_zero_padding_1d_with_dynamic_spatial_dim's None-length case is not ported (see
test_up_sampling1d.py: rnnkit's symbolic shapes come from an example of 13 steps); its static case is.
get_config has no "dtype" and "trainable" in rnnkit.
"""

import numpy as np
import pytest

from rnnkit.layers import Input, ZeroPadding1D
from rnnkit.layers.serialize import deserialize, serialize

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_zero_padding_1d
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_zero_padding_1d(data_format):
    inputs = np.random.rand(1, 2, 3)
    outputs = ZeroPadding1D(padding=(1, 2), data_format=data_format)(inputs).numpy()
    if data_format == "channels_last":
        for index in [0, -1, -2]:
            np.testing.assert_allclose(outputs[:, index, :], 0.0)
        np.testing.assert_allclose(outputs[:, 1:-2, :], inputs, **TOL)
    else:
        for index in [0, -1, -2]:
            np.testing.assert_allclose(outputs[:, :, index], 0.0)
        np.testing.assert_allclose(outputs[:, :, 1:-2], inputs, **TOL)


# Keras: test_zero_padding_1d_with_same_padding
@pytest.mark.parametrize("padding", [(2, 2), 2], ids=["one_tuple", "one_int"])
def test_zero_padding_1d_with_same_padding(padding):
    inputs = np.random.rand(1, 2, 3)
    outputs = ZeroPadding1D(padding=padding, data_format="channels_last")(inputs).numpy()
    for index in [0, 1, -1, -2]:
        np.testing.assert_allclose(outputs[:, index, :], 0.0)
    np.testing.assert_allclose(outputs[:, 2:-2, :], inputs, **TOL)


# Keras: test_zero_padding_1d_with_dynamic_spatial_dim (the static case)
def test_zero_padding_1d_with_static_spatial_dim():
    padded = ZeroPadding1D((1, 2), data_format="channels_last")(Input(batch_shape=(1, 2, 3)))
    assert padded.shape == (1, 5, 3)


# Keras: test_zero_padding_1d_errors_if_padding_argument_invalid
@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1"])
def test_zero_padding_1d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError, match=r"The `padding` argument must be a tuple of 2 integers.*Pass an int >= 0"):
        ZeroPadding1D(padding)


# Keras: test_zero_padding_1d_get_config
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_zero_padding_1d_get_config(data_format):
    layer = ZeroPadding1D(padding=(1, 2), data_format=data_format)
    assert layer.get_config() == {"data_format": data_format, "name": layer.name, "padding": (1, 2)}
    assert deserialize(serialize(layer)).get_config() == layer.get_config()


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_negative_padding_and_unknown_data_format_are_refused():
    with pytest.raises(ValueError, match="must be a tuple of 2 integers. Received padding=-1"):
        ZeroPadding1D(-1)
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        ZeroPadding1D(1, data_format="NWC")
