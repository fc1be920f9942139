"""Keras 3's keras/src/layers/normalization/unit_normalization_test.py, ported to rnnkit
(assertAllClose's atol=rtol=1e-6)."""

import numpy as np
import pytest
import torch

from rnnkit.layers import UnitNormalization

from layer_helpers import run_layer_test


def squared_l2_norm(x):
    return np.sum(np.asarray(x) ** 2)


# Keras: test_un_basics
def test_un_basics():
    run_layer_test(UnitNormalization, init_kwargs={"axis": -1}, input_shape=(2, 3), expected_output_shape=(2, 3),
                   supports_masking=True, assert_built_after_instantiation=True)
    run_layer_test(UnitNormalization, init_kwargs={"axis": (1, 2)}, input_shape=(1, 3, 3),
                   expected_output_shape=(1, 3, 3), supports_masking=True, assert_built_after_instantiation=True)


# Keras: test_invalid_axis
def test_invalid_axis():
    with pytest.raises(TypeError, match="Invalid value for `axis` argument: expected an int or a list/tuple of ints."):
        UnitNormalization(axis={"axis": -1})


# Keras: test_correctness
def test_correctness():
    outputs = UnitNormalization(axis=-1)(np.random.normal(size=(2, 3))).numpy()
    np.testing.assert_allclose(squared_l2_norm(outputs[0, :]), 1.0, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(squared_l2_norm(outputs[1, :]), 1.0, atol=1e-6, rtol=1e-6)

    outputs = UnitNormalization(axis=(1, 2))(np.random.normal(size=(2, 3, 3))).numpy()
    np.testing.assert_allclose(squared_l2_norm(outputs[0, :, :]), 1.0, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(squared_l2_norm(outputs[1, :, :]), 1.0, atol=1e-6, rtol=1e-6)

    outputs = UnitNormalization(axis=1)(np.random.normal(size=(2, 3, 2))).numpy()
    for sample in (0, 1):
        for column in (0, 1):
            np.testing.assert_allclose(squared_l2_norm(outputs[sample, :, column]), 1.0, atol=1e-6, rtol=1e-6)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_zero_vector_stays_zero_and_axis_out_of_range_is_refused():
    assert UnitNormalization()(torch.zeros(1, 3)).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match=r"Axis 2 is out of bounds for input shape \(1, 3\)"):
        UnitNormalization(axis=2)(torch.ones(1, 3))
