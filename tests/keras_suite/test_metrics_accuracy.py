"""Accuracy metrics, ported from Keras 3's keras/src/metrics/accuracy_metrics_test.py
(github.com/keras-team/keras): the same inputs, weights and expected values (atol as there), and the
config round trips (name, dtype, the two state variables, k / threshold / from_sorted_ids).
"""

import numpy as np
import pytest

import rnnkit.metrics
from rnnkit.metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                            SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)


def close(result, expected, atol=1e-3):
    np.testing.assert_allclose(np.asarray(result), expected, atol=atol)


# -- test_config of each TestCase -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, name, extra", [
    (Accuracy, "accuracy", {}),
    (BinaryAccuracy, "binary_accuracy", {}),
    (CategoricalAccuracy, "categorical_accuracy", {}),
    (SparseCategoricalAccuracy, "sparse_categorical_accuracy", {}),
    (TopKCategoricalAccuracy, "top_k_categorical_accuracy", {"k": 1}),
    (SparseTopKCategoricalAccuracy, "sparse_top_k_categorical_accuracy", {"k": 1}),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_config(cls, name, extra):
    metric = cls(name=name, dtype="float32", **extra)
    assert metric.name == name and metric._dtype == "float32" and len(metric.variables) == 2
    config = metric.get_config()
    assert config["name"] == name and config["dtype"] == "float32"
    for key, value in extra.items():
        assert config[key] == value
    restored = cls.from_config(config)
    assert restored.name == name and restored._dtype == "float32" and len(restored.variables) == 2
    for key, value in extra.items():
        assert getattr(restored, key) == value


def test_sparse_top_k_config_from_sorted_ids():
    assert not SparseTopKCategoricalAccuracy(k=1).from_config(SparseTopKCategoricalAccuracy(k=1).get_config()) \
        .from_sorted_ids
    config = SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True).get_config()
    assert config["from_sorted_ids"] is True
    assert SparseTopKCategoricalAccuracy.from_config(config).from_sorted_ids


# -- AccuracyTest -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y_true, y_pred, sample_weight, expected", [
    ([[1], [2], [3], [4]], [[0], [2], [3], [4]], None, 0.75),  # test_unweighted
    ([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0], 0.5),  # test_weighted
    ([1, 2, 3, 4], [0, 2, 3, 4], [1, 1, 0, 0], 0.5),  # test_weighted_rank_1
    ([[1, 2], [3, 4]], [[0, 2], [3, 4]], [[1, 0], [0, 1]], 0.5),  # test_weighted_nd_weights
    ([[1, 2], [3, 4]], [[0, 2], [3, 4]], [[1, 0]], 0.5),  # test_weighted_nd_broadcast_weights
], ids=["unweighted", "weighted", "weighted_rank_1", "weighted_nd_weights", "weighted_nd_broadcast_weights"])
def test_accuracy(y_true, y_pred, sample_weight, expected):
    metric = Accuracy(name="accuracy", dtype="float32")
    metric.update_state(np.array(y_true), np.array(y_pred),
                        sample_weight=None if sample_weight is None else np.array(sample_weight))
    close(metric.result(), expected)


# -- BinaryAccuracyTest ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y_true, y_pred, sample_weight, expected", [
    ([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], None, 0.75),  # test_unweighted
    ([1, 1, 0, 0], [[0.98], [1], [0], [0.6]], None, 0.75),  # test_unweighted, broadcasting case
    ([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1], 0.5),  # test_weighted
    ([1, 1, 0, 0], [0.98, 1, 0, 0.6], [1, 0, 0, 1], 0.5),  # test_weighted_rank_1
    ([[1, 1], [0, 0]], [[0.98, 1], [0, 0.6]], [[1, 0], [0, 1]], 0.5),  # test_weighted_nd_weights
    ([[1, 1], [0, 0]], [[0.98, 1], [0, 0.6]], [[1, 0]], 1.0),  # test_weighted_nd_broadcast_weights
], ids=["unweighted", "broadcast", "weighted", "weighted_rank_1", "weighted_nd_weights",
        "weighted_nd_broadcast_weights"])
def test_binary_accuracy(y_true, y_pred, sample_weight, expected):
    metric = BinaryAccuracy(name="binary_accuracy", dtype="float32")
    metric.update_state(np.array(y_true), np.array(y_pred),
                        sample_weight=None if sample_weight is None else np.array(sample_weight))
    close(metric.result(), expected)


def test_binary_accuracy_threshold():
    low, high = BinaryAccuracy(threshold=0.3), BinaryAccuracy(threshold=0.9)
    y_true, y_pred = np.array([[1], [1], [0], [0]]), np.array([[0.98], [0.5], [0.1], [0.2]])
    low.update_state(y_true, y_pred)
    high.update_state(y_true, y_pred)
    close(low.result(), 1.0)  # a higher threshold must give a lower accuracy
    close(high.result(), 0.75)


# -- CategoricalAccuracyTest, TopKCategoricalAccuracyTest ------------------------------------------------------------
ONE_HOT = np.array([[0, 0, 1], [0, 1, 0]])
SCORES = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype="float32")


@pytest.mark.parametrize("metric", [CategoricalAccuracy(), TopKCategoricalAccuracy(k=1)], ids=["categorical", "top_k"])
@pytest.mark.parametrize("sample_weight, expected", [(None, 0.5), ([0.7, 0.3], 0.3)], ids=["unweighted", "weighted"])
def test_categorical_and_top_k(metric, sample_weight, expected):
    metric.reset_state()
    metric.update_state(ONE_HOT, SCORES, sample_weight=None if sample_weight is None else np.array(sample_weight))
    close(metric.result(), expected)


# -- SparseCategoricalAccuracyTest ------------------------------------------------------------------------------------
@pytest.mark.parametrize("y_true, y_pred, sample_weight, expected", [
    ([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], None, 0.5),  # test_unweighted
    ([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3], 0.3),  # test_weighted
    ([[0], [1], [2]], [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]], None, 1.0),  # test_squeeze_y_true
    (np.array([0, 1], dtype=np.int64), np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32), None,
     1.0),  # test_cast_y_pred_dtype
    (np.array([[0], [0]], dtype=np.int64), np.array([[[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]]], dtype=np.float32), None,
     [1.0, 1.0]),  # test_reshape_matches
    ([[0], [1], [2]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], None, 1.0),  # test_squeeze_y_true_shape
    (np.array([0, 1, 2], dtype=np.int32), np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]]), None,
     1.0),  # test_cast_y_pred_to_match_y_true_dtype
    ([[0], [1]], [[0.9, 0.1], [0.1, 0.9]], None, 1.0),  # test_reshape_matches_to_original_y_true_shape
    (np.array([2, 1, 0], dtype=np.int32),  # test_matching_shapes_without_squeeze
     np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32), None, 1.0),
], ids=["unweighted", "weighted", "squeeze_y_true", "cast_y_pred_dtype", "reshape_matches", "squeeze_y_true_shape",
        "cast_y_pred_to_match_y_true_dtype", "reshape_matches_to_original_y_true_shape",
        "matching_shapes_without_squeeze"])
def test_sparse_categorical_accuracy(y_true, y_pred, sample_weight, expected):
    metric = SparseCategoricalAccuracy(name="sparse_categorical_accuracy", dtype="float32")
    metric.update_state(np.array(y_true), np.array(y_pred),
                        sample_weight=None if sample_weight is None else np.array(sample_weight))
    close(metric.result(), expected, atol=1e-4)


# -- SparseTopKCategoricalAccuracyTest --------------------------------------------------------------------------------
@pytest.mark.parametrize("from_sorted_ids, y_pred", [
    (False, SCORES), (True, np.array([[1, 0, 3], [1, 2, 3]])),
], ids=["scores", "from_sorted_ids"])
@pytest.mark.parametrize("sample_weight, expected", [(None, 0.5), ([0.7, 0.3], 0.3)], ids=["unweighted", "weighted"])
def test_sparse_top_k(from_sorted_ids, y_pred, sample_weight, expected):
    metric = SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=from_sorted_ids)
    weights = None if sample_weight is None else np.array(sample_weight)
    metric.update_state(np.array([2, 1]), y_pred, sample_weight=weights)
    close(metric.result(), expected)


# -- the docstring examples of keras/src/metrics/accuracy_metrics.py, and the state over several batches --------------
def test_docstring_examples_and_reset():
    m = CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    close(m.result(), 0.5)
    m.reset_state()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    close(m.result(), 0.3)
    m = BinaryAccuracy()  # two batches: the mean over their 6 samples, not the mean of the batches' means
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])  # 3 of 4
    m.update_state([[1], [0]], [[0.2], [0.1]])  # 1 of 2
    close(m.result(), 4 / 6, atol=1e-6)


def test_top_k_counts_ties_and_k_beyond_the_classes():
    # Keras's in_top_k: a label whose score equals the k-th largest counts as in the top k
    close(rnnkit.metrics.sparse_top_k_categorical_accuracy([0, 1], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], k=1), [1, 1])
    close(rnnkit.metrics.top_k_categorical_accuracy(ONE_HOT, SCORES, k=5), [1, 1])


@pytest.mark.parametrize("name, cls", [
    ("binary_accuracy", BinaryAccuracy), ("categorical_accuracy", CategoricalAccuracy),
    ("sparse_categorical_accuracy", SparseCategoricalAccuracy), ("top_k_categorical_accuracy", TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", SparseTopKCategoricalAccuracy), ("accuracy", Accuracy),
    ("SparseCategoricalAccuracy", SparseCategoricalAccuracy),
])
def test_get_by_keras_name(name, cls):
    metric = rnnkit.metrics.get(name)
    assert type(metric) is cls and metric._direction == "up"
