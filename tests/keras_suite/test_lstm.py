"""Keras 3's keras/src/layers/rnn/lstm_test.py, ported to rnnkit with Keras's expected numbers and
tolerances (atol=rtol=1e-5 as Keras writes them; its tpu_* tolerances do not apply). Every test of the
file is ported; `test_basics` through `recurrent_checks.run_layer_test` (what it checks is said there).
Keras's `initializers.Constant(v)` is rnnkit's `Constant(v)`; `reset_state()` is spelled as in Keras.

Each golden runs on both of rnnkit's paths (the fused kernel and the step loop, `use_fused=False`):
Keras's `implementation` and `unroll` are kept in the config and never change the numbers.
"""

import numpy as np
import pytest

from rnnkit.initializers import Constant
from rnnkit.layers import LSTM

from recurrent_checks import TOL5, close, run_layer_test

SEQ72 = np.arange(72).reshape((3, 6, 4)).astype("float32")


def _lstm(units, use_fused="auto", **kwargs):
    return LSTM(units, kernel_initializer=Constant(0.01), recurrent_initializer=Constant(0.02),
                bias_initializer=Constant(0.03), use_fused=use_fused, **kwargs)


PATHS = pytest.mark.parametrize("use_fused", ["auto", False], ids=["fused", "loop"])


# Keras: test_basics
def test_basics():
    run_layer_test(LSTM, init_kwargs={"units": 3, "dropout": 0.5}, input_shape=(3, 2, 4),
                   call_kwargs={"training": True}, expected_output_shape=(3, 3), expected_num_trainable_weights=3,
                   expected_num_non_trainable_weights=0, supports_masking=True)
    run_layer_test(LSTM, init_kwargs={"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}, input_shape=(3, 2, 4),
                   call_kwargs={"training": True}, expected_output_shape=(3, 3), expected_num_trainable_weights=3,
                   expected_num_non_trainable_weights=0, supports_masking=True)
    run_layer_test(LSTM, init_kwargs={"units": 3, "return_sequences": True, "bias_regularizer": "l1",
                                      "kernel_regularizer": "l2", "recurrent_regularizer": "l2"},
                   input_shape=(3, 2, 4), expected_output_shape=(3, 2, 3), expected_num_losses=3,
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)


# Keras: test_correctness (parameterized over implementation 1 and 2)
@PATHS
@pytest.mark.parametrize("implementation", [1, 2])
def test_correctness(implementation, use_fused):
    def run(**kwargs):
        layer = _lstm(3, use_fused, implementation=implementation, **kwargs)
        return layer(SEQ72)

    close(run(), [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3], TOL5)
    close(run(go_backwards=True), [[0.35622165] * 3, [0.74789524] * 3, [0.8872726] * 3], TOL5)
    close(run(unroll=True), [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3], TOL5)
    close(run(unit_forget_bias=False), [[0.57019705] * 3, [0.8661914] * 3, [0.9459622] * 3], TOL5)
    close(run(use_bias=False), [[0.54986924] * 3, [0.86226785] * 3, [0.9443936] * 3], TOL5)


# Keras: test_statefulness
@PATHS
def test_statefulness(use_fused):
    sequence = np.arange(24).reshape((2, 3, 4)).astype("float32")
    layer = _lstm(4, use_fused, stateful=True)
    expected = [[0.3124785] * 4, [0.6863672] * 4]
    layer(sequence)
    close(layer(sequence), expected, TOL5)
    layer.reset_state()
    layer(sequence)
    close(layer(sequence), expected, TOL5)


# Keras: test_pass_initial_state
@PATHS
def test_pass_initial_state(use_fused):
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    initial_state = [np.arange(4).reshape((2, 2)).astype("float32"),
                     np.arange(4).reshape((2, 2)).astype("float32")]
    output = _lstm(2, use_fused)(sequence, initial_state=initial_state)
    close(output, [[0.20574439, 0.3558822], [0.64930826, 0.66276]], TOL5)
    output = _lstm(2, use_fused, go_backwards=True)(sequence, initial_state=initial_state)
    close(output, [[0.13281618, 0.2790356], [0.5839337, 0.5992567]], TOL5)


# Keras: test_masking
@PATHS
def test_masking(use_fused):
    sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    output = _lstm(2, use_fused, unroll=True)(sequence, mask=mask)
    close(output, [[0.11755939] * 2, [0.28556206] * 2], TOL5)

    output = _lstm(2, use_fused, return_sequences=True)(sequence, mask=mask)
    close(output[0], [[0.01588910] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.11755939] * 2], TOL5)
    close(output[1], [[0.14185596] * 2, [0.28556206] * 2, [0.28556206] * 2, [0.28556206] * 2], TOL5)

    output = _lstm(2, use_fused, return_sequences=True, zero_output_for_mask=True)(sequence, mask=mask)
    close(output[0], [[0.01588910] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.0] * 2], TOL5)
    close(output[1], [[0.14185596] * 2, [0.28556206] * 2, [0.0] * 2, [0.0] * 2], TOL5)

    backwards_mask = np.array([[False, True, True, True], [False, False, True, True]])
    output = _lstm(2, use_fused, go_backwards=True)(sequence, mask=backwards_mask)
    close(output, [[0.15341201] * 2, [0.3844719] * 2], TOL5)
