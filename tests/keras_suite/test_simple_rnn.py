"""Keras 3's keras/src/layers/rnn/simple_rnn_test.py, ported to rnnkit with Keras's expected numbers and
tolerances (assertAllClose's 1e-6; its tpu_* tolerances do not apply). Every test of the file is ported;
`test_basics` through `recurrent_checks.run_layer_test` (what it checks is said there: Keras's
`expected_num_non_trainable_variables=1` counts its SeedGenerator's state, which rnnkit does not have).
Each golden runs on both of rnnkit's paths (the fused kernel and the step loop, `use_fused=False`).
"""

import numpy as np
import pytest

from rnnkit.initializers import Constant
from rnnkit.layers import Dense, Input, SimpleRNN
from rnnkit.models import Sequential

from recurrent_checks import close, run_layer_test

SEQ_T3 = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ_T4 = np.arange(24).reshape((2, 4, 3)).astype("float32")


def _rnn(units, use_fused="auto", **kwargs):
    return SimpleRNN(units, kernel_initializer=Constant(0.01), recurrent_initializer=Constant(0.02),
                     bias_initializer=Constant(0.03), use_fused=use_fused, **kwargs)


PATHS = pytest.mark.parametrize("use_fused", ["auto", False], ids=["fused", "loop"])


# Keras: test_basics
def test_basics():
    run_layer_test(SimpleRNN, init_kwargs={"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5},
                   input_shape=(3, 2, 4), call_kwargs={"training": True}, expected_output_shape=(3, 3),
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)
    run_layer_test(SimpleRNN, init_kwargs={"units": 3, "return_sequences": True, "bias_regularizer": "l1",
                                           "kernel_regularizer": "l2", "recurrent_regularizer": "l2"},
                   input_shape=(3, 2, 4), expected_output_shape=(3, 2, 3), expected_num_losses=3,
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, supports_masking=True)


# Keras: test_correctness
@PATHS
def test_correctness(use_fused):
    forward = [[0.405432] * 4, [0.73605347] * 4]
    backward = [[0.11144729] * 4, [0.5528889] * 4]
    close(_rnn(4, use_fused)(SEQ_T3), forward)
    close(_rnn(4, use_fused, unroll=True)(SEQ_T3), forward)
    close(_rnn(4, use_fused, go_backwards=True)(SEQ_T3), backward)
    close(_rnn(4, use_fused, go_backwards=True, unroll=True)(SEQ_T3), backward)


# Keras: test_statefulness
@PATHS
def test_statefulness(use_fused):
    layer = _rnn(4, use_fused, stateful=True)
    expected = [[0.40559256] * 4, [0.7361247] * 4]
    layer(SEQ_T3)
    close(layer(SEQ_T3), expected)
    layer.reset_state()
    layer(SEQ_T3)
    close(layer(SEQ_T3), expected)


# Keras: test_pass_initial_state
@PATHS
def test_pass_initial_state(use_fused):
    initial_state = np.arange(8).reshape((2, 4)).astype("float32")
    close(_rnn(4, use_fused)(SEQ_T4, initial_state=initial_state), [[0.33621645] * 4, [0.6262637] * 4])
    close(_rnn(4, use_fused, go_backwards=True)(SEQ_T4, initial_state=initial_state),
          [[0.07344437] * 4, [0.43043602] * 4])


# Keras: test_masking
@PATHS
def test_masking(use_fused):
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    close(_rnn(4, use_fused, unroll=True)(SEQ_T4, mask=mask), [[0.32951632] * 4, [0.61799484] * 4])

    output = _rnn(2, use_fused, return_sequences=True)(SEQ_T4, mask=mask)
    close(output[0], [[0.0599281] * 2, [0.15122814] * 2, [0.15122814] * 2, [0.32394567] * 2])
    close(output[1], [[0.3969304] * 2, [0.3969304] * 2, [0.3969304] * 2, [0.608085] * 2])

    output = _rnn(2, use_fused, return_sequences=True, zero_output_for_mask=True)(SEQ_T4, mask=mask)
    close(output[0], [[0.0599281] * 2, [0.15122814] * 2, [0.0] * 2, [0.32394567] * 2])
    close(output[1], [[0.3969304] * 2, [0.0] * 2, [0.0] * 2, [0.608085] * 2])

    close(_rnn(4, use_fused, go_backwards=True)(SEQ_T4, mask=mask), [[0.07376196] * 4, [0.43645123] * 4])


# -- rnnkit: layer.losses and the training loss, with numbers from Keras 3.15.1 -------------------------
# Computed by Keras (jax backend) for these weights; rnnkit must give the same penalties in the same order.
KERNEL = np.linspace(-1.0, 1.0, 12).reshape(3, 4).astype("float32")
RECURRENT = np.linspace(0.5, -0.5, 16).reshape(4, 4).astype("float32")
BIAS = np.array([0.1, -0.2, 0.3, -0.4], "float32")


KERAS_WEIGHT_LOSSES = [0.047272730618715286, 0.008148499764502048, 0.1599999964237213]
KERAS_EVALUATE = 1.6442009210586548
KERAS_FIT_LOSSES = [1.6442009210586548, 1.3784911632537842]
KERAS_LOSSES_AFTER_CALL = [0.01046380028128624, 0.06505979597568512, 0.03885123133659363]


def _weighted(**kwargs):
    layer = SimpleRNN(4, input_size=3, **kwargs)
    layer.set_keras_weights([KERNEL, RECURRENT, BIAS])
    return layer


def test_weight_losses_equal_keras():
    layer = _weighted(kernel_regularizer="l2", recurrent_regularizer="orthogonal_regularizer",
                      bias_regularizer={"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    got = [float(v.detach()) for v in layer.losses]
    close(got, KERAS_WEIGHT_LOSSES)


def test_fit_minimises_the_loss_plus_the_penalties():
    x = np.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3).astype("float32")
    y = np.zeros((2, 1), "float32")
    layer = _weighted(kernel_regularizer="l1")
    dense = Dense(1, kernel_initializer="ones", input_size=4, kernel_regularizer="l2", activity_regularizer="l2")
    model = Sequential([Input((5, 3)), layer, dense])
    model.compile(optimizer="sgd", loss="mse")
    close(model.evaluate(x, y, verbose=0), KERAS_EVALUATE, dict(atol=1e-6, rtol=1e-5))
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0, shuffle=False)
    close(history.history["loss"], KERAS_FIT_LOSSES, dict(atol=1e-6, rtol=1e-5))
    model(x)  # Keras lists the activity penalty of the last eager call first, then the weights' penalties
    close([float(v.detach()) for v in model.losses], KERAS_LOSSES_AFTER_CALL, dict(atol=1e-6, rtol=1e-5))
