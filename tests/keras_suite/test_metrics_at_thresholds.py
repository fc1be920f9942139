"""SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall and RecallAtPrecision, ported
from Keras 3's keras/src/metrics/confusion_metrics_test.py (github.com/keras-team/keras): their four
TestCases (43 cases with test_weighted's three label dtypes), with the same predictions, labels, weights and
expected values, compared as Keras's assertAlmostEqual does (7 decimal places). ops.one_hot and
ops.transpose become numpy's eye and .T. Beyond Keras's cases: a non-integer num_thresholds is refused too.
"""

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Sequential
from rnnkit.metrics import (Precision, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
                            SpecificityAtSensitivity)

CLASSES = {"sensitivity_at_specificity": (SensitivityAtSpecificity, "specificity"),
           "specificity_at_sensitivity": (SpecificityAtSensitivity, "sensitivity"),
           "precision_at_recall": (PrecisionAtRecall, "recall"),
           "recall_at_precision": (RecallAtPrecision, "precision")}
LABEL_DTYPES = {"bool": torch.bool, "int32": torch.int32, "float32": torch.float32}


def almost_equal(result, expected):
    assert round(float(result) - expected, 7) == 0, f"{float(result)} != {expected} within 7 places"


# -- test_config, test_unweighted_all_correct, test_invalid_*, test_invalid_num_thresholds of each TestCase -----------
@pytest.mark.parametrize("name", CLASSES)
def test_config(name):
    cls, argument = CLASSES[name]
    s_obj = cls(0.4, num_thresholds=100, class_id=12, name=f"{name}_1")
    for obj in (s_obj, cls.from_config(s_obj.get_config())):  # and after saving and restoring the config
        assert obj.name == f"{name}_1" and len(obj.variables) == 4
        assert getattr(obj, argument) == 0.4 and obj.num_thresholds == 100 and obj.class_id == 12


@pytest.mark.parametrize("name", CLASSES)
def test_unweighted_all_correct(name):
    s_obj = CLASSES[name][0](0.7)
    inputs = np.random.randint(0, 2, size=(100, 1))
    almost_equal(s_obj(np.array(inputs), np.array(inputs, dtype="float32")), 1)


@pytest.mark.parametrize("name", CLASSES)
def test_invalid_value(name):  # test_invalid_specificity, test_invalid_sensitivity (twice, by name)
    cls, argument = CLASSES[name]
    with pytest.raises(ValueError, match=rf"`{argument}` must be in the range \[0, 1\]."):
        cls(-1)


@pytest.mark.parametrize("name", CLASSES)
def test_invalid_num_thresholds(name):
    with pytest.raises(ValueError, match="Argument `num_thresholds` must be an integer > 0"):
        CLASSES[name][0](0.4, num_thresholds=-1)


@pytest.mark.parametrize("name", CLASSES)
def test_num_thresholds_must_be_an_integer(name):  # rnnkit's: Keras fails later, in range()
    with pytest.raises(ValueError, match=r"integer > 0. Received: num_thresholds=2.5"):
        CLASSES[name][0](0.4, num_thresholds=2.5)


# -- the cases with data --------------------------------------------------------------------------------------------
LOW = [0.0, 0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.25, 0.26, 0.26]
RECALL_PRED = [0.0, 0.1, 0.2, 0.5, 0.6, 0.2, 0.5, 0.6, 0.8, 0.9]
PRECISION_PRED = [0.05, 0.1, 0.2, 0.3, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.9, 0.95]
PRECISION_LABELS = [0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1]
HALF = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("metric, pred, labels, expected", [
    (SensitivityAtSpecificity(0.8), [0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.45, 0.5, 0.8, 0.9], HALF, 0.8),
    (SensitivityAtSpecificity(0.4), LOW, HALF, 0.6),
    (SpecificityAtSensitivity(1.0), LOW, HALF, 0.2),
    (SpecificityAtSensitivity(0.4), LOW, HALF, 0.6),
    (PrecisionAtRecall(0.8), RECALL_PRED, HALF, 2.0 / 3),  # for 0.5 < decision threshold < 0.6
    (PrecisionAtRecall(0.6), RECALL_PRED, HALF, 0.75),  # for 0.2 < decision threshold < 0.5
    (RecallAtPrecision(0.75), PRECISION_PRED, PRECISION_LABELS, 0.5),  # reached at 0.4 <= t < 0.45
    (RecallAtPrecision(2.0 / 3), PRECISION_PRED, PRECISION_LABELS, 5.0 / 6),  # 5/7 reached at 0.3 <= t < 0.35
    (RecallAtPrecision(2.0 / 3), [0.1, 0.2, 0.3, 0.9], [1, 1, 0, 0], 0.0),  # best precision 1/2: no recall
], ids=["sas-high_specificity", "sas-low_specificity", "spas-high_sensitivity", "spas-low_sensitivity",
        "par-high_recall", "par-low_recall", "rap-high_precision", "rap-low_precision", "rap-unachievable_precision"])
def test_unweighted(metric, pred, labels, expected):
    almost_equal(metric(np.array(labels), np.array(pred, dtype="float32")), expected)


@pytest.mark.parametrize("metric, pred, labels, expected", [
    (SpecificityAtSensitivity(0.4, class_id=2), LOW, HALF, 0.6),  # SensitivityAtSpecificityTest's case: this class
    (SpecificityAtSensitivity(0.4, class_id=2), LOW, HALF, 0.6),
    (PrecisionAtRecall(0.6, class_id=2), RECALL_PRED, HALF, 0.75),
    (RecallAtPrecision(2.0 / 3, class_id=2), PRECISION_PRED, PRECISION_LABELS, 5.0 / 6),
], ids=["sas", "spas", "par", "rap"])
def test_unweighted_class_id(metric, pred, labels, expected):
    y_pred = np.array([pred] * 3).T  # the same scores for the 3 classes
    y_true = np.eye(3)[2 * np.array(labels)]  # the positives are class 2
    almost_equal(metric(y_true, y_pred), expected)


@pytest.mark.parametrize("label_dtype", LABEL_DTYPES)
@pytest.mark.parametrize("metric, pred, labels, weights, expected", [
    (SensitivityAtSpecificity(0.4), LOW, HALF, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.675),
    (SpecificityAtSensitivity(0.4), LOW, HALF, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.4),
    (PrecisionAtRecall(7.0 / 8), RECALL_PRED, HALF, [2, 1, 2, 1, 2, 1, 2, 2, 1, 2], 0.7),  # 0 < threshold < 0.2
    (RecallAtPrecision(0.75), [0.1, 0.2, 0.3, 0.5, 0.6, 0.9, 0.9], [0, 1, 0, 0, 0, 1, 1], [1, 2, 1, 2, 1, 2, 1], 0.6),
], ids=["sas", "spas", "par", "rap"])
def test_weighted(metric, pred, labels, weights, expected, label_dtype):
    metric.reset_state()
    y_true = torch.tensor(labels).to(LABEL_DTYPES[label_dtype])
    result = metric(y_true, np.array(pred, dtype="float32"), sample_weight=np.array(weights))
    almost_equal(result, expected)


# -- test_handles_sas_metrics (SensitivityAtSpecificityTest), test_end_to_end (RecallAtPrecisionTest) ------------------
def test_handles_sas_metrics():  # Keras's issue 19376: a named SpecificityAtSensitivity in compile
    model = Sequential([Input((1,)), Dense(1)])
    model.compile(optimizer="adam", loss="crossentropy", metrics=[SpecificityAtSensitivity(0.5, name="sas")])
    history = model.fit(np.ones((5, 1)), np.ones((5, 1)), verbose=0)
    # no negative labels: no threshold has specificity > 0, so the best specificity is 0 whatever the outputs
    assert history.history["sas"] == [0.0]


def test_end_to_end():  # Keras's issue 718: Precision in compile and fit
    model = Sequential([Input((1,)), Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=[Precision()])
    history = model.fit(np.ones((5, 1)), np.ones((5, 1)), verbose=0)
    assert set(history.history) == {"loss", "precision"} and 0.0 <= history.history["precision"][0] <= 1.0
