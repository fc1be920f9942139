"""rnnkit.preprocessing.timeseries_dataset_from_array, ported from Keras 3's
keras/src/utils/timeseries_dataset_utils_test.py (github.com/keras-team/keras): the same series,
arguments, batch shapes and window values, the errors with Keras's messages. The dataset is a
re-iterable of NumPy batches (Keras returns a tf.data or Grain dataset, hence no `format`), and fit,
evaluate and validation_data take it as they take a generator, len(dataset) batches per epoch.
"""

import numpy as np
import pytest
import torch

import rnnkit.preprocessing
from rnnkit import LSTM, Dense, Input, Sequential

timeseries_dataset_from_array = rnnkit.preprocessing.timeseries_dataset_from_array


def test_basics():  # ordering, targets, sequence length, batch size
    data = np.arange(100)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5)
    batches = list(dataset)
    assert len(batches) == len(dataset) == 19
    for i, batch in enumerate(batches):
        assert len(batch) == 2
        inputs, targets = batch
        assert inputs.shape == ((5, 9) if i < 18 else (2, 9))  # the last batch holds 2
        np.testing.assert_allclose(inputs[:, 0] * 2, targets)
        for j in range(min(5, len(inputs))):
            np.testing.assert_allclose(inputs[j], np.arange(i * 5 + j, i * 5 + j + 9))


def test_timeseries_regression():
    data = np.arange(10)
    offset = 3
    dataset = timeseries_dataset_from_array(data, data[offset:], sequence_length=offset, batch_size=1)
    i = 0
    for inputs, targets in dataset:
        assert inputs.shape == (1, 3)
        np.testing.assert_allclose(targets[0], data[offset + i])
        np.testing.assert_allclose(inputs[0], data[i:i + offset])
        i += 1
    assert i == 7  # 7 batches


def test_no_targets():
    dataset = timeseries_dataset_from_array(np.arange(50), None, sequence_length=10, batch_size=5)
    i = None
    for i, batch in enumerate(dataset):
        assert batch.shape == ((5, 10) if i < 8 else (1, 10))
        for j in range(min(5, len(batch))):
            np.testing.assert_allclose(batch[j], np.arange(i * 5 + j, i * 5 + j + 10))
    assert i == 8


def test_shuffle():  # test_shuffle_tf: a new order each pass, the same order for the same seed
    data = np.arange(10)

    def first_batch(dataset):
        return next(iter(dataset))

    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=5, batch_size=1, shuffle=True, seed=123)
    x, y = first_batch(dataset)
    assert not np.array_equal(x, np.arange(0, 5)[None])
    np.testing.assert_allclose(x[:, 0] * 2, y)
    assert not np.array_equal(first_batch(dataset)[0], x)  # the next pass starts elsewhere
    again = timeseries_dataset_from_array(data, data * 2, sequence_length=5, batch_size=1, shuffle=True, seed=123)
    np.testing.assert_array_equal(first_batch(again)[0], x)
    # every pass holds every window once, targets consistent (test_shuffle_grain)
    for _ in range(3):
        starts = sorted(int(b[0][0, 0]) for b in dataset)
        assert starts == list(range(6))


def test_shuffle_draws_keras_window_order():
    # the first pass's order is Keras's: np.random.RandomState(seed).shuffle of the window starts
    dataset = timeseries_dataset_from_array(np.arange(20), None, sequence_length=5, batch_size=4, shuffle=True, seed=7)
    order = np.arange(16)
    np.random.RandomState(7).shuffle(order)
    np.testing.assert_array_equal(np.concatenate([b[:, 0] for b in dataset]), order)


def test_sampling_rate():
    data = np.arange(100)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5, sampling_rate=2)
    for i, (inputs, targets) in enumerate(dataset):
        assert inputs.shape == ((5, 9) if i < 16 else (4, 9))  # the last batch holds 4
        np.testing.assert_allclose(inputs[:, 0] * 2, targets)
        for j in range(min(5, len(inputs))):
            start = i * 5 + j
            np.testing.assert_allclose(inputs[j], np.arange(start, start + 9 * 2, 2))
    assert i == 16


def test_sequence_stride():
    data = np.arange(100)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5, sequence_stride=3)
    for i, (inputs, targets) in enumerate(dataset):
        assert inputs.shape == ((5, 9) if i < 6 else (1, 9))  # the last batch holds 1
        np.testing.assert_allclose(inputs[:, 0] * 2, targets)
        for j in range(min(5, len(inputs))):
            start = i * 5 * 3 + j * 3
            np.testing.assert_allclose(inputs[j], np.arange(start, start + 9))
    assert i == 6


def test_start_and_end_index():
    dataset = timeseries_dataset_from_array(np.arange(100), None, sequence_length=9, batch_size=5, sequence_stride=3,
                                            sampling_rate=2, start_index=10, end_index=90)
    for batch in dataset:
        assert np.max(batch[0]) < 90 and np.min(batch[0]) > 9


def test_start_index_shifts_the_targets_too():
    data = np.arange(30)
    x, y = next(iter(timeseries_dataset_from_array(data, data * 10, sequence_length=4, start_index=5)))
    np.testing.assert_array_equal(x[0], [5, 6, 7, 8])
    assert y[0] == 50 and len(x) == 30 - 5 - 3


@pytest.mark.parametrize("kwargs, message", [
    ({"start_index": -1}, "`start_index` must be "), ({"start_index": 11}, "`start_index` must be "),
    ({"end_index": -1}, "`end_index` must be "), ({"end_index": 11}, "`end_index` must be "),
    ({"sampling_rate": 0}, "`sampling_rate` must be "), ({"sequence_stride": 0}, "`sequence_stride` must be "),
])
def test_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        timeseries_dataset_from_array(np.arange(10), None, 3, **kwargs)


def test_errors_beyond_keras():
    with pytest.raises(ValueError, match="no window fits: a window spans 12 steps"):
        timeseries_dataset_from_array(np.arange(10), None, 12)  # Keras gives an empty dataset
    with pytest.raises(ValueError, match="sequence_length must be a positive integer"):
        timeseries_dataset_from_array(np.arange(10), None, 0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        timeseries_dataset_from_array(np.arange(10), None, 3, batch_size=0)


def test_not_batched():
    dataset = timeseries_dataset_from_array(np.arange(100), None, sequence_length=9, batch_size=None, shuffle=True)
    assert next(iter(dataset)).shape == (9,)
    assert len(dataset) == 92


# -- with fit, evaluate and validation_data ----------------------------------------------------------------------------
def _series(n=60):
    t = np.arange(n, dtype="float32")
    return np.stack([np.sin(t / 5), np.cos(t / 7)], axis=-1)  # (n, 2)


def _model(seed=0):
    torch.manual_seed(seed)
    model = Sequential([Input((6, 2)), LSTM(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["rmse"])
    return model


def test_fit_on_a_dataset_equals_fit_on_its_windows():
    series = _series()
    data, targets = series[:-6], series[6:, :1]  # 6 steps in, the next step's first feature out
    dataset = timeseries_dataset_from_array(data, targets, sequence_length=6, batch_size=16)
    x = np.stack([data[i:i + 6] for i in range(len(data) - 5)])
    y = targets[:len(x)]
    by_dataset = _model().fit(dataset, epochs=3, verbose=0, validation_data=dataset).history
    by_arrays = _model().fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_data=(x, y)).history
    assert set(by_dataset) == {"loss", "rmse", "val_loss", "val_rmse"}
    for key in by_arrays:
        np.testing.assert_allclose(by_dataset[key], by_arrays[key], rtol=1e-5)


def test_evaluate_and_a_shuffled_dataset_in_fit():
    series = _series()
    dataset = timeseries_dataset_from_array(series[:-6], series[6:, :1], sequence_length=6, batch_size=8,
                                            shuffle=True, seed=1)
    model = _model()
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    ordered = timeseries_dataset_from_array(series[:-6], series[6:, :1], sequence_length=6, batch_size=8)
    np.testing.assert_allclose(model.evaluate(dataset), model.evaluate(ordered), rtol=1e-5)  # the same windows


def test_take_and_numpy_as_on_tf_data():  # keras-io's weather example: `for batch in dataset.take(1)`, `.numpy()`
    data = np.arange(100.0)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5)
    taken = dataset.take(3)
    assert len(taken) == 3 and len(list(taken)) == 3 and len(list(taken)) == 3  # re-iterable, 3 each pass
    inputs, targets = next(iter(dataset.take(1)))
    assert type(inputs.numpy()) is np.ndarray and inputs.numpy().shape == (5, 9)  # tf.Tensor.numpy() in Keras
    np.testing.assert_allclose(inputs[0][:3].numpy(), [0, 1, 2])  # x[0][:, 1].numpy() in the example
    np.testing.assert_allclose(targets.numpy(), [0, 2, 4, 6, 8])
    assert len(list(dataset.take(-1))) == len(dataset) == 19 and len(dataset.take(50)) == 19  # -1: all
    with pytest.raises(ValueError, match="count"):
        dataset.take(-2)
    model = Sequential([Input((9, 1)), LSTM(2), Dense(1)])  # the batches still feed a model
    assert model.predict(inputs[..., None], verbose=0).shape == (5, 1)
