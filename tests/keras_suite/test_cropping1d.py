"""Keras 3's keras/src/layers/reshaping/cropping1d_test.py, ported to rnnkit (run_layer_test's
expected_output with assertAllClose's atol=rtol=1e-6).

test_cropping_1d_with_dynamic_spatial_dim is not ported (see test_up_sampling1d.py). Keras refuses
excessive cropping of a declared length when the layer is called on the symbolic input; rnnkit does too,
with the message wrapped in the functional API's 'cannot take input of shape'.
"""

import numpy as np
import pytest

from rnnkit.layers import Cropping1D, Input

from layer_helpers import run_layer_test


# Keras: test_cropping_1d
@pytest.mark.parametrize("cropping, kept", [((1, 2), slice(1, 3)), ((1, 1), slice(1, 4)), (1, slice(1, 4)),
                                             ((0, 1), slice(0, 4)), ((1, 0), slice(1, 5))])
def test_cropping_1d(cropping, kept):
    inputs = np.random.rand(3, 5, 7)
    np.testing.assert_allclose(Cropping1D(cropping)(inputs).numpy(), inputs[:, kept, :], atol=1e-6, rtol=1e-6)
    run_layer_test(Cropping1D, init_kwargs={"cropping": cropping}, input_shape=(3, 5, 7),
                   expected_output_shape=(3, kept.stop - kept.start, 7))


# Keras: test_cropping_1d_errors_if_cropping_argument_invalid
@pytest.mark.parametrize("cropping", [(1,), (1, 2, 3), "1"])
def test_cropping_1d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError, match="The `cropping` argument must be a tuple of 2 integers"):
        Cropping1D(cropping=cropping)


# Keras: test_cropping_1d_errors_if_cropping_more_than_available
def test_cropping_1d_errors_if_cropping_more_than_available():
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"):
        Cropping1D(cropping=(2, 3))(Input(batch_shape=(3, 5, 7)))


# Keras: test_cropping_1d_error_on_excessive_cropping
def test_cropping_1d_error_on_excessive_cropping():
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"):
        Cropping1D(cropping=(3, 3))(np.random.rand(3, 5, 7))
