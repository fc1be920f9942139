"""fit / evaluate / predict on arrays, generators and torch DataLoaders, and the callback hooks they call,
ported from Keras 3's keras/src/trainers/trainer_test.py and keras/src/callbacks/lambda_callback_test.py
(github.com/keras-team/keras) with Keras's names and numbers.

Keras's `ExampleModel` is a Dense layer mixed with its Trainer (no bias, ones kernel); here it is a
Sequential holding that Dense. Keras's run_eagerly / jit_compile parametrisations collapse to rnnkit's
eager step (the compiled step has its own tests, tests/test_compiled_step.py).
"""

import logging

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Lambda, Sequential, optimizers
from rnnkit.callbacks import Callback, LambdaCallback


def ExampleModel(units):
    return Sequential([Dense(units, use_bias=False, kernel_initializer="ones")])


def create_dataset(dataset_type, dataset_kwargs):
    """trainer_test.py's create_dataset, for the sources rnnkit takes (no tf.data, grain or PyDataset)."""
    if dataset_type == "np_array":
        return np.ones((100, 4)), np.zeros((100, 3))
    if dataset_type == "native_array":
        return torch.ones((100, 4)), torch.zeros((100, 3))
    if dataset_type == "torch_dataloader":
        class TestIterableDataset(torch.utils.data.IterableDataset):
            def __iter__(self):
                for _ in range(20):
                    yield torch.ones((5, 4)), torch.zeros((5, 3))

        class TestIterableDatasetWithLen(TestIterableDataset):
            def __len__(self):
                return 20

        if dataset_kwargs.get("iterable", False):
            if dataset_kwargs.get("has_len", False):
                dataset = TestIterableDatasetWithLen()
            else:
                dataset = TestIterableDataset()
            return torch.utils.data.DataLoader(dataset), None
        dataset = torch.utils.data.TensorDataset(torch.ones((100, 4)), torch.zeros((100, 3)))
        return torch.utils.data.DataLoader(dataset, batch_size=5), None
    if dataset_type == "generator":
        def generate_finite():
            for _ in range(20):
                yield torch.ones((5, 4)), torch.zeros((5, 3))

        def generate_infinite():
            while True:
                yield torch.ones((5, 4)), torch.zeros((5, 3))

        return (generate_infinite() if dataset_kwargs.get("infinite", False) else generate_finite()), None
    raise ValueError(f"Invalid dataset type {dataset_type}")


# -- fit / evaluate / predict -------------------------------------------------------------------------------
@pytest.mark.parametrize("use_steps_per_epoch", [False, True], ids=["epochs", "steps_per_epoch"])
def test_fit_flow(use_steps_per_epoch):
    model = ExampleModel(units=3)
    epochs, batch_size, steps_per_epoch = 3, 20, 7
    dataset_size = batch_size * (steps_per_epoch - 2)
    x, y = np.ones((dataset_size, 4)), np.zeros((dataset_size, 3))
    model.compile(optimizer=optimizers.SGD(), loss="mean_squared_error", metrics=["mean_squared_error"])
    # with steps_per_epoch=7 Keras still trains the 5 batches the arrays make per epoch (and warns)
    history = model.fit(x, y, batch_size=batch_size, steps_per_epoch=steps_per_epoch if use_steps_per_epoch else None,
                        epochs=epochs, verbose=0).history
    assert "loss" in history and "mean_squared_error" in history
    np.testing.assert_allclose(history["mean_squared_error"], [14.5, 11.5, 8.5], atol=1.0)


@pytest.mark.parametrize("dataset_type, dataset_kwargs, fit_kwargs", [
    ("np_array", {}, {"batch_size": 5}),
    ("native_array", {}, {"batch_size": 5}),
    ("torch_dataloader", {}, {}),
    ("torch_dataloader", {"iterable": True, "has_len": False}, {}),
    ("torch_dataloader", {"iterable": True, "has_len": True}, {}),
    ("generator", {}, {}),
    ("generator", {"infinite": True}, {"steps_per_epoch": 20}),
], ids=["np_array", "native_array", "torch_dataloader_tensor", "torch_dataloader_iterable",
        "torch_dataloader_iterable_with_len", "generator", "generator_infinite"])
def test_fit_with_data_adapter(dataset_type, dataset_kwargs, fit_kwargs):
    model = ExampleModel(units=3)
    model.compile(optimizer=optimizers.Adagrad(), loss="mean_squared_error", metrics=["mean_squared_error"])
    x, y = create_dataset(dataset_type, dataset_kwargs)
    if dataset_type == "generator" and not dataset_kwargs:
        # a finite generator is one pass: Keras's second epoch finds it empty and stops with a warning
        with pytest.warns(UserWarning, match="ran out of data after 20 batches"):
            history = model.fit(x, y, epochs=3, verbose=0)
        assert len(history.epoch) == 1
        return
    history = model.fit(x, y, epochs=3, verbose=0, **fit_kwargs)
    # beyond Keras's test (it only runs fit): every epoch is one pass of 100 samples, loss falling
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"][0] > history.history["loss"][-1]


def test_fit_on_a_dataloader_is_one_pass_per_epoch():  # Keras's torch backend: no steps_per_epoch needed
    loader, _ = create_dataset("torch_dataloader", {})
    model = ExampleModel(units=3)
    model.compile(optimizer=optimizers.SGD(), loss="mse")
    batches = []
    model.fit(loader, epochs=2, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))])
    assert batches == list(range(20)) * 2
    # with steps_per_epoch the next epoch goes on where the last one stopped, and a pass that ends inside an
    # epoch ends it with a warning (Keras's EpochIterator; these batch numbers are Keras 3.15.1's, jax backend)
    batches.clear()
    with pytest.warns(UserWarning, match="ran out of data inside this epoch"):
        history = model.fit(loader, epochs=5, steps_per_epoch=8, verbose=0,
                            callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))])
    assert batches == [*range(8), *range(8), *range(4), *range(8), *range(8)]
    assert history.epoch == [0, 1, 2, 3, 4]


def test_evaluate_flow():
    model = ExampleModel(units=3)
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    model.compile(optimizer=optimizers.SGD(), loss="mean_squared_error", metrics=["mean_squared_error"])
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=16), [16.0, 16.0])
    output = model.evaluate(x, y, batch_size=16, return_dict=True)
    assert isinstance(output, dict) and "loss" in output and "mean_squared_error" in output
    np.testing.assert_allclose(output["mean_squared_error"], 16.0)


def test_predict_flow():
    model = ExampleModel(units=3)
    outputs = model.predict(np.ones((100, 4)), batch_size=16)
    np.testing.assert_allclose(outputs, 4 * np.ones((100, 3)))


def test_predict_generator():
    batch_size = 2

    def generate_batches():
        def gen_i():
            for i in range(10):
                yield i

        iterator = iter(gen_i())
        while True:
            try:
                batch = np.array([next(iterator) for _ in range(batch_size)])
            except StopIteration:
                break
            yield (batch,)

    # Keras: Sequential([InputLayer(shape=()), Identity()]); rnnkit's inputs have a feature axis
    model = Sequential([Input(()), Lambda(lambda t: t)])
    model.compile(loss="mse", optimizer="sgd")
    preds = model.predict(x=generate_batches(), verbose=0)
    np.testing.assert_array_equal(preds, np.concatenate(list(generate_batches()), axis=1)[0])


@pytest.mark.parametrize("with_weights", [False, True], ids=["x_y", "x_y_sample_weight"])
def test_predict_drops_targets_of_a_dataset(with_weights):
    # Keras's predict reads each batch with unpack_x_y_sample_weight and keeps x (trainer.py, predict_step)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        *([torch.ones((10, 4)), torch.zeros((10, 3))] + ([torch.ones(10)] if with_weights else []))), batch_size=4)
    model = ExampleModel(units=3)
    np.testing.assert_allclose(model.predict(loader), 4 * np.ones((10, 3)))


# -- callback hooks ---------------------------------------------------------------------------------------
def test_callback_methods_keys():
    keys = {}

    class CustomCallback(Callback):
        pass

    def record(name):  # Keras's test spells out the 14 hooks; each records its logs' sorted keys
        def hook(self, *args, logs=None):
            logs = args[-1] if logs is None else logs
            keys.setdefault(name, set()).add(tuple(sorted(logs.keys())))
        return hook

    for name in ["train_begin", "train_end", "test_begin", "test_end", "predict_begin", "predict_end",
                 "epoch_begin", "epoch_end", "train_batch_begin", "train_batch_end", "test_batch_begin",
                 "test_batch_end", "predict_batch_begin", "predict_batch_end"]:
        setattr(CustomCallback, f"on_{name}", record(name))

    model = ExampleModel(units=3)
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    x, y = np.ones((16, 4)), np.zeros((16, 3))
    model.fit(x, y, callbacks=[CustomCallback()], batch_size=4, validation_data=(x, y), verbose=0)
    model.evaluate(x, y, batch_size=4, callbacks=[CustomCallback()])
    model.predict(x, batch_size=4, callbacks=[CustomCallback()])
    everything = ("loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error")
    assert keys == {
        "train_begin": {()}, "train_end": {everything}, "epoch_begin": {()}, "epoch_end": {everything},
        "test_begin": {()}, "test_end": {("loss", "mean_absolute_error")},
        "predict_begin": {()}, "predict_end": {()},
        "train_batch_begin": {()}, "train_batch_end": {("loss", "mean_absolute_error")},
        "test_batch_begin": {()}, "test_batch_end": {("loss", "mean_absolute_error")},
        "predict_batch_begin": {()}, "predict_batch_end": {("outputs",)},
    }


def test_validation_data_infinite_generator():
    model = ExampleModel(units=3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Recorder(Callback):
        def __init__(self):
            self.train_counter = 0
            self.val_counter = 0

        def on_train_batch_end(self, *args, **kwargs):
            self.train_counter += 1

        def on_test_batch_end(self, *args, **kwargs):
            self.val_counter += 1

    def infinite_gen():
        while True:
            yield np.ones((2, 2)), np.ones((2, 3))

    recorder = Recorder()
    model.fit(infinite_gen(), validation_data=infinite_gen(), steps_per_epoch=3, validation_steps=4, epochs=1,
              shuffle=False, callbacks=[recorder], verbose=0)
    assert recorder.train_counter == 3
    assert recorder.val_counter == 4


@pytest.mark.parametrize("method, method_gerund, on_end_name", [
    ("fit", "training", "train"), ("evaluate", "evaluating", "test"), ("predict", "predicting", "predict")],
    ids=["fit", "evaluate", "predict"])
def test_stop_loop(method, method_gerund, on_end_name):
    model = ExampleModel(units=3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Stopper(Callback):
        def __init__(self, stop_count):
            self.stop_count = stop_count
            self.counter = 0
            setattr(self, f"on_{on_end_name}_batch_end", self.batch_end)

        def batch_end(self, *args, **kwargs):
            self.counter += 1
            if self.counter == self.stop_count:
                setattr(self.model, f"stop_{method_gerund}", True)

    def infinite_gen():
        while True:
            x = np.ones((2, 2))
            y = np.ones((2, 3))
            yield (x,) if method == "predict" else (x, y)

    stop_count = 5
    stopper = Stopper(stop_count)
    kwargs = {"verbose": 0} if method == "fit" else {}
    getattr(model, method)(infinite_gen(), callbacks=[stopper], **kwargs)
    assert stopper.counter == stop_count


def test_callbacks_can_update_state_at_batch_boundary():
    class CounterModel(Sequential):
        def __init__(self):
            super().__init__([Dense(3)])
            self.register_buffer("train_counter", torch.zeros(()))
            self.register_buffer("test_counter", torch.zeros(()))
            self.register_buffer("predict_counter", torch.zeros(()))

    class CounterCallback(Callback):
        def __init__(self):
            self.eager_call_counter_train = 0
            self.eager_call_counter_test = 0
            self.eager_call_counter_predict = 0

        def on_train_batch_end(self, *args, **kwargs):
            self.model.train_counter += 1
            self.eager_call_counter_train += 1

        def on_test_batch_end(self, *args, **kwargs):
            self.model.test_counter += 1
            self.eager_call_counter_test += 1

        def on_predict_batch_end(self, *args, **kwargs):
            self.model.predict_counter += 1
            self.eager_call_counter_predict += 1

    model = CounterModel()
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    cbk = CounterCallback()
    model.fit(np.ones((4, 3)), np.ones((4, 3)), callbacks=[cbk], epochs=3, batch_size=1, verbose=0,
              validation_data=(np.ones((2, 3)), np.ones((2, 3))))
    assert cbk.eager_call_counter_train == 12
    assert float(model.train_counter) == 12
    assert cbk.eager_call_counter_test == 6
    assert float(model.test_counter) == 6
    model.predict(np.ones((4, 3)), callbacks=[cbk], batch_size=1)
    assert cbk.eager_call_counter_predict == 4
    assert float(model.predict_counter) == 4


def test_steps_per_execution_steps_count_without_training():  # Keras's, as on JAX/TensorFlow
    class StepCount(Callback):
        def __init__(self):
            self.test_count = 0
            self.predict_count = 0
            self.batches = [0, 3, 6]

        def on_test_batch_begin(self, batch, logs=None):
            assert batch == self.batches[self.test_count]
            self.test_count += 1

        def on_predict_batch_begin(self, batch, logs=None):
            assert batch == self.batches[self.predict_count]
            self.predict_count += 1

    x, y = np.ones((100, 4)), np.ones((100, 1))
    model = ExampleModel(units=1)
    model.compile(loss="mse", steps_per_execution=3)
    step_count = StepCount()
    model.predict(x, batch_size=16, callbacks=[step_count])
    assert step_count.predict_count == 3
    model.evaluate(x, y, batch_size=16, callbacks=[step_count])
    assert step_count.test_count == 3


# -- lambda_callback_test.py (the evaluate and predict cases) -----------------------------------------------
def test_lambda_callback_with_evaluate(caplog):
    batch_size = 4
    model = Sequential([Input(shape=(2,), batch_size=batch_size), Dense(1)])
    model.compile(optimizer=optimizers.SGD(), loss="mean_squared_error")
    x, y = np.random.randn(16, 2), np.random.randn(16, 1)
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # Train briefly for evaluation to work.

    def custom_on_test_begin(logs):
        logging.warning("custom_on_test_begin_executed")

    lambda_log_callback = LambdaCallback(on_test_begin=custom_on_test_begin)
    with caplog.at_level(logging.WARNING):
        model.evaluate(x, y, batch_size=batch_size, callbacks=[lambda_log_callback], verbose=0)
    assert any("custom_on_test_begin_executed" in r.getMessage() for r in caplog.records)


def test_lambda_callback_during_prediction(caplog):
    batch_size = 4
    model = Sequential([Input(shape=(2,), batch_size=batch_size), Dense(1)])
    model.compile(optimizer=optimizers.SGD(), loss="mean_squared_error")
    x = np.random.randn(16, 2)

    def custom_on_predict_begin(logs):
        logging.warning("on_predict_begin_executed")

    lambda_callback = LambdaCallback(on_predict_begin=custom_on_predict_begin)
    with caplog.at_level(logging.WARNING):
        model.predict(x, batch_size=batch_size, callbacks=[lambda_callback], verbose=0)
    assert any("on_predict_begin_executed" in r.getMessage() for r in caplog.records)


def test_steps_per_execution_changes_the_hooks_not_the_training():
    # Keras (JAX/TF): fit's batch hooks once per execution, begin at 0, N, 2N..., end at N-1, 2N-1...; the
    # weights after fit equal those of steps_per_execution=1 (the same batches, the same updates).
    x, y = np.random.default_rng(0).normal(size=(70, 4)), np.ones((70, 1))
    seen, weights = {}, {}
    for per in (1, 3):
        torch.manual_seed(0)
        model = ExampleModel(units=1)
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=per)
        calls = []
        hook = LambdaCallback(on_train_batch_begin=lambda b, logs: calls.append(("begin", b)),
                              on_train_batch_end=lambda b, logs: calls.append(("end", b, round(logs["loss"], 6))))
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, callbacks=[hook], verbose=0)
        seen[per], weights[per] = calls, [w.copy() for w in model.get_weights()]
    assert [c[:2] for c in seen[3]] == [("begin", 0), ("end", 2), ("begin", 3), ("end", 5), ("begin", 6), ("end", 8)]
    ends_of_1 = {c[1]: c[2] for c in seen[1] if c[0] == "end"}
    assert [c[2] for c in seen[3] if c[0] == "end"] == [ends_of_1[2], ends_of_1[5], ends_of_1[6]]
    for a, b in zip(weights[1], weights[3]):
        np.testing.assert_array_equal(a, b)
    outs = []
    model.predict(x, batch_size=10, callbacks=[LambdaCallback(
        on_predict_batch_end=lambda b, logs: outs.append((b, logs["outputs"].shape[0])))])
    assert outs == [(2, 30), (5, 30), (8, 10)]
    with pytest.raises(ValueError, match="steps_per_execution must be a positive integer.*received 0"):
        model.compile(loss="mse", steps_per_execution=0)
