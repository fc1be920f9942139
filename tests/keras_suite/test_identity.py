"""Keras 3's keras/src/layers/core/identity_test.py, ported to rnnkit (the dense case; rnnkit has no
sparse tensors)."""

import numpy as np
import torch

from rnnkit import Model
from rnnkit.layers import Identity, Input, LSTM, Masking

from layer_helpers import run_layer_test


# Keras: test_identity_basics (dense)
def test_identity_basics():
    run_layer_test(Identity, init_kwargs={}, input_shape=(2, 3), expected_output_shape=(2, 3), supports_masking=True,
                   assert_built_after_instantiation=True)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_passes_values_and_the_mask_on():
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    x[1, 2:] = 0.0
    inputs = Input((4, 3))
    lstm = LSTM(2)
    with_identity = Model(inputs, lstm(Identity()(Masking(0.0)(inputs))))
    without = Model(inputs, lstm(Masking(0.0)(inputs)))
    np.testing.assert_allclose(with_identity.predict(x, verbose=0), without.predict(x, verbose=0), atol=1e-6)
    assert torch.equal(Identity()(torch.from_numpy(x)), torch.from_numpy(x))
