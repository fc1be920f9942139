"""TerminateOnNaN, CSVLogger and LambdaCallback, ported from Keras 3's tests (github.com/keras-team/keras):
keras/src/callbacks/terminate_on_nan_test.py, csv_logger_test.py and lambda_callback_test.py.
"""

import csv
import os
import re

import numpy as np
import pytest

from rnnkit import Dense, Input, Sequential, optimizers
from rnnkit.callbacks import Callback, CSVLogger, LambdaCallback, TerminateOnNaN
from rnnkit.initializers import Constant


def to_categorical(y, num_classes=2):
    return np.eye(num_classes, dtype="float32")[y]


# -- terminate_on_nan_test.py -------------------------------------------------------------------------------
def _exploding_model():
    model = Sequential()
    for _ in range(5):
        model.add(Dense(2, activation="relu", kernel_initializer=Constant(1e5)))
    model.add(Dense(2))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def _nan_data():
    rng = np.random.default_rng(1337)
    x_train, x_test = rng.random((10, 3)), rng.random((10, 3))
    return x_train, to_categorical(rng.integers(0, 2, 10)), x_test, to_categorical(rng.integers(0, 2, 10))


def test_terminate_on_nan():
    x_train, y_train, x_test, y_test = _nan_data()
    history = _exploding_model().fit(x_train, y_train, batch_size=4, validation_data=(x_test, y_test),
                                     callbacks=[TerminateOnNaN()], epochs=20, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 1 and (np.isnan(loss[0]) or np.isinf(loss[0]))


# Keras's remaining cases train on y = inf; rnnkit's fit refuses non-finite targets at its boundary (a
# ValueError naming them), so the loss is made infinite the other way: by an input so large that the
# squared error overflows float32.
def _one_dense():
    model = Sequential([Input((1,)), Dense(1, kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="mse")
    return model


BIG = np.array([[1e30], [2e30]])


def test_terminate_on_nan_graceful_stop():
    history = _one_dense().fit(BIG, np.zeros((2, 1)), epochs=2, batch_size=1, callbacks=[TerminateOnNaN()],
                               verbose=0)
    assert len(history.history["loss"]) < 4


def test_terminate_on_nan_raise_error_raises_error():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        _one_dense().fit(BIG, np.zeros((2, 1)), epochs=1, batch_size=1, callbacks=[TerminateOnNaN(raise_error=True)],
                         verbose=0)


def test_raise_error_terminate_does_not_trigger_on_train_end():
    class TrackingCallback(Callback):
        train_end_called = False

        def on_train_end(self, logs=None):
            self.train_end_called = True

    tracking = TrackingCallback()
    with pytest.raises(RuntimeError):
        _one_dense().fit(BIG[:1], np.zeros((1, 1)), epochs=1, callbacks=[tracking, TerminateOnNaN(raise_error=True)],
                         verbose=0)
    assert not tracking.train_end_called


@pytest.mark.parametrize("raise_error", [False, True])
def test_normal_training_does_not_raise(raise_error):
    x = np.array([[1.0], [2.0]])
    history = _one_dense().fit(x, x, epochs=2, callbacks=[TerminateOnNaN(raise_error=raise_error)], verbose=0)
    assert len(history.history["loss"]) == 2


def test_raise_error_terminate_stops_on_later_batch():
    x = np.array([[1.0], [1e30]])  # batch 0: a normal loss, batch 1: an infinite one
    with pytest.raises(RuntimeError) as exc:
        _one_dense().fit(x, np.ones((2, 1)), epochs=1, batch_size=1, callbacks=[TerminateOnNaN(raise_error=True)],
                         verbose=0)
    assert "batch 1" in str(exc.value)


# -- csv_logger_test.py -------------------------------------------------------------------------------------
def test_csv_logger(tmp_path):
    rng = np.random.default_rng(1337)
    x_train, y_train = rng.random((10, 3)), rng.random((10, 1))
    x_test, y_test = rng.random((10, 3)), rng.random((10, 1))
    filepath, sep = str(tmp_path / "log.tsv"), "\t"

    def make_model():
        model = Sequential([Dense(2, activation="relu"), Dense(1)])
        model.compile(loss="mse", optimizer="sgd", metrics=["mse"])
        return model

    fit = dict(batch_size=4, validation_data=(x_test, y_test), verbose=0)
    # case 1, create new file with defined separator
    make_model().fit(x_train, y_train, callbacks=[CSVLogger(filepath, separator=sep)], epochs=1, **fit)
    with open(filepath) as f:
        assert csv.Sniffer().sniff(f.read()).delimiter == sep
    # case 2, append data to existing file, skip header
    model, cbks = make_model(), [CSVLogger(filepath, separator=sep, append=True)]
    model.fit(x_train, y_train, callbacks=cbks, epochs=1, **fit)
    # case 3, reuse of CSVLogger object
    model.fit(x_train, y_train, callbacks=cbks, epochs=2, **fit)
    with open(filepath) as f:
        lines = f.readlines()
    assert all(line.count(sep) == 4 for line in lines) and len(lines) == 5
    assert len(re.findall("epoch", " ".join(lines))) == 1
    os.remove(filepath)
    # case 4, val_loss registered when validation_freq > 1 ("NA" in the other epochs)
    hist = make_model().fit(x_train, y_train, validation_freq=3, callbacks=[CSVLogger(filepath, separator=sep)],
                            epochs=5, **fit)
    with open(filepath) as f:
        for idx, row in enumerate(csv.DictReader(f, delimiter=sep), 1):
            assert row["val_loss"] == (str(hist.history["val_loss"][0]) if idx == 3 else "NA")


def test_stop_training_csv(tmp_path):
    x_train, y_train, x_test, y_test = _nan_data()
    logfile = tmp_path / "csv_logger.csv"
    history = _exploding_model().fit(x_train, y_train, batch_size=4, validation_data=(x_test, y_test),
                                     callbacks=[TerminateOnNaN(), CSVLogger(logfile)], epochs=20, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 1 and (np.isnan(loss[0]) or np.isinf(loss[0]))
    with open(logfile) as f:
        values = [row for row in csv.reader(f) if row]
    assert "nan" in values[-1] or "inf" in values[-1]


def test_csv_logger_without_validation_writes_na(tmp_path):  # csv_logger.py: val_ columns always
    model = Sequential([Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, callbacks=[CSVLogger(tmp_path / "log.csv")], verbose=0)
    rows = list(csv.reader(open(tmp_path / "log.csv")))
    assert rows[0] == ["epoch", "loss", "val_loss"] and rows[1][0] == "0" and rows[2][2] == "NA"


# -- lambda_callback_test.py --------------------------------------------------------------------------------
def test_lambda_callback():
    model = Sequential([Input((2,), batch_size=4), Dense(1)])
    model.compile(optimizer=optimizers.SGD(), loss="mse")
    rng = np.random.default_rng(0)
    calls = []
    hooks = ["on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end", "on_train_batch_begin",
             "on_train_batch_end"]
    one_arg = {"on_train_begin", "on_train_end"}
    callback = LambdaCallback(**{name: (lambda logs, n=name: calls.append(n)) if name in one_arg
                                 else (lambda step, logs, n=name: calls.append(n)) for name in hooks})
    model.fit(rng.standard_normal((16, 2)), rng.standard_normal((16, 1)), batch_size=4, validation_split=0.2,
              callbacks=[callback], epochs=5, verbose=0)
    assert set(calls) == set(hooks)
    assert calls.count("on_epoch_end") == 5 and calls.count("on_train_batch_end") == 5 * 3
