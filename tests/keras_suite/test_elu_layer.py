"""Keras 3's keras/src/layers/activations/elu_test.py, ported to rnnkit (assertAllClose's
atol=rtol=1e-6)."""

import numpy as np
import pytest

from rnnkit.layers import ELU
from rnnkit.layers.serialize import deserialize, serialize

from layer_helpers import run_layer_test


def np_elu(x, alpha=1.0):
    return (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1)


# Keras: test_config (run_class_serialization_test)
def test_config():
    layer = ELU(alpha=0.7)
    restored = deserialize(serialize(layer))
    assert restored.get_config() == layer.get_config() and restored.alpha == 0.7


# Keras: test_elu
def test_elu():
    run_layer_test(ELU, init_kwargs={}, input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4), supports_masking=True,
                   assert_built_after_instantiation=True)


# Keras: test_correctness
def test_correctness():
    x = np.random.random((2, 2, 5)) - 0.5
    np.testing.assert_allclose(ELU()(x).numpy(), np_elu(x), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ELU(alpha=0.7)(x).numpy(), np_elu(x, alpha=0.7), atol=1e-6, rtol=1e-6)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_alpha_must_be_a_number():
    with pytest.raises(ValueError, match=r"alpha.*Received: alpha='big'.*Pass e.g. alpha=1.0"):
        ELU(alpha="big")
