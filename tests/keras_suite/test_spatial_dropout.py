"""Keras 3's keras/src/layers/regularization/spatial_dropout_test.py (the 1-D cases), ported to rnnkit
(assertAllClose's atol=rtol=1e-6).

Not applicable: the 2-D and 3-D cases (rnnkit has SpatialDropout1D only); test_spatial_dropout_1D_dynamic
calls the layer on a symbolic Keras Input: ported as a call on an Input inside a functional model.
"""

import numpy as np
import pytest
import torch

from rnnkit import Model
from rnnkit.layers import Input, SpatialDropout1D

from layer_helpers import run_layer_test

TOL = dict(atol=1e-6, rtol=1e-6)


# Keras: test_spatial_dropout_1d
@pytest.mark.parametrize("training", [True, False])
def test_spatial_dropout_1d(training):
    run_layer_test(SpatialDropout1D, init_kwargs={"rate": 0.5}, call_kwargs={"training": training},
                   input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4), supports_masking=True,
                   assert_built_after_instantiation=True)


# Keras: test_spatial_dropout_1D_dynamic
def test_spatial_dropout_1D_dynamic():
    inputs = Input((3, 2))
    model = Model(inputs, SpatialDropout1D(0.5)(inputs, training=True))
    assert model.predict(np.ones((4, 3, 2)), verbose=0).shape == (4, 3, 2)


# Keras: test_spatial_dropout_1D_correctness
def test_spatial_dropout_1D_correctness():
    inputs = np.ones((10, 3, 10))
    outputs = SpatialDropout1D(0.5)(inputs, training=True).numpy()
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :], **TOL)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_drops_whole_channels_and_scales_the_rest():
    out = SpatialDropout1D(0.25)(torch.ones(200, 4, 8), training=True)
    values = np.unique(out.numpy())
    assert len(values) == 2 and values[0] == 0.0
    np.testing.assert_allclose(values[1], 1 / 0.75, rtol=1e-6)
    assert bool((out == out[:, :1]).all())  # every step the same per (sample, channel)
    dropped = float((out[:, 0] == 0).float().mean())
    assert 0.18 < dropped < 0.32


def test_seed_makes_it_repeatable_and_inference_is_identity():
    x = torch.ones(3, 5, 6)
    a = SpatialDropout1D(0.5, seed=7)(x, training=True)
    b = SpatialDropout1D(0.5, seed=7)(x, training=True)
    assert torch.equal(a, b)
    assert torch.equal(SpatialDropout1D(0.5)(x), x)


def test_rejects_other_ranks_and_bad_rates():
    with pytest.raises(ValueError, match=r"expected \(batch, time_steps, channels\)"):
        SpatialDropout1D(0.5)(torch.ones(2, 3), training=True)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        SpatialDropout1D(1.5)
