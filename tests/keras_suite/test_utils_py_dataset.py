"""rnnkit.utils.PyDataset (Keras 2's Sequence) read by fit, evaluate and predict.

Ported from Keras 3.15.1: keras/src/trainers/data_adapters/py_dataset_adapter_test.py (test_basic_flow for
NumPy and torch data, single-threaded, threads and processes, finite and endless, shuffled or not;
test_class_weight; test_speedup; test_with_different_shapes; test_exception_reported; the iterate tests)
and the py_dataset cases of keras/src/trainers/trainer_test.py's test_fit_with_data_adapter, with Keras's
expected values. Keras's PyDatasetAdapter is rnnkit's BatchSource (rnnkit.training.batches): the adapter
tests read it the way fit does (one `epoch()` per epoch, between on_epoch_begin and on_epoch_end). Keras's
adapters convert batches to the backend's tensors; rnnkit converts them when the model takes them, so the
batches read here are the dataset's own arrays (the fit tests check the model side).

Not applicable: test_basic_flow's tf and jax data (TensorFlow and JAX arrays: rnnkit is torch), and
test_dict_inputs (dict batches, read through tf.data there; rnnkit's fit takes (x, y[, sample_weight])
tuples and says so for a dict).
"""

import math
import time
import warnings

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Dense, Input, LSTM, Sequential, optimizers
from rnnkit.callbacks import LambdaCallback
from rnnkit.training.batches import BatchSource
from rnnkit.utils import PyDataset, Sequence, set_random_seed


class ExamplePyDataset(PyDataset):
    def __init__(self, x_set, y_set, sample_weight=None, batch_size=32, delay=0, infinite=False, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x_set, y_set
        self.batch_size = batch_size
        self.sample_weight = sample_weight
        self.delay = delay
        self.infinite = infinite

    @property
    def num_batches(self):
        if self.infinite:
            return None
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        time.sleep(self.delay)  # an artificial delay, to see the workers overlap
        if self.infinite:
            idx = idx % math.ceil(len(self.x) / self.batch_size)
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.x))  # the last batch may be smaller
        if self.sample_weight is not None:
            return self.x[low:high], self.y[low:high], self.sample_weight[low:high]
        return self.x[low:high], self.y[low:high]


class ExceptionPyDataset(PyDataset):
    @property
    def num_batches(self):
        return 4

    def __getitem__(self, index):
        if index < 2:
            return np.random.random((8, 4)).astype("float32"), np.random.random((8, 2)).astype("float32")
        raise ValueError("Expected exception")


# -- py_dataset_adapter_test.py -------------------------------------------------------------------------------
_WORKERS = {"multiprocessing": dict(workers=2, use_multiprocessing=True, max_queue_size=10),
            "multithreading": dict(workers=2, use_multiprocessing=False, max_queue_size=10),
            "single_np": {}, "single_torch": {}}


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "in_order"])
@pytest.mark.parametrize("infinite", [True, False], ids=["infinite", "finite"])
@pytest.mark.parametrize("case", list(_WORKERS))
def test_basic_flow(case, infinite, shuffle):
    if case == "multiprocessing" and shuffle:
        pytest.skip("Starting processes is slow, test fewer variants")  # Keras skips these too
    set_random_seed(1337)
    x = np.random.random((64, 4)).astype("float32")
    y = np.array([[i, i] for i in range(64)], dtype="float32")
    if case == "single_torch":
        x, y = torch.as_tensor(x), torch.as_tensor(y)
    kwargs = {"workers": 0, "use_multiprocessing": False, "max_queue_size": 0, **_WORKERS[case]}
    py_dataset = ExamplePyDataset(x, y, batch_size=16, infinite=infinite, **kwargs)
    # the adapter: an endless dataset is read 4 batches an epoch (fit's steps_per_epoch); Keras's test reads
    # it across two epochs too
    source = BatchSource(py_dataset, 4 if infinite else None, shuffle, np.random.default_rng(1337))
    sample_order = []
    for _ in range(2 if infinite else 1):
        for batch in source.epoch():
            assert len(batch) == 2
            bx, by = batch
            assert isinstance(bx, type(x)) and isinstance(by, type(y))
            assert bx.dtype == by.dtype and "float32" in str(bx.dtype)
            assert tuple(bx.shape) == (16, 4) and tuple(by.shape) == (16, 2)
            sample_order += [float(by[i, 0]) for i in range(by.shape[0])]
    expected_order = list(range(64))
    if infinite:
        np.testing.assert_allclose(sample_order, expected_order + expected_order)
    elif shuffle:
        assert sample_order != expected_order
        np.testing.assert_allclose(sorted(sample_order), expected_order)
    else:
        np.testing.assert_allclose(sample_order, expected_order)


def test_class_weight():
    # Keras checks the adapter's (x, y, class weight) batches; rnnkit applies class_weight in fit, so: the
    # weights it gives each sample are the ones sample_weight=class_w[y] gives (the same training).
    x = np.random.randint(1, 100, (4, 5)).astype("float32")
    y = np.array([0, 1, 2, 1])
    class_w = {0: 2, 1: 1, 2: 3}

    def trained(**kwargs):
        set_random_seed(3)
        model = Sequential([Input((5,)), Dense(3, activation="softmax")])
        model.compile(optimizer=optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
        history = model.fit(verbose=0, shuffle=False, epochs=2, **kwargs).history["loss"]
        return history, model.get_weights()

    with_class_weight = trained(x=ExamplePyDataset(x, y, batch_size=2), class_weight=class_w)
    weights = np.array([class_w[int(c)] for c in y], dtype="float32")
    with_sample_weight = trained(x=ExamplePyDataset(x, y, sample_weight=weights, batch_size=2))
    np.testing.assert_allclose(with_class_weight[0], with_sample_weight[0], rtol=1e-6)
    for a, b in zip(with_class_weight[1], with_sample_weight[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_speedup():
    x, y = np.random.random((40, 4)), np.random.random((40, 2))

    def read_time(dataset) -> float:
        t0 = time.time()
        for _ in BatchSource(dataset, None).epoch():
            pass
        return time.time() - t0

    no_speedup = read_time(ExamplePyDataset(x, y, batch_size=4, delay=0.05))
    speedup = read_time(ExamplePyDataset(x, y, batch_size=4, workers=4, max_queue_size=8, delay=0.05))
    assert speedup < no_speedup


def test_with_different_shapes():
    class TestPyDataset(PyDataset):
        @property
        def num_batches(self):
            return 3

        def __getitem__(self, idx):
            if idx == 0:
                return np.ones([16, 4], "float32"), np.ones([16, 2], "float32")
            if idx == 1:
                return np.ones([16, 5], "float32"), np.ones([16, 2], "float32")
            return np.ones([2, 6], "float32"), np.ones([2, 2], "float32")

    batches = list(BatchSource(TestPyDataset(), None).epoch())
    shapes = [(bx.shape, by.shape) for bx, by in batches]
    assert shapes == [((16, 4), (16, 2)), ((16, 5), (16, 2)), ((2, 6), (2, 2))]
    assert all(bx.dtype == by.dtype == np.float32 for bx, by in batches)


@pytest.mark.parametrize("kwargs", [dict(workers=2, use_multiprocessing=True, max_queue_size=10),
                                    dict(workers=2, max_queue_size=10), {}],
                         ids=["multiprocessing", "multithreading", "single"])
def test_exception_reported(kwargs):
    dataset = ExceptionPyDataset(**{"workers": 0, "use_multiprocessing": False, "max_queue_size": 0, **kwargs})
    it = iter(BatchSource(dataset, None).epoch())
    next(it)
    next(it)
    with pytest.raises(ValueError, match="Expected exception"):
        next(it)


def test_iterate_finite():
    py_dataset = ExamplePyDataset(np.ones((6, 11), dtype="int32"), np.zeros((6, 11), dtype="int32"), batch_size=2)
    assert len([batch for batch in py_dataset]) == 3


def test_iterate_infinite_with_none_num_batches():
    py_dataset = ExamplePyDataset(np.ones((6, 11), dtype="int32"), np.zeros((6, 11), dtype="int32"), batch_size=2,
                                  infinite=True)
    for index, _ in enumerate(py_dataset):
        if index >= 10:
            break
    assert index == 10


def test_iterate_infinite_with_no_len():
    class NoLenDataset(PyDataset):
        def __getitem__(self, idx):
            yield np.ones((2, 11), dtype="int32")

    for index, _ in enumerate(NoLenDataset()):
        if index >= 10:
            break
    assert index == 10


# -- trainer_test.py: test_fit_with_data_adapter's py_dataset cases ------------------------------------------------
class TrainerPyDataset(PyDataset):
    def __init__(self, infinite=False, **kwargs):
        super().__init__(**kwargs)
        self.infinite = infinite

    @property
    def num_batches(self):
        return None if self.infinite else 20

    def __getitem__(self, idx):
        return torch.ones((5, 4)), torch.zeros((5, 3))


@pytest.mark.parametrize("dataset_kwargs, fit_kwargs", [
    ({}, {}),
    ({}, {"class_weight": {0: 1, 1: 2}}),
    ({"infinite": True}, {"steps_per_epoch": 20}),
    ({"infinite": True}, {"steps_per_epoch": 20, "class_weight": {0: 1, 1: 2}}),
    ({"workers": 2}, {}),
    ({"workers": 2}, {"class_weight": {0: 1, 1: 2}}),
    ({"infinite": True, "workers": 2}, {"steps_per_epoch": 20}),
    ({"workers": 2, "use_multiprocessing": True}, {}),
    ({"workers": 2, "use_multiprocessing": True}, {"class_weight": {0: 1, 1: 2}}),
    ({"infinite": True, "workers": 2, "use_multiprocessing": True}, {"steps_per_epoch": 20}),
], ids=["py_dataset", "py_dataset_cw", "py_dataset_infinite", "py_dataset_infinite_cw", "py_dataset_multithreading",
        "py_dataset_multithreading_cw", "py_dataset_multithreading_infinite", "py_dataset_multiprocessing",
        "py_dataset_multiprocessing_cw", "py_dataset_multiprocessing_infinite"])
def test_fit_with_data_adapter(dataset_kwargs, fit_kwargs):
    model = Sequential([Dense(3, use_bias=False, kernel_initializer="ones")])  # Keras's ExampleModel
    model.compile(optimizer=optimizers.Adagrad(), loss="mean_squared_error", metrics=["mean_squared_error"])
    history = model.fit(TrainerPyDataset(**dataset_kwargs), epochs=3, verbose=0, **fit_kwargs)
    # beyond Keras's test (it only runs fit): three epochs of 20 batches, the loss falling
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"][0] > history.history["loss"][-1]


# -- rnnkit's own: what Keras's fit, evaluate and predict do with a PyDataset ---------------------------------------
class Logged(PyDataset):
    """5 batches of 2 rows, x = the batch's index; records what is read and the epoch hooks."""

    def __init__(self, n=5, weights=False, x_only=False, **kwargs):
        super().__init__(**kwargs)
        self.n, self.weights, self.x_only, self.log = n, weights, x_only, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.log.append(i)
        x = np.full((2, 3), float(i), "float32")
        if self.x_only:
            return x
        y = np.full((2, 1), 0.5 * i, "float32")
        return (x, y, np.array([1.0, 2.0], "float32")) if self.weights else (x, y)

    def on_epoch_begin(self):
        self.log.append("begin")

    def on_epoch_end(self):
        self.log.append("end")


def _dense_model():
    set_random_seed(0)
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse")
    return model


def test_sequence_is_keras_2s_name_for_pydataset():
    assert Sequence is PyDataset and rnnkit.utils.Sequence is rnnkit.utils.PyDataset


def test_fit_calls_the_epoch_hooks_and_shuffles_the_batches_by_default():
    # Keras 3.15.1 (torch backend), same dataset: fit(shuffle=True), its default, reads every batch once per
    # epoch in a new random order (random.shuffle in PyDatasetAdapter); shuffle=False reads them in order
    model = _dense_model()
    data = Logged()
    model.fit(data, epochs=3, verbose=0)
    epochs = _epochs(data.log)
    assert len(epochs) == 3 and all(sorted(e) == [0, 1, 2, 3, 4] for e in epochs)
    assert any(e != [0, 1, 2, 3, 4] for e in epochs)  # 1 chance in 120**3 to fail
    data = Logged()
    model.fit(data, epochs=2, verbose=0, shuffle=False)
    assert data.log == ["begin", 0, 1, 2, 3, 4, "end"] * 2


def _epochs(log):
    out, current = [], None
    for item in log:
        if item == "begin":
            current = []
        elif item == "end":
            out.append(current)
        else:
            current.append(item)
    return out


def test_fit_seed_makes_the_batch_order_repeatable():
    orders = []
    for _ in range(2):
        data = Logged()
        _dense_model().fit(data, epochs=2, verbose=0, seed=11)
        orders.append(data.log)
    assert orders[0] == orders[1]


def test_evaluate_and_predict_read_in_order_between_the_hooks():
    model = _dense_model()
    data = Logged()
    model.evaluate(data, verbose=0)
    assert data.log == ["begin", 0, 1, 2, 3, 4, "end"]
    data = Logged()
    assert model.predict(data, verbose=0).shape == (10, 1)
    assert data.log == ["begin", 0, 1, 2, 3, 4, "end"]


@pytest.mark.parametrize("x_only", [True, False], ids=["x", "x_y"])
def test_predict_takes_x_x_tuple_and_x_y_batches(x_only):
    model = _dense_model()

    class OneTuple(Logged):
        def __getitem__(self, i):
            return (super().__getitem__(i),)

    want = model.predict(np.repeat(np.arange(5.0), 2)[:, None] * np.ones((1, 3)), verbose=0)
    np.testing.assert_allclose(model.predict(Logged(x_only=x_only), verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(model.predict(OneTuple(x_only=True), verbose=0), want, rtol=1e-6)


def _arrays(n=5):
    x = np.repeat(np.arange(float(n)), 2)[:, None] * np.ones((1, 3), "float32")
    y = 0.5 * np.repeat(np.arange(float(n)), 2)[:, None]
    return x.astype("float32"), y.astype("float32")


@pytest.mark.parametrize("weights", [False, True], ids=["x_y", "x_y_sample_weight"])
def test_fit_and_evaluate_equal_the_same_batches_as_arrays(weights):
    x, y = _arrays()
    sw = np.tile(np.array([1.0, 2.0], "float32"), 5) if weights else None
    by_arrays, by_dataset = _dense_model(), _dense_model()
    h1 = by_arrays.fit(x, y, sample_weight=sw, batch_size=2, epochs=3, shuffle=False, verbose=0).history["loss"]
    h2 = by_dataset.fit(Logged(weights=weights), epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-6)
    for a, b in zip(by_arrays.get_weights(), by_dataset.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(by_arrays.evaluate(x, y, sample_weight=sw, batch_size=2, verbose=0),
                               by_dataset.evaluate(Logged(weights=weights), verbose=0), rtol=1e-6)


def test_validation_data_is_a_pydataset_read_each_epoch():
    model = _dense_model()
    val = Logged(n=2)
    history = model.fit(Logged(), validation_data=val, epochs=2, shuffle=False, verbose=0)
    assert val.log == ["begin", 0, 1, "end"] * 2 and "val_loss" in history.history


def test_steps_per_epoch_goes_on_where_the_last_epoch_stopped():
    # Keras 3.15.1 on the same dataset (len 5, steps_per_epoch=3, shuffle=False): [0, 1, 2] | [3, 4], then
    # "ran out of data" ends that epoch
    data = Logged()
    with pytest.warns(UserWarning, match="ran out of data inside this epoch"):
        _dense_model().fit(data, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
    assert data.log == ["begin", 0, 1, 2, "end", "begin", 3, 4, "end"]


def test_an_endless_pydataset_needs_steps_per_epoch_and_is_read_in_order():
    class Endless(Logged):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, i):
            return super().__getitem__(i % 5)

    data = Endless()
    _dense_model().fit(data, epochs=2, steps_per_epoch=3, verbose=0)  # shuffle=True: an endless one is not
    assert data.log == ["begin", 0, 1, 2, "end", "begin", 3, 4, 0, "end"]


@pytest.mark.parametrize("kwargs", [dict(workers=3), dict(workers=2, use_multiprocessing=True, max_queue_size=2)],
                         ids=["threads", "processes"])
def test_workers_give_the_same_training(kwargs):
    x, y = _arrays()
    by_arrays, by_dataset = _dense_model(), _dense_model()
    by_arrays.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    by_dataset.fit(Logged(**kwargs), epochs=2, shuffle=False, verbose=0)
    for a, b in zip(by_arrays.get_weights(), by_dataset.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_on_epoch_end_changes_reach_worker_processes():
    class Flip(PyDataset):
        def __init__(self):
            super().__init__(workers=2, use_multiprocessing=True)
            self.sign = 1.0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full((1, 3), self.sign, "float32"), np.zeros((1, 1), "float32")

        def on_epoch_end(self):
            self.sign = -self.sign

    data = Flip()
    firsts = [float(np.asarray(b[0])[0, 0]) for _ in range(2) for b in [next(iter(BatchSource(data, None).epoch()))]]
    assert firsts == [1.0, -1.0]


def test_stateful_model_refuses_a_shuffled_pydataset():
    model = Sequential([Input(batch_shape=(2, 4, 3)), LSTM(2, stateful=True), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    class Seq(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.ones((2, 4, 3), "float32"), np.ones((2, 1), "float32")

    with pytest.raises(ValueError, match="stateful.*Pass shuffle=False"):
        model.fit(Seq(), epochs=1, verbose=0)
    model.fit(Seq(), epochs=1, verbose=0, shuffle=False)  # in order: fine


def test_pydataset_arguments_and_super_warning():
    data = Logged(workers=4, use_multiprocessing=True, max_queue_size=3)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (4, True, 3)

    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.ones((1, 3), "float32"), np.ones((1, 1), "float32")

    with pytest.warns(UserWarning, match="should call `super\\(\\).__init__\\(\\*\\*kwargs\\)`"):
        assert NoSuper().workers == 1


def test_a_dict_batch_is_refused_with_a_message():
    class DictBatches(PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return {"x": np.ones((2, 3), "float32"), "y": np.ones((2, 1), "float32")}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"each batch must be a pair \(x, y\)"):
            _dense_model().fit(DictBatches(), verbose=0)


def test_callbacks_see_one_step_per_batch():
    batches = []
    _dense_model().fit(Logged(), epochs=2, verbose=0,
                       callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))])
    assert batches == list(range(5)) * 2
