"""Regression and probabilistic metrics, ported from Keras 3's keras/src/metrics/regression_metrics_test.py
and probabilistic_metrics_test.py (github.com/keras-team/keras): the same inputs, weights and expected
values (atol as there), and the config round trips. Not ported: R2Score and Poisson (rnnkit has neither),
SparseCategoricalCrossentropy's ignore_class (not supported).
"""

import numpy as np
import pytest

import rnnkit.metrics
from rnnkit.metrics import (BinaryCrossentropy, CategoricalCrossentropy, CosineSimilarity, KLDivergence, LogCoshError,
                            MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                            MeanSquaredLogarithmicError, RootMeanSquaredError, SparseCategoricalCrossentropy)


def close(result, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(result), expected, atol=atol)


Y_TRUE = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
Y_PRED = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])
WEIGHTS = np.array([1.0, 1.5, 2.0, 2.5])


# -- test_config of each TestCase --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, name", [
    (CosineSimilarity, "my_cos"), (MeanAbsoluteError, "my_mae"), (MeanAbsolutePercentageError, "my_mape"),
    (MeanSquaredLogarithmicError, "my_msle"), (RootMeanSquaredError, "rmse"), (LogCoshError, "logcosh"),
    (KLDivergence, "kld"), (MeanSquaredError, "my_mse"),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_config(cls, name):
    metric = cls(name=name, dtype="int32")
    assert metric.name == name and metric._dtype == "int32" and metric.dtype == "int32"
    restored = cls.from_config(metric.get_config())
    assert restored.name == name and restored._dtype == "int32"


@pytest.mark.parametrize("metric", [
    BinaryCrossentropy(name="bce", dtype="int32", label_smoothing=0.2),
    CategoricalCrossentropy(name="cce", dtype="int32", label_smoothing=0.2),
    SparseCategoricalCrossentropy(name="scce", dtype="int32"),
], ids=["bce", "cce", "scce"])
def test_crossentropy_config(metric):  # Keras's run_class_serialization_test: the config survives a round trip
    restored = type(metric).from_config(metric.get_config())
    assert restored.get_config() == metric.get_config() and restored.name == metric.name


def test_default_names_are_keras_names():
    assert [m().name for m in (MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                               MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, KLDivergence)] == [
        "mean_squared_error", "root_mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error", "cosine_similarity", "logcosh", "kl_divergence"]


# -- MeanSquaredErrorTest, MeanAbsoluteErrorTest, MeanSquaredLogarithmicErrorTest, MeanAbsolutePercentageErrorTest --
@pytest.mark.parametrize("cls, unweighted, weighted", [
    (MeanSquaredError, 0.5, 0.54285),
    (MeanAbsoluteError, 0.5, 0.54285),
    (MeanSquaredLogarithmicError, 0.24022, 0.26082),
], ids=["mse", "mae", "msle"])
def test_error_metrics(cls, unweighted, weighted):
    metric = cls()
    metric.update_state(Y_TRUE, Y_PRED)
    close(metric.result(), unweighted)
    close(cls()(Y_TRUE, Y_PRED, sample_weight=WEIGHTS), weighted)


def test_mean_absolute_percentage_error():
    y_pred = Y_PRED.astype("float32")
    close(MeanAbsolutePercentageError()(Y_TRUE, y_pred), 35e7)
    close(MeanAbsolutePercentageError()(Y_TRUE, y_pred, sample_weight=WEIGHTS), 40e7)


# -- RootMeanSquaredErrorTest ------------------------------------------------------------------------------------------
def test_root_mean_squared_error():
    metric = RootMeanSquaredError()
    metric.update_state(np.array([2, 4, 6]), np.array([1, 3, 2]))
    close(metric.result(), np.sqrt(6), atol=1e-3)  # error [-1, -1, -4], squares [1, 1, 16], mean 18 / 3 = 6
    result = RootMeanSquaredError()(np.array([2, 4, 6, 8]), np.array([1, 3, 2, 3]),
                                    sample_weight=np.array([0, 1, 0, 1]))
    close(result, np.sqrt(13), atol=1e-3)


def test_root_mean_squared_error_is_the_root_of_the_mean_over_batches():
    metric = RootMeanSquaredError()
    metric.update_state([2, 4, 6], [1, 3, 2])  # squares 1, 1, 16
    metric.update_state([8], [3])  # square 25
    close(metric.result(), np.sqrt(43 / 4), atol=1e-6)  # not the mean of sqrt(6) and 5


# -- CosineSimilarityTest ----------------------------------------------------------------------------------------------
def _cosine_setup(axis=1):
    y_true = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
    y_pred = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)

    def l2_norm(x):
        return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=axis, keepdims=True), 1e-12))

    return y_true, y_pred, np.sum(l2_norm(y_true) * l2_norm(y_pred), axis=(axis,))


def test_cosine_similarity():
    y_true, y_pred, expected = _cosine_setup()
    assert float(CosineSimilarity()(y_true, y_pred)) == pytest.approx(np.mean(expected), abs=1e-3)  # test_unweighted
    weights = np.asarray([1.2, 3.4])
    assert float(CosineSimilarity()(y_true, y_pred, sample_weight=weights)) == pytest.approx(
        np.sum(expected * weights) / np.sum(weights), abs=1e-3)  # test_weighted
    assert float(CosineSimilarity(axis=1)(y_true, y_pred)) == pytest.approx(np.mean(expected), abs=1e-3)  # test_axis


# -- LogCoshErrorTest --------------------------------------------------------------------------------------------------
def test_log_cosh_error():
    y_true = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
    y_pred = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)
    error = y_pred - y_true
    expected = np.log((np.exp(error) + np.exp(-error)) / 2)
    metric = LogCoshError()
    metric.update_state(y_true, y_pred)
    close(metric.result(), np.sum(expected) / 6, atol=1e-3)  # test_unweighted
    result = LogCoshError(dtype="float32")(y_true, y_pred, sample_weight=np.array([[1.2], [3.4]]))
    weights = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    close(result, np.sum(expected * weights) / np.sum(weights), atol=1e-3)  # test_weighted


# -- KLDivergenceTest (probabilistic_metrics_test.py) ------------------------------------------------------------------
def test_kl_divergence():
    y_pred = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=np.float32).reshape((2, 3))
    y_true = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=np.float32).reshape((2, 3))
    expected = y_true * np.log(y_true / y_pred)
    metric = KLDivergence()
    metric.update_state(y_true, y_pred)
    close(metric.result(), np.sum(expected) / 2, atol=1e-3)
    result = KLDivergence()(y_true, y_pred, sample_weight=np.asarray([1.2, 3.4], dtype=np.float32).reshape((2, 1)))
    weights = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4], dtype=np.float32).reshape((2, 3))
    close(result, np.sum(expected * weights) / (1.2 + 3.4), atol=1e-3)


# -- BinaryCrossentropyTest, CategoricalCrossentropyTest, SparseCategoricalCrossentropyTest ----------------------------
BCE_TRUE, BCE_PRED = np.array([1, 0, 1, 0]).reshape([2, 2]), np.array([1, 1, 1, 0], dtype=np.float32).reshape([2, 2])
LOGIT_TRUE, LOGITS = np.array([[1, 0, 1], [0, 1, 1]]), np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
CCE_TRUE, CCE_PRED = np.array([[0, 1, 0], [0, 0, 1]]), np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
CCE_LOGITS = np.array([[1, 9, 0], [1, 8, 1]], dtype=np.float32)


@pytest.mark.parametrize("metric, y_true, y_pred, sample_weight, expected", [
    (BinaryCrossentropy(), BCE_TRUE, BCE_PRED, None, 3.9855),
    (BinaryCrossentropy(from_logits=True), LOGIT_TRUE, LOGITS, None, 3.333),
    (BinaryCrossentropy(), BCE_TRUE, BCE_PRED, [1.5, 2.0], 3.4162),
    (BinaryCrossentropy(from_logits=True), LOGIT_TRUE, LOGITS, [2.0, 2.5], 3.7037),
    (BinaryCrossentropy(from_logits=True, label_smoothing=0.1), np.array((1, 0, 1)), np.array((10.0, -10.0, -10.0)),
     None, (10.0 + 5.0 * 0.1) / 3.0),
    (CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, None, 1.176),
    (CategoricalCrossentropy(from_logits=True), CCE_TRUE, CCE_LOGITS, None, 3.5011),
    (CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, [1.5, 2.0], 1.338),
    (CategoricalCrossentropy(from_logits=True), CCE_TRUE, CCE_LOGITS, [1.5, 2.0], 4.0012),
    (CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), CCE_TRUE, CCE_LOGITS, None, 3.667),
    (SparseCategoricalCrossentropy(), np.array([1, 2]), CCE_PRED, None, 1.176),
    (SparseCategoricalCrossentropy(from_logits=True), np.array([1, 2]), CCE_LOGITS, None, 3.5011),
    (SparseCategoricalCrossentropy(), np.array([1, 2]), CCE_PRED, [1.5, 2.0], 1.338),
    (SparseCategoricalCrossentropy(from_logits=True), np.array([1, 2]), CCE_LOGITS, [1.5, 2.0], 4.0012),
], ids=["bce", "bce_logits", "bce_weighted", "bce_weighted_logits", "bce_label_smoothing", "cce", "cce_logits",
        "cce_weighted", "cce_weighted_logits", "cce_label_smoothing", "scce", "scce_logits", "scce_weighted",
        "scce_weighted_logits"])
def test_crossentropies(metric, y_true, y_pred, sample_weight, expected):
    metric.reset_state()
    close(metric(y_true, y_pred, sample_weight=None if sample_weight is None else np.array(sample_weight)), expected,
          atol=1e-3)


# -- names: Keras's metrics.get, and rnnkit's additions ----------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("mse", MeanSquaredError), ("mean_squared_error", MeanSquaredError), ("mae", MeanAbsoluteError),
    ("mape", MeanAbsolutePercentageError), ("mean_absolute_percentage_error", MeanAbsolutePercentageError),
    ("msle", MeanSquaredLogarithmicError), ("root_mean_squared_error", RootMeanSquaredError),
    ("RootMeanSquaredError", RootMeanSquaredError), ("rmse", RootMeanSquaredError),
    ("cosine_similarity", CosineSimilarity), ("log_cosh_error", LogCoshError), ("logcosh", LogCoshError),
    ("binary_crossentropy", BinaryCrossentropy), ("bce", BinaryCrossentropy),
    ("categorical_crossentropy", CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy), ("kl_divergence", KLDivergence),
])
def test_get_by_name(name, cls):
    assert type(rnnkit.metrics.get(name)) is cls


def test_get_refuses_unknown_names_and_round_trips_dicts():
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'rsme'.*root_mean_squared_error"):
        rnnkit.metrics.get("rsme")
    metric = rnnkit.metrics.get(rnnkit.metrics.serialize(CategoricalCrossentropy(name="cce", label_smoothing=0.2)))
    assert type(metric) is CategoricalCrossentropy and metric.name == "cce" and metric.label_smoothing == 0.2
