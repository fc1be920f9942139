"""save/load keep what compile set: loss, loss_weights, metrics and weighted_metrics, for one output and
per output (lists or dicts by output name), so evaluate after `rnnkit.load` gives the same numbers under
the same log names, and fit goes on as it would have."""

import numpy as np
import pytest

import rnnkit
from rnnkit import LSTM, Dense, Input, Model, Sequential

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 5, 3)).astype("float32")
Y_VALUE = RNG.normal(size=(12, 1)).astype("float32")
Y_LABEL = RNG.integers(0, 3, size=(12,))
Y_EXTRA = RNG.normal(size=(12, 2)).astype("float32")
WEIGHTS = RNG.uniform(0.1, 2.0, size=(12,)).astype("float32")


def _three_outputs() -> Model:
    inputs = Input((5, 3))
    h = LSTM(4)(inputs)
    return Model(inputs, [Dense(1, name="value")(h), Dense(3, activation="softmax", name="label")(h),
                          Dense(2, name="extra")(h)])


MULTI = {
    "dicts": dict(loss={"value": "mse", "label": "sparse_categorical_crossentropy", "extra": None},
                  loss_weights={"value": 0.5, "label": 2.0},
                  metrics={"value": ["mae", "mse"], "label": ["accuracy"], "extra": ["mae"]},
                  weighted_metrics={"value": ["mse"], "extra": "mse"}),
    "lists": dict(loss=["mse", "sparse_categorical_crossentropy", "mae"], loss_weights=[1.0, 0.3, 2.5],
                  metrics=[["mse", "mse"], "acc", None], weighted_metrics=[["mae"], None, ["mse"]]),
    "one-loss-broadcast": dict(loss="mse", metrics=[None, None, ["root_mean_squared_error"]]),
}


def _multi_data():
    return X, [Y_VALUE, Y_LABEL, Y_EXTRA]


@pytest.mark.parametrize("settings", MULTI.values(), ids=MULTI.keys())
def test_a_multi_output_model_loads_compiled_as_it_was_saved(tmp_path, settings):
    if settings["loss"] == "mse":  # one loss for every output: every output needs float targets
        x, y = X, [Y_VALUE, RNG.normal(size=(12, 3)).astype("float32"), Y_EXTRA]
    else:
        x, y = _multi_data()
    model = _three_outputs()
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.01), **settings)
    model.fit(x, y, sample_weight=WEIGHTS, epochs=2, batch_size=4, shuffle=False, verbose=0)
    before = model.evaluate(x, y, sample_weight=WEIGHTS, batch_size=4, return_dict=True)
    before_list = model.evaluate(x, y, sample_weight=WEIGHTS, batch_size=4)
    model.save(tmp_path / "m.rnnkit")

    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.compiled
    after = loaded.evaluate(x, y, sample_weight=WEIGHTS, batch_size=4, return_dict=True)
    assert list(after) == list(before)  # the same log names, in the same order
    np.testing.assert_allclose([after[k] for k in before], list(before.values()), rtol=1e-6)
    np.testing.assert_allclose(loaded.evaluate(x, y, sample_weight=WEIGHTS, batch_size=4), before_list, rtol=1e-6)
    # the optimizer's state came back too: both go on training alike
    a = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    b = loaded.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    assert list(a) == list(b)
    np.testing.assert_allclose([b[k][0] for k in a], [a[k][0] for k in a], rtol=1e-5)


def test_the_dict_settings_log_what_keras_logs_after_load(tmp_path):
    model = _three_outputs()
    model.compile(optimizer="adam", **MULTI["dicts"])
    model.save(tmp_path / "m.rnnkit")
    logs = rnnkit.load(tmp_path / "m.rnnkit").evaluate(*_multi_data(), sample_weight=WEIGHTS, return_dict=True)
    assert sorted(logs) == sorted(["loss", "value_loss", "label_loss", "value_mae", "value_mse", "label_accuracy",
                                   "extra_mae", "value_weighted_mse", "extra_mse"])


def test_a_single_output_model_keeps_loss_weights_and_weighted_metrics(tmp_path):
    model = Sequential([Input((5, 3)), LSTM(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse", loss_weights=0.25, metrics=["mse", "mse", "mae"],
                  weighted_metrics=["mse"])
    before = model.evaluate(X, Y_VALUE, sample_weight=WEIGHTS, return_dict=True)
    assert set(before) == {"loss", "mse", "mse_1", "mae", "weighted_mse"}
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.loss_weight == 0.25
    after = loaded.evaluate(X, Y_VALUE, sample_weight=WEIGHTS, return_dict=True)
    assert list(after) == list(before)
    np.testing.assert_allclose([after[k] for k in before], list(before.values()), rtol=1e-6)


def _my_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()


@pytest.mark.parametrize("settings", [dict(loss=_my_loss), dict(loss="mse", metrics=[_my_loss]),
                                      dict(loss=["mse", _my_loss, None])],
                         ids=["custom-loss", "custom-metric", "custom-output-loss"])
def test_a_custom_loss_or_metric_loads_uncompiled(tmp_path, settings):
    several = isinstance(settings["loss"], list)
    model = _three_outputs() if several else Sequential([Input((5, 3)), LSTM(4), Dense(1)])
    model.compile(optimizer="adam", **settings)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")  # no function to find by name: the user compiles again
    assert not loaded.compiled
    first = (lambda out: out[0]) if several else (lambda out: out)
    np.testing.assert_allclose(first(loaded.predict(X)), first(model.predict(X)), atol=1e-6)
