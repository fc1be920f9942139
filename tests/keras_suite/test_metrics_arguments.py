"""Bad arguments to the threshold, F-score and R2 metrics: Keras's ValueError wording (what was expected
and received), plus how to fix it, pinned here so the messages do not rot."""

import numpy as np
import pytest

import rnnkit.metrics as M


@pytest.mark.parametrize("make, message", [
    (lambda: M.AUC(num_thresholds=1), r"`num_thresholds` must be an integer > 1. Received: num_thresholds=1\. "
                                      r"Pass e\.g\. num_thresholds=200"),
    (lambda: M.AUC(num_thresholds=2.5), r"integer > 1\. Received: num_thresholds=2\.5"),
    (lambda: M.AUC(curve="roc_curve"), r"Invalid AUC curve value: 'roc_curve'\. Expected values are "
                                       r"\['PR', 'PRGAIN', 'ROC'\]; pass e\.g\. curve=\"PR\""),
    (lambda: M.AUC(curve="Roc"), r"Invalid AUC curve value: 'Roc'"),
    (lambda: M.AUC(summation_method="trapezoid"), r"Invalid AUC summation_method value: 'trapezoid'\. Expected "
                                                  r"values are \['interpolation', 'majoring', 'minoring'\]"),
    (lambda: M.AUC(num_labels=3), r"`num_labels` is needed only when `multi_label` is True\. Received "
                                  r"num_labels=3 with multi_label=False: pass multi_label=True"),
    (lambda: M.Precision(thresholds=[0.5, 1.5]), r"Threshold values must be in \[0, 1\]\. Received: \[1\.5\] in "
                                                 r"thresholds=\[0\.5, 1\.5\]\. Pass a number or a list"),
    (lambda: M.Recall(thresholds="0.5"), r"Threshold values must be in \[0, 1\]\. Received: \['0\.5'\]"),
    (lambda: M.TruePositives(thresholds=-0.1), r"Threshold values must be in \[0, 1\]\. Received: \[-0\.1\]"),
    (lambda: M.Precision(top_k=0), r"Expected `top_k` to be None or an integer >= 1, received top_k=0\. Pass "
                                   r"e\.g\. top_k=2, or leave it out"),
    (lambda: M.Recall(class_id=-1), r"Expected `class_id` to be None or an integer >= 0, received class_id=-1"),
    (lambda: M.FBetaScore(average="mean"), r"Invalid `average` argument value\. Expected one of: \{None, 'micro', "
                                           r"'macro', 'weighted'\}\. Received: average='mean'\. Pass e\.g\."),
    (lambda: M.FBetaScore(beta=2), r"It should be a Python float\. Received: beta=2 of type 'int'\. Write e\.g\. "
                                   r"beta=2\.0"),
    (lambda: M.FBetaScore(beta=-1.0), r"It should be > 0\. Received: beta=-1\.0"),
    (lambda: M.F1Score(threshold=1), r"`threshold` argument value\. It should be a Python float\. Received: "
                                     r"threshold=1 of type 'int'"),
    (lambda: M.F1Score(threshold=1.5), r"It should verify 0 < threshold <= 1\. Received: threshold=1\.5"),
    (lambda: M.R2Score(class_aggregation="mean"),
     r"Expected one of \(None, 'uniform_average', 'variance_weighted_average'\)\. Received: class_aggregation='mean'"),
    (lambda: M.R2Score(num_regressors=-1), r"`num_regressors`\. Expected a value >= 0\. Received: num_regressors=-1"),
], ids=["auc-num_thresholds", "auc-num_thresholds-float", "auc-curve", "auc-curve-spelling", "auc-summation",
        "auc-num_labels", "precision-thresholds", "recall-thresholds-string", "true_positives-negative",
        "precision-top_k", "recall-class_id", "fbeta-average", "fbeta-beta-int", "fbeta-beta-negative",
        "f1-threshold-int", "f1-threshold-range", "r2-aggregation", "r2-num_regressors"])
def test_bad_arguments_are_refused_with_what_to_do(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shapes_the_metric_cannot_read():
    sequence = np.zeros((2, 5, 3), "float32")
    with pytest.raises(ValueError, match=r"`y_pred` must have rank 2 when `multi_label=True`\. Found rank 3.*"
                                         r"or use multi_label=False"):
        M.AUC(multi_label=True).update_state(sequence, sequence)
    with pytest.raises(ValueError, match=r"FBetaScore expects 2D inputs.*y_pred.shape=\(2, 5, 3\).*reshape to "
                                         r"\(batch \* time_steps, classes\)"):
        M.F1Score().update_state(sequence, sequence)
    with pytest.raises(ValueError, match=r"R2Score expects 2D inputs.*reshape to \(batch \* time_steps, outputs\)"):
        M.R2Score().update_state(sequence, sequence)
    with pytest.raises(ValueError, match=r"When class_id is provided, y_pred must be a 2D array.*found shape: "
                                         r"\(4,\)"):
        M.Precision(class_id=1).update_state(np.ones(4), np.ones(4))


def test_a_state_vector_of_another_size_is_refused():
    auc = M.AUC(num_thresholds=10)
    with pytest.raises(ValueError, match=r"AUC \('auc'\) has 40 state values, received a vector of 3\."):
        auc.load_state_vector(np.zeros(3))


def test_multi_label_auc_builds_on_its_first_batch_or_from_num_labels():
    auc = M.AUC(multi_label=True)
    assert auc.variables == [] and float(auc.result()) == 0.0
    auc.update_state(np.eye(3)[[0, 1, 2, 0]], np.random.default_rng(0).random((4, 3)))
    assert [tuple(v.shape) for v in auc.variables] == [(200, 3)] * 4
    assert [tuple(v.shape) for v in M.AUC(multi_label=True, num_labels=2, num_thresholds=5).variables] == [(5, 2)] * 4
