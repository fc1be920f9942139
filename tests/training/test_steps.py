"""Keras's override points: fit, evaluate and predict run the model's train_step, test_step and predict_step."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5, 2)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None].astype("float32")


class HandWritten(Sequential):
    """Keras's documented custom train_step (torch backend), written against the public API."""

    calls = 0

    def train_step(self, data):
        type(self).calls += 1
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": float(loss.detach()), "custom": 1.0}


def _model(cls, seed=1):
    torch.manual_seed(seed)
    model = cls([Input((5, 2)), LSTM(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_an_overridden_train_step_is_what_fit_runs_and_trains_like_the_default():
    x, y = _data()
    HandWritten.calls = 0
    custom, default = _model(HandWritten), _model(Sequential)
    history = custom.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    reference = default.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert HandWritten.calls == 3 * 4
    assert history.history["custom"] == [1.0, 1.0, 1.0]  # the step's own logs reach History
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-6)
    for a, b in zip(custom.parameters(), default.parameters()):
        torch.testing.assert_close(a, b)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_train_on_batch_runs_the_overridden_train_step():
    x, y = _data(8)
    HandWritten.calls = 0
    model = _model(HandWritten)
    assert model.train_on_batch(x, y)[1] == 1.0  # [loss, custom]
    assert HandWritten.calls == 1


class Doubled(Sequential):
    def test_step(self, data):
        values = super().test_step(data)
        return {"loss": 2 * values["loss"]}

    def predict_step(self, data):
        return super().predict_step(data) + 100.0


def test_evaluate_and_predict_run_the_overridden_test_and_predict_steps():
    x, y = _data()
    torch.manual_seed(3)
    plain = Sequential([Input((5, 2)), LSTM(4), Dense(1)])
    torch.manual_seed(3)
    doubled = Doubled([Input((5, 2)), LSTM(4), Dense(1)])
    for m in (plain, doubled):
        m.compile(optimizer="adam", loss="mse")
    assert doubled.evaluate(x, y, batch_size=8) == pytest.approx(2 * plain.evaluate(x, y, batch_size=8), rel=1e-6)
    assert doubled.test_on_batch(x, y) == pytest.approx(2 * plain.test_on_batch(x, y), rel=1e-6)
    np.testing.assert_allclose(doubled.predict(x, batch_size=8), plain.predict(x, batch_size=8) + 100.0, rtol=1e-6)
    np.testing.assert_allclose(doubled.predict_on_batch(x), plain.predict_on_batch(x) + 100.0, rtol=1e-6)


def test_compute_loss_and_metrics_follow_compile():
    x, y = _data(8)
    model = _model(Sequential)
    model.compile(optimizer="adam", loss="mae", metrics=["mse"])
    with torch.no_grad():
        y_pred = model(torch.as_tensor(x))
    y_t = torch.as_tensor(y)
    assert float(model.compute_loss(y=y_t, y_pred=y_pred)) == pytest.approx(float((y_pred - y_t).abs().mean()))
    assert model.compute_metrics(None, y_t, y_pred)["mse"] == pytest.approx(float(((y_pred - y_t) ** 2).mean()))


def test_the_optimizer_is_made_only_once_the_weights_exist():
    model = Sequential([LSTM(4), Dense(1)])  # no input shape: lazily sized weights
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(RuntimeError, match="Call the model on a batch first"):
        model.optimizer
    x, y = _data(8)
    model.train_on_batch(x, y)
    assert len(model.optimizer.param_groups[0]["params"]) == len(list(model.parameters()))


@pytest.mark.slow
def test_jit_compile_compiles_an_overridden_train_step_and_trains_as_eager():
    x, y = _data()
    HandWritten.calls = 0
    compiled = _model(HandWritten)
    compiled.compile(optimizer="adam", loss="mse", jit_compile=True)
    eager = _model(HandWritten)
    history = compiled.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    reference = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert compiled.make_train_function() is not compiled.train_step  # torch.compile's wrapper ran
    assert HandWritten.calls == 2 * 2 * 4
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-5)
    for a, b in zip(compiled.parameters(), eager.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_every_entry_point_that_updates_or_scores_checks_its_data_the_same_way():
    x, y = _data(8)
    model = _model(Sequential)
    before = [p.detach().clone() for p in model.parameters()]
    bad = y.copy()
    bad[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"y contains NaN or inf \(first at index \(3, 0\)"):
        model.train_on_batch(x, bad)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # nothing was updated
    with pytest.raises(ValueError, match="x has 8 samples but y has 12"):
        model.evaluate(x, np.zeros((12, 1), np.float32))


def test_a_custom_loss_gets_targets_shaped_like_the_output_as_in_keras():
    x, y = _data(8)
    custom, builtin = _model(Sequential), _model(Sequential)
    custom.compile(optimizer="adam", loss=lambda y_true, y_pred: (y_true - y_pred).abs().mean())
    builtin.compile(optimizer="adam", loss="mae")
    # (N,) targets for an (N, 1) output: reshaped, not broadcast to (N, N)
    assert custom.evaluate(x, y[:, 0]) == pytest.approx(builtin.evaluate(x, y[:, 0]), rel=1e-6)
