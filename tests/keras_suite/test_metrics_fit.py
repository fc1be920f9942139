"""Compiled metrics in fit / evaluate: Keras 3's names in the logs (keras/src/trainers/compile_utils.py:
the string given, else the metric's name), Keras's reduction over an epoch (stateful means weighted by
batch size; RMSE the root of the epoch's mean squared error), Keras 3's shape-based "accuracy", and
EarlyStopping's direction from the metric. The expected log names were read off Keras 3.15 (torch
backend) fitting the same model.
"""

import numpy as np
import pytest
import torch

import rnnkit.metrics
from rnnkit import LSTM, Dense, Input, Sequential, load, optimizers
from rnnkit.callbacks import EarlyStopping, LambdaCallback


def _regressor(metrics, learning_rate=0.0):
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse", metrics=metrics)
    return model


def _data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 4, 2)).astype("float32"), rng.random((n, 1)).astype("float32")


# -- names, as Keras 3 logs them -------------------------------------------------------------------------------------
def test_log_names_are_keras_names():
    x, y = _data()
    metrics = ["mse", "mae", "mape", "msle", "root_mean_squared_error", "cosine_similarity", "log_cosh_error",
               "kl_divergence", "acc", "binary_accuracy", rnnkit.metrics.RootMeanSquaredError(),
               rnnkit.metrics.LogCoshError(), rnnkit.metrics.MeanAbsoluteError(name="my_mae")]
    history = _regressor(metrics).fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y))
    names = ["mse", "mae", "mape", "msle", "root_mean_squared_error", "cosine_similarity", "log_cosh_error",
             "kl_divergence", "acc", "binary_accuracy", "root_mean_squared_error_1", "logcosh", "my_mae"]
    # a name's second use is "<name>_1", as Keras's CompileMetrics.result() renames it (it was overwritten)
    assert set(history.history) == {"loss", "val_loss", *names, *[f"val_{n}" for n in names]}


def test_rnnkit_extra_names_rmse_and_logcosh():  # Keras 3 refuses both strings; rnnkit logs them as given
    x, y = _data()
    history = _regressor(["rmse", "logcosh"]).fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y))
    assert set(history.history) == {"loss", "rmse", "logcosh", "val_loss", "val_rmse", "val_logcosh"}


def test_unknown_metric_and_a_bare_string_are_refused():
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'rsme'"):
        _regressor(["rsme"])
    with pytest.raises(ValueError, match=r"`metrics` argument to be a list, tuple, or dict.*Write metrics=\['mse'\]"):
        _regressor("mse")


# -- the reduction over an epoch -----------------------------------------------------------------------------------
def test_epoch_rmse_is_the_root_of_the_epochs_mean_squared_error():
    x, y = _data(10)
    model = _regressor(["rmse", "mse", rnnkit.metrics.RootMeanSquaredError()])  # learning rate 0: fixed weights
    errors = (model.predict(x, batch_size=10) - y) ** 2  # batches of 4, 4 and 2 below: the last is uneven
    expected = np.sqrt(errors.mean())
    batch_roots = [np.sqrt(errors[i:i + 4].mean()) for i in (0, 4, 8)]
    assert abs(np.average(batch_roots, weights=[4, 4, 2]) - expected) > 1e-4  # the two readings differ here

    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    for key in ("rmse", "root_mean_squared_error", "val_rmse", "val_root_mean_squared_error"):
        np.testing.assert_allclose(history.history[key], [expected, expected], rtol=1e-5)
    np.testing.assert_allclose(history.history["mse"], [errors.mean()] * 2, rtol=1e-5)
    logs = model.evaluate(x, y, batch_size=4, return_dict=True)
    assert logs["rmse"] == pytest.approx(expected, rel=1e-5)
    assert logs["loss"] == pytest.approx(errors.mean(), rel=1e-5)
    assert model.test_on_batch(x[:4], y[:4], return_dict=True)["rmse"] == pytest.approx(batch_roots[0], rel=1e-5)


def test_epoch_rmse_from_a_generator_and_per_batch_logs():
    x, y = _data(10)
    model = _regressor(["rmse"])
    errors = (model.predict(x, batch_size=10) - y) ** 2

    def batches():
        while True:
            for i in (0, 4, 8):
                yield x[i:i + 4], y[i:i + 4]

    logs = model.evaluate(batches(), steps=3, return_dict=True)
    assert logs["rmse"] == pytest.approx(np.sqrt(errors.mean()), rel=1e-5)
    seen = []
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["rmse"]))])
    np.testing.assert_allclose(seen, [np.sqrt(errors[:n].mean()) for n in (4, 8, 10)], rtol=1e-5)  # running values


def test_accuracy_over_an_epoch_counts_samples():
    # 10 samples in batches of 4, 4, 2: Keras's Mean counts samples, so the epoch accuracy is correct / 10
    rng = np.random.default_rng(1)
    x, labels = rng.random((10, 4, 2)).astype("float32"), rng.integers(0, 3, 10)
    model = Sequential([Input((4, 2)), LSTM(3), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_categorical_accuracy",
                           rnnkit.metrics.SparseTopKCategoricalAccuracy(k=2)])
    probs = model.predict(x, batch_size=10)
    history = model.fit(x, labels, batch_size=4, epochs=1, shuffle=False, verbose=0)
    expected = float(np.mean(probs.argmax(-1) == labels))
    assert history.history["accuracy"][0] == pytest.approx(expected)
    assert history.history["sparse_categorical_accuracy"][0] == pytest.approx(expected)
    in_top_2 = (probs >= np.sort(probs, -1)[:, -2:-1]).astype(float)[np.arange(10), labels]
    assert history.history["sparse_top_k_categorical_accuracy"][0] == pytest.approx(in_top_2.mean())


# -- "accuracy" chosen from the shapes, as Keras 3 does ----------------------------------------------------------------
def _fit_accuracy(out_units, loss, y, activation="softmax"):
    x = np.random.default_rng(2).random((len(y), 4, 2)).astype("float32")
    model = Sequential([Input((4, 2)), LSTM(3), Dense(out_units, activation=activation)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss=loss, metrics=["accuracy"])
    pred = model.predict(x, batch_size=len(y))
    return model.evaluate(x, y, batch_size=3, return_dict=True)["accuracy"], pred


def test_accuracy_is_binary_for_one_unit():
    y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    acc, pred = _fit_accuracy(1, "binary_crossentropy", y, "sigmoid")
    assert acc == pytest.approx(float(np.mean((pred > 0.5) == y)))


def test_accuracy_is_categorical_for_one_hot_targets_whatever_the_loss():
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    for loss in ("categorical_crossentropy", "mse", "binary_crossentropy"):  # Keras 3: shapes decide, not the loss
        acc, pred = _fit_accuracy(3, loss, y)
        assert acc == pytest.approx(float(np.mean(pred.argmax(-1) == y.argmax(-1))))


def test_accuracy_per_time_step_for_sequence_outputs():
    rng = np.random.default_rng(3)
    x, y = rng.random((6, 5, 2)).astype("float32"), rng.integers(0, 4, (6, 5))
    model = Sequential([Input((5, 2)), LSTM(3, return_sequences=True), Dense(4, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["acc", "sparse_categorical_accuracy"])
    pred = model.predict(x, batch_size=6)
    logs = model.evaluate(x, y, batch_size=4, return_dict=True)
    expected = float(np.mean(pred.argmax(-1) == y))
    assert logs["acc"] == pytest.approx(expected) and logs["sparse_categorical_accuracy"] == pytest.approx(expected)


# -- callables, and which way EarlyStopping reads a metric ------------------------------------------------------------
def test_a_function_metric_is_averaged_under_its_name():
    def double_mae(y_true, y_pred):
        return 2 * (y_true - y_pred).abs().mean(-1)

    x, y = _data()
    model = _regressor([double_mae, torch.nn.L1Loss()])
    logs = model.evaluate(x, y, batch_size=4, return_dict=True)
    mae = float(np.abs(model.predict(x) - y).mean())
    assert logs["double_mae"] == pytest.approx(2 * mae, rel=1e-5)
    assert logs["l1_loss"] == pytest.approx(mae, rel=1e-5)


@pytest.mark.parametrize("monitor, bigger_is_better", [
    ("val_rmse", False), ("val_root_mean_squared_error", False), ("val_mape", False), ("val_kl_divergence", False),
    ("val_cosine_similarity", True), ("val_binary_accuracy", True), ("acc", True),
])
def test_early_stopping_reads_the_direction_of_the_metric(monitor, bigger_is_better):
    x, y = _data()
    model = _regressor(["rmse", "root_mean_squared_error", "mape", "kl_divergence", "cosine_similarity",
                        "binary_accuracy", "acc"], learning_rate=0.01)
    stopper = EarlyStopping(monitor=monitor, patience=5)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y), callbacks=[stopper])
    assert stopper.monitor_op(1, 0) is bigger_is_better


def test_checkpoint_keeps_the_metric_names(tmp_path):
    x, y = _data()
    model = _regressor(["rmse", rnnkit.metrics.SparseCategoricalAccuracy()], learning_rate=0.01)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    restored = load(tmp_path / "m.rnnkit")
    assert [name for _, name in restored.metric_fns] == ["rmse", "sparse_categorical_accuracy"]
    assert set(restored.evaluate(x, y, return_dict=True)) == {"loss", "rmse", "sparse_categorical_accuracy"}
