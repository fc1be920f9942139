"""Bad inputs found by the reliability probe, one pinned case each: every one ends in an rnnkit error that
says what was expected, what was received and how to fix it (never a raw torch/NumPy/Python error, never a
silent wrong result). The property suite beside this file (test_bad_inputs.py) generates many more."""

import re
import time

import numpy as np
import pytest

import rnnkit
from rnnkit import (GRU, LSTM, Bidirectional, Dense, Dropout, Embedding, Input, Sequential, SimpleRNN,
                    TimeDistributed, explain)
from rnnkit.checks import ArgumentError, short
from rnnkit.data import windows

RNNS = [LSTM, GRU, SimpleRNN]


@pytest.fixture(scope="module")
def model():
    m = Sequential([Input((5, 2)), LSTM(3), Dense(1)])
    m.compile("adam", "mse")
    return m


@pytest.fixture(scope="module")
def classifier():
    m = Sequential([Input((5, 2)), LSTM(3), Dense(3, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


X = np.zeros((4, 5, 2), np.float32)
Y = np.zeros((4, 1), np.float32)


# -- empty data ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch", "test_on_batch", "predict",
                                  "predict_on_batch"])
def test_no_samples_is_refused_by_every_training_entry_point(model, call):
    x, y = np.zeros((0, 5, 2), np.float32), np.zeros((0, 1), np.float32)
    args = (x,) if call.startswith("predict") else (x, y)
    with pytest.raises(ValueError, match=rf"{call}: x has no samples \(shape \(0, 5, 2\)\).*at least one sample"):
        getattr(model, call)(*args)


@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch", "test_on_batch", "predict",
                                  "predict_on_batch"])
def test_zero_time_steps_is_refused_by_every_training_entry_point(model, call):
    x = np.zeros((4, 0, 2), np.float32)
    args = (x,) if call.startswith("predict") else (x, Y)
    with pytest.raises(ValueError, match=r"shape \(4, 0, 2\): axis 1 \(time steps\) is empty"):
        getattr(model, call)(*args)


@pytest.mark.parametrize("layer", RNNS)
def test_a_recurrent_layer_refuses_zero_time_steps(layer):
    with pytest.raises(ValueError, match=r"expected at least one time step.*received input of shape \(4, 0, 2\)"):
        layer(3)(np.zeros((4, 0, 2), np.float32))


def test_a_layer_called_on_no_samples_returns_no_samples():
    # A layer (or model) called directly computes: an empty batch gives an empty output, as in Keras.
    assert LSTM(3)(np.zeros((0, 5, 2), np.float32)).shape == (0, 3)


# -- targets --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label, message", [
    (7, r"class ids in \[0, 3\).*received 7.*3 units"),
    (-1, r"class ids in \[0, 3\).*received -1"),
    (1.5, r"whole-number class ids.*received 1.5"),
])
@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_sparse_labels_out_of_range_are_refused(classifier, label, message, call):
    y = np.array([0, 1, 2, label])
    kwargs = {"verbose": 0} if call == "fit" else {}
    with pytest.raises(ValueError, match=message):
        getattr(classifier, call)(X, y, **kwargs)


# -- fit's arguments --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 2.5}, r"epochs must be a whole number >= 0, received 2.5"),
    ({"epochs": -1}, r"epochs must be a whole number >= 0, received -1"),
    ({"epochs": "3"}, r"epochs must be a whole number >= 0, received '3'"),
    ({"epochs": True}, r"epochs must be a whole number >= 0, received True"),
    ({"batch_size": 0}, r"batch_size must be a positive integer, received 0"),
    ({"batch_size": -3}, r"batch_size must be a positive integer, received -3"),
    ({"batch_size": 2.5}, r"batch_size must be a positive integer, received 2.5"),
    ({"verbose": "x"}, r"verbose must be 0 \(silent\), 1 \(progress bar\), 2 \(one line per epoch\) or 'auto', "
                       r"received 'x'"),
    ({"verbose": -1}, r"verbose must be 0 .* received -1"),
    ({"initial_epoch": -2}, r"initial_epoch must be a whole number >= 0, received -2"),
    ({"validation_split": "0.2"}, r"validation_split must be in \[0, 1\).*received '0.2'"),
    ({"shuffle": "False"}, r"shuffle must be True or False, received 'False'"),
])
def test_fit_refuses_bad_arguments(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.fit(X, Y, **{"verbose": 0, **kwargs})


def test_fit_accepts_keras_spellings(model):
    model.fit(X, Y, epochs=np.int64(1), batch_size=np.int32(2), verbose="auto")
    assert model.fit(X, Y, epochs=0, verbose=0).history == {}  # Keras: zero epochs train nothing


def _batches(n):
    for _ in range(n):
        yield X, Y


def test_an_exhausted_generator_is_refused(model):
    gen = _batches(1)
    next(gen)
    with pytest.raises(ValueError, match=r"fit: x \(a generator\) yielded no batch.*steps_per_epoch=2"):
        model.fit(gen, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: x \(a generator\) yielded no batch"):
        model.evaluate(_batches(0), steps=2)
    with pytest.raises(ValueError, match=r"predict: x \(a generator\) yielded no batch"):
        model.predict(iter([]), steps=2)


def test_a_generator_that_runs_out_stops_training_with_a_warning(model):
    # Keras's behaviour: warn "ran out of data", stop, keep what was trained.
    with pytest.warns(UserWarning, match=r"x \(a generator\) ran out of data after 3 batches.*steps_per_epoch \* "
                                         r"epochs = 4"):
        history = model.fit(_batches(3), steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_a_generator_must_yield_pairs(model):
    with pytest.raises(ValueError, match=r"each batch must be a pair \(x, y\), received an ndarray"):
        model.fit(iter([X, X]), steps_per_epoch=1, verbose=0)


# -- layer constructors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(-3, 2), (0, 2), (5, 0), (2.5, 2), ("5", 2), (True, 2), "5,2"])
def test_input_refuses_sizes_that_are_not_positive_integers(shape):
    with pytest.raises(ArgumentError, match=r"Input: shape must be a tuple of positive integers or None .*"
                                            r"received " + re.escape(repr(shape))):
        Input(shape=shape)


def test_input_refuses_a_bad_batch_size_and_accepts_numpy_integers():
    with pytest.raises(ArgumentError, match=r"Input: batch_size must be a positive integer, received -1"):
        Input(shape=(5, 2), batch_size=-1)
    assert Input(shape=(np.int64(5), 2)).batch_shape == (None, 5, 2)
    assert type(Input(shape=(np.int64(5), 2)).batch_shape[1]) is int
    assert Input(shape=(None, 2), batch_size=np.int32(3)).batch_shape == (3, None, 2)


@pytest.mark.parametrize("layer", RNNS)
@pytest.mark.parametrize("units", [-1, 0, "4", 2.5, True, None])
def test_recurrent_units_must_be_positive_integers(layer, units):
    with pytest.raises(ArgumentError, match=r"units must be a positive integer .*received " +
                                            re.escape(repr(units))):
        layer(units)


@pytest.mark.parametrize("layer", RNNS)
@pytest.mark.parametrize("arg", ["return_sequences", "return_state", "go_backwards", "stateful", "use_bias"])
@pytest.mark.parametrize("value", ["yes", "False", None, 2, 0.5])
def test_string_booleans_are_refused_not_taken_as_true(layer, arg, value):
    with pytest.raises(ArgumentError, match=rf"{arg} must be True or False, received {re.escape(repr(value))}"):
        layer(4, **{arg: value})


def test_boolean_arguments_take_numpy_booleans_and_store_real_booleans():
    layer = LSTM(4, return_sequences=np.bool_(True), stateful=0)
    assert layer.return_sequences is True and layer.stateful is False


@pytest.mark.parametrize("layer", RNNS)
@pytest.mark.parametrize("arg", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, float("nan"), "0.1", True, None])
def test_dropout_rates_must_be_in_zero_one(layer, arg, value):
    with pytest.raises(ArgumentError, match=rf"{arg} must be in \[0, 1\)"):
        layer(4, **{arg: value})


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(2.5), r"Dense: units must be a positive integer.*received 2.5"),
    (lambda: Dense(True), r"Dense: units must be a positive integer.*received True"),
    (lambda: Dense(4, use_bias="no"), r"Dense: use_bias must be True or False, received 'no'"),
    (lambda: Dense(4, input_dim=-2), r"Dense: input_dim must be a positive integer.*received -2"),
    (lambda: Embedding(-1, 4), r"Embedding: input_dim must be a positive integer.*received -1"),
    (lambda: Embedding(10, 0), r"Embedding: output_dim must be a positive integer.*received 0"),
    (lambda: Embedding(10.5, 4), r"Embedding: input_dim must be a positive integer.*received 10.5"),
    (lambda: Embedding("10", 4), r"Embedding: input_dim must be a positive integer.*received '10'"),
    (lambda: Embedding(10, 4, mask_zero="yes"), r"Embedding: mask_zero must be True or False, received 'yes'"),
    (lambda: Dropout("a"), r"Dropout: rate must be in \[0, 1\).*received 'a'"),
    (lambda: LSTM(4, input_shape=(-3, 2)), r"LSTM: input_shape must be a tuple of positive integers or None"),
    (lambda: TimeDistributed(Dense(2), input_shape=(0, 3)), r"input_shape must be a tuple of positive integers"),
    (lambda: Bidirectional(LSTM(3), merge_mode="x"), r"merge_mode must be one of"),
])
def test_other_constructors_refuse_bad_sizes(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: LSTM(2**31), r"LSTMCell: units=2147483648 would need a weight of shape \(8589934592, 2147483648\).*"
                          r"GiB"),
    (lambda: GRU(40_000), r"GRUCell: units=40000 would need a weight of shape \(120000, 40000\)"),
    (lambda: LSTM(8, input_size=10**9), r"LSTMCell: input_size=1000000000 would need a weight of shape \(32, "
                                        r"1000000000\)"),
    (lambda: Embedding(10**11, 64), r"Embedding: input_dim=100000000000, output_dim=64 would need a weight of "
                                    r"shape \(100000000000, 64\).*23841\.9 GiB"),
    (lambda: Dense(10**10), r"Dense: units=10000000000 would need a weight of shape \(10000000000, 1\) at least"),
    (lambda: Dense(10**5, input_dim=10**5), r"Dense: units=100000, input_dim=100000 would need a weight"),
])
def test_huge_weights_are_refused_before_allocating(make, message):
    t0 = time.perf_counter()
    with pytest.raises(ArgumentError, match=message + r".*refuses one weight over"):
        make()
    assert time.perf_counter() - t0 < 1.0


def test_numpy_integer_sizes_are_accepted_as_keras_accepts_them():
    assert LSTM(np.int64(4)).units == 4 and type(Dense(np.int32(2)).units) is int
    assert Embedding(np.int64(10), np.int16(3)).weight.shape == (10, 3)


# -- windows ------------------------------------------------------------------------------------------------
def test_windows_refuses_to_drop_every_window():
    series = np.array([1.0, np.nan, 2.0, np.nan, 3.0, np.nan])
    with pytest.raises(ValueError, match=r"nan='drop' dropped all 4 windows: each touches a NaN or inf \(first at "
                                         r"step 1\).*nan='interpolate'"):
        windows(series, 2, nan="drop")
    X, y = windows(np.array([1.0, 2.0, 3.0, np.nan, 4.0, 5.0, 6.0, 7.0]), 2, nan="drop")
    assert len(X) == 3 and np.isfinite(X).all()  # what is left is kept, no error


def test_windows_refuses_boolean_sizes():
    with pytest.raises(ValueError, match=r"look_back must be a positive integer \(time steps per sample\), "
                                         r"received True"):
        windows(np.arange(10.0), True)


# -- messages never echo a huge value whole -----------------------------------------------------------------
def test_a_huge_value_is_echoed_shortened():
    with pytest.raises(ArgumentError) as err:
        LSTM("x" * 2_000_000)
    assert len(str(err.value)) < 400 and "2000002 characters" in str(err.value)
    assert short("abc") == "'abc'"



# -- explain --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (-3, 2)}, r"explain: input_shape must be a tuple of positive integers .*received \(-3, 2\)"),
    ({"input_shape": "5,2"}, r"explain: input_shape must be a tuple .*received '5,2'"),
    ({"input_shape": (5, 2), "batch_size": -1}, r"explain: batch_size must be a positive integer, received -1"),
    ({"input_shape": (5, 2), "batch_size": 0}, r"explain: batch_size must be a positive integer, received 0"),
])
def test_explain_refuses_bad_shapes(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        explain("LSTM(4) > Dense(1)", **kwargs)


def test_dense_on_a_single_number_says_it_needs_a_features_axis():
    with pytest.raises(ValueError, match=r"needs inputs with a features axis.*received a single number 3"):
        Dense(2)(np.float32(3.0))


def test_generate_refuses_a_horizon_whose_output_cannot_fit_before_running():
    m = Sequential([Input((None, 2)), LSTM(3, return_sequences=True), Dense(2)])
    start = time.perf_counter()
    with pytest.raises(ArgumentError, match=r"horizon=1000000000000 would need an output array of shape \(2, "):
        rnnkit.generate(m, np.zeros((2, 4, 2), "float32"), horizon=10**12)
    assert time.perf_counter() - start < 5  # refused up front, not after generating for hours
    with pytest.raises(ValueError, match="reads 2 features per step; x has 3.*Pass x with 2 features"):
        rnnkit.generate(m, np.zeros((2, 4, 3), "float32"), horizon=2)
