"""Keras 3's keras/src/layers/reshaping/up_sampling1d_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6).

Symbolic shapes: rnnkit's functional API runs each layer on an example tensor (an unknown length
stands for 13 steps), so a length of None stays None only through layers that keep the length;
test_upsampling_1d_with_dynamic_shape's (2, None, 3) -> (2, None, 3) is not ported. Its (2, 3, None)
case has an unknown features axis, which rnnkit's inputs do not take either.
"""

import numpy as np
import pytest
import torch

from rnnkit.layers import Input, UpSampling1D

from layer_helpers import run_layer_test


# Keras: test_upsampling_1d
def test_upsampling_1d():
    run_layer_test(UpSampling1D, init_kwargs={"size": 2}, input_shape=(3, 5, 4), expected_output_shape=(3, 10, 4))


# Keras: test_upsampling_1d_correctness
def test_upsampling_1d_correctness():
    expected = [[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [3.0, 4.0, 5.0]],
                [[6.0, 7.0, 8.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0], [9.0, 10.0, 11.0]]]
    np.testing.assert_allclose(UpSampling1D(size=2)(np.arange(12).reshape((2, 2, 3))).numpy(), expected, atol=1e-6)


# Keras: test_upsampling_1d_correctness_with_ones
def test_upsampling_1d_correctness_with_ones():
    np.testing.assert_allclose(UpSampling1D(size=3)(np.ones((2, 1, 5))).numpy(), np.ones((2, 3, 5)))


# Keras: test_upsampling_1d_with_dynamic_batch_size
def test_upsampling_1d_with_dynamic_batch_size():
    x = Input((2, 3))
    assert UpSampling1D(size=2)(x).shape == (None, 4, 3)
    assert UpSampling1D(size=4)(x).shape == (None, 8, 3)


# Keras: test_upsampling_1d_with_invalid_size
@pytest.mark.parametrize("size", [0, -2])
def test_upsampling_1d_with_invalid_size(size):
    with pytest.raises(ValueError, match="should be a positive integer"):
        UpSampling1D(size=size)


@pytest.mark.parametrize("size", [2.5, "2", True])
def test_upsampling_1d_with_invalid_size_type(size):
    with pytest.raises(TypeError, match="Expected an integer value for `size`"):
        UpSampling1D(size=size)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_drops_the_mask_as_keras():
    layer = UpSampling1D(2)
    assert not layer.supports_masking and layer.compute_mask(torch.ones(1, 2, 3), torch.ones(1, 2, dtype=torch.bool)) \
        is None


def test_rank_other_than_3_is_refused():
    with pytest.raises(ValueError, match=r"expects inputs of rank 3.*received shape \(2, 3\)"):
        UpSampling1D(2)(torch.ones(2, 3))
