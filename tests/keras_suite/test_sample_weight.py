"""fit / evaluate / train_on_batch / test_on_batch with sample_weight and class_weight, weighted as Keras 3
weighs them: the loss is sum(loss_value * weight) / number of loss values ("sum_over_batch_size",
keras/src/losses/loss.py `reduce_weighted_values`), not divided by the weights' sum; metrics stay
unweighted. Golden values from keras/src/trainers/trainer_test.py `test_on_batch_methods`; the rest are
equivalence tests (the weighted loss by hand == the loss fit and evaluate report; weights == the same
rows trained without weights), plus class_weight as keras/src/trainers/data_adapters/
data_adapter_utils.py `class_weight_to_sample_weights` computes it, and per-time-step weights.
"""

import shutil

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, optimizers

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="torch.compile needs a C++ compiler on CPU")


# -- keras/src/trainers/trainer_test.py: test_on_batch_methods ---------------------------------------------
def test_on_batch_methods_with_sample_and_class_weights():
    model = Sequential([Input((4,)), Dense(3, use_bias=False, kernel_initializer="ones")])  # ExampleModel(3)
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    sw = np.arange(100).reshape((100,)).astype("float32") / 50.0
    model.compile(optimizer=optimizers.SGD(), loss="mse", metrics=["mse"])
    logs = model.train_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2 and logs[0] == pytest.approx(16.0)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert isinstance(logs, dict) and logs["loss"] == pytest.approx(15.158, abs=5e-4)
    assert model.test_on_batch(x, y)[0] == pytest.approx(14.360, abs=5e-4)
    assert model.test_on_batch(x, y, return_dict=True)["loss"] == pytest.approx(14.360, abs=5e-4)
    np.testing.assert_allclose(model.predict_on_batch(x)[0], [3.789511] * 3, rtol=1e-6)
    # With sample weights
    assert model.train_on_batch(x, y, sw)[0] == pytest.approx(14.217, abs=5e-4)
    assert model.test_on_batch(x, y, sw)[0] == pytest.approx(13.476, abs=5e-4)
    np.testing.assert_allclose(model.predict_on_batch(x)[0], [3.689468] * 3, rtol=1e-6)
    # With class weights
    assert model.train_on_batch(x, y, class_weight={1: 0.3, 0: 0.2})[0] == pytest.approx(2.722, abs=5e-4)


# -- equivalence: the weighted loss by hand ----------------------------------------------------------------
def _dense(seed=0, lr=0.0):
    torch.manual_seed(seed)
    model = Sequential([Input((3,)), Dense(2)])
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", metrics=["mae"])
    return model


def _weighted_mse(pred, y, w):
    values = ((pred - y) ** 2).mean(-1)  # one value per sample
    return (values * w).sum() / values.size  # Keras: over the number of values, not over w.sum()


DATA = np.random.default_rng(0)
X, Y = DATA.random((10, 3)).astype("float32"), DATA.random((10, 2)).astype("float32")
W = DATA.random(10).astype("float32") * 3


def test_fit_reports_the_weighted_loss():
    model = _dense()  # learning rate 0: the weights stay, so the loss can be computed by hand
    pred = model.predict(X)
    history = model.fit(X, Y, sample_weight=W, batch_size=4, epochs=1, shuffle=False, verbose=0)
    per_batch = [(_weighted_mse(pred[s], Y[s], W[s]), len(W[s])) for s in (slice(0, 4), slice(4, 8), slice(8, 10))]
    expected = sum(v * n for v, n in per_batch) / 10  # Keras's loss tracker: a mean weighted by batch size
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history.history["mae"][0] == pytest.approx(np.abs(pred - Y).mean(), rel=1e-5)  # metrics: unweighted


def test_evaluate_and_validation_data_weigh_the_loss():
    model = _dense()
    pred = model.predict(X)
    assert model.evaluate(X, Y, sample_weight=W, batch_size=10)[0] == pytest.approx(_weighted_mse(pred, Y, W), rel=1e-5)
    assert model.evaluate(X, Y, batch_size=10)[0] == pytest.approx(_weighted_mse(pred, Y, np.ones(10)), rel=1e-5)
    history = model.fit(X, Y, validation_data=(X, Y, W), batch_size=10, epochs=1, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(_weighted_mse(pred, Y, W), rel=1e-5)


def test_validation_split_splits_the_weights():
    model = _dense()
    pred = model.predict(X)
    history = model.fit(X, Y, sample_weight=W, validation_split=0.2, batch_size=8, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(_weighted_mse(pred[:8], Y[:8], W[:8]), rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(_weighted_mse(pred[8:], Y[8:], W[8:]), rel=1e-5)


def test_zero_weights_train_as_the_other_rows_alone():
    # weights (1, 1, 0, 0) on a batch of 4: the gradient is half that of the first two rows' mean loss
    w = np.array([1, 1, 0, 0, 1, 1, 0, 0, 1, 1], dtype="float32")
    weighted = _dense(lr=0.1)
    weighted.fit(X, Y, sample_weight=w, batch_size=4, epochs=1, shuffle=False, verbose=0)
    alone = _dense(lr=0.05)
    for rows in ([0, 1], [4, 5]):
        alone.train_on_batch(X[rows], Y[rows])
    alone.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    alone.train_on_batch(X[8:10], Y[8:10])  # the last batch (2 rows, both weight 1) is a plain mean
    for a, b in zip(weighted.parameters(), alone.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_weights_of_two_double_the_loss_and_the_step():
    once, twice = _dense(lr=0.1), _dense(lr=0.2)
    loss2 = once.fit(X, Y, sample_weight=np.full(10, 2.0), batch_size=10, epochs=1, verbose=0).history["loss"][0]
    loss1 = twice.fit(X, Y, batch_size=10, epochs=1, verbose=0).history["loss"][0]
    assert loss2 == pytest.approx(2 * loss1, rel=1e-6)
    for a, b in zip(once.parameters(), twice.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


# -- class_weight ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss, targets", [
    ("sparse_categorical_crossentropy", lambda ids: ids),
    ("sparse_categorical_crossentropy", lambda ids: ids[:, None]),
    ("categorical_crossentropy", lambda ids: np.eye(3, dtype="float32")[ids]),
], ids=["sparse", "sparse-column", "one-hot"])
def test_class_weight_is_a_sample_weight_per_class(loss, targets):
    ids = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    class_weight = {0: 1.0, 1: 2.5, 2: 0.5}
    losses = []
    for kwargs in ({"class_weight": class_weight},
                   {"sample_weight": np.array([class_weight[i] for i in ids])}):
        torch.manual_seed(0)
        model = Sequential([Input((3,)), Dense(3, activation="softmax")])
        model.compile(optimizer=optimizers.Adam(0.01), loss=loss)
        losses.append(model.fit(X[:8], targets(ids), batch_size=4, epochs=2, shuffle=False, verbose=0, **kwargs)
                      .history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


def test_class_weight_keys_must_be_class_ids():
    model = _dense()
    with pytest.raises(ValueError, match="must be a dictionary with integer keys"):
        model.fit(X, np.zeros(10, dtype="int64") % 2, class_weight={"a": 1.0}, epochs=1, verbose=0)


def test_class_weight_and_sample_weight_together_are_refused():
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight` at the same time"):
        _dense().fit(X, Y, sample_weight=W, class_weight={0: 1.0}, epochs=1, verbose=0)


def test_sample_weight_shape_is_checked():
    with pytest.raises(ValueError, match=r"sample_weight must have one row per sample \(10\)"):
        _dense().fit(X, Y, sample_weight=W[:5], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="does not fit the loss values"):
        _dense().fit(X, Y, sample_weight=np.ones((10, 7)), epochs=1, verbose=0)


# -- sequences: per-sample and per-time-step weights --------------------------------------------------------
def _sequence_model(jit_compile=False):
    torch.manual_seed(0)
    model = Sequential([Input((5, 2)), LSTM(4, return_sequences=True), Dense(3)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", jit_compile=jit_compile)
    return model


SX = np.random.default_rng(1).random((6, 5, 2)).astype("float32")
SY = np.random.default_rng(2).random((6, 5, 3)).astype("float32")
SW = np.random.default_rng(3).random((6, 5)).astype("float32")


def test_temporal_sample_weights():
    model = _sequence_model()
    pred = model.predict(SX)
    values = ((pred - SY) ** 2).mean(-1)  # -> (B, T): one loss value per sample and step
    got = model.evaluate(SX, SY, sample_weight=SW, batch_size=6)
    assert got == pytest.approx((values * SW).sum() / values.size, rel=1e-5)
    # per-sample weights (B,) weigh every step of their sample (Keras 2's broadcasting)
    w = SW[:, 0]
    got = model.evaluate(SX, SY, sample_weight=w, batch_size=6)
    assert got == pytest.approx((values * w[:, None]).sum() / values.size, rel=1e-5)
    # and the trailing-1 form (B, 1) is the same as (B,)
    assert model.evaluate(SX, SY, sample_weight=w[:, None], batch_size=6) == pytest.approx(got, rel=1e-6)


def test_generator_batches_may_carry_weights():
    def batches():
        while True:
            for s in (slice(0, 3), slice(3, 6)):
                yield SX[s], SY[s], SW[s]

    with_gen = _sequence_model().fit(batches(), steps_per_epoch=2, epochs=2, verbose=0).history["loss"]
    with_arrays = _sequence_model().fit(SX, SY, sample_weight=SW, batch_size=3, epochs=2, shuffle=False,
                                        verbose=0).history["loss"]
    np.testing.assert_allclose(with_gen, with_arrays, rtol=1e-6)


def test_custom_loss_values_are_weighted_and_reduced_as_keras_does():
    def per_sample_mse(y_true, y_pred):  # a custom loss returning one value per sample
        return ((y_pred - y_true) ** 2).mean(-1)

    model = _dense()
    model.compile(optimizer=optimizers.SGD(0.0), loss=per_sample_mse)
    pred = model.predict(X)
    assert model.evaluate(X, Y, sample_weight=W, batch_size=10) == pytest.approx(_weighted_mse(pred, Y, W), rel=1e-5)
    assert model.evaluate(X, Y, batch_size=10) == pytest.approx(((pred - Y) ** 2).mean(), rel=1e-5)


@needs_compiler
def test_compiled_step_weighs_as_the_eager_one():
    eager = _sequence_model().fit(SX, SY, sample_weight=SW, batch_size=3, epochs=2, shuffle=False, verbose=0)
    model = _sequence_model(jit_compile=True)
    jit = model.fit(SX, SY, sample_weight=SW, batch_size=3, epochs=2, shuffle=False, verbose=0)
    assert model._train_function.fallback is None and model._train_function.compiled_calls == 4
    np.testing.assert_allclose(jit.history["loss"], eager.history["loss"], rtol=1e-5)


def test_class_weight_applies_to_generator_batches():
    ids = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    class_weight = {0: 0.25, 1: 3.0}

    def batches():
        while True:
            for s in (slice(0, 4), slice(4, 8)):
                yield X[s], ids[s]

    def run(**kwargs):
        torch.manual_seed(0)
        model = Sequential([Input((3,)), Dense(2, activation="softmax")])
        model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        if "steps_per_epoch" in kwargs:
            return model.fit(batches(), epochs=2, verbose=0, **kwargs).history["loss"]
        return model.fit(X[:8], ids, batch_size=4, epochs=2, shuffle=False, verbose=0, **kwargs).history["loss"]

    from_generator = run(steps_per_epoch=2, class_weight=class_weight)
    np.testing.assert_allclose(from_generator, run(class_weight=class_weight), rtol=1e-6)
    np.testing.assert_allclose(from_generator, run(sample_weight=np.array([class_weight[i] for i in ids])), rtol=1e-6)
