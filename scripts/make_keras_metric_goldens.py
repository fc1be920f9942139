"""Generate tests/fixtures/keras_metrics.npz/.json with Keras 3: every metric class and name rnnkit has,
run by Keras on fixed batches (tests/keras_suite/test_metric_goldens.py only reads the files).

Inputs (.npz, "data/<kind>/<batch>/<y_true|y_pred|sample_weight>"): a few kinds of batches (binary
probabilities, multi-label, one-hot, sparse ids, regression, counts, sequences with per-step weights),
three batches per kind of uneven size. Each case (.json "cases") makes a metric (a class with keyword
arguments, or a name through compile's resolution, keras.src.trainers.compile_utils.get_metric), runs
its steps ("u1": update_state with batch 1, "w1": the same with its sample_weight, "reset":
reset_state) and records result() after every update, plus the metric's get_config() and the way it
improves (_direction). "names" maps each name Keras's metrics.get takes to its class, "names_refused"
each name of a class that needs arguments to the exception Keras's metrics.get raises; "evaluate" holds
Keras's model.evaluate logs of an identity model (predictions = the inputs) compiled with metrics and
weighted_metrics, batch_size 8: the epoch's running state and its log names; "evaluate_refused" the
exception Keras's evaluate raises for a metric compile cannot use (Sum).

Run: KERAS_BACKEND=jax python scripts/make_keras_metric_goldens.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.metrics import ALL_OBJECTS_DICT  # noqa: E402
from keras.src.trainers.compile_utils import get_metric  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
SIZES = (8, 8, 5)  # three batches, the last smaller
STEPS = ["u0", "w1", "u2", "reset", "w2", "w0"]

# The classes rnnkit has: all of Keras 3.15.1's metrics.
CLASSES = ["Mean", "Sum", "MeanMetricWrapper", "MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity", "LogCoshError",
           "R2Score", "AUC", "FalseNegatives", "FalsePositives", "Precision", "Recall", "TrueNegatives",
           "TruePositives", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Accuracy",
           "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "F1Score", "FBetaScore", "PearsonCorrelation", "ConcordanceCorrelation",
           "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity", "IoU",
           "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]
# The arguments of each class's default case, where it needs some.
DEFAULT_KWARGS = {
    "MeanMetricWrapper": {"fn": "mean_squared_error"}, "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.6}, "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5}, "IoU": {"num_classes": 3, "target_class_ids": [0, 2]},
    "MeanIoU": {"num_classes": 3}, "OneHotIoU": {"num_classes": 4, "target_class_ids": [0, 3]},
    "OneHotMeanIoU": {"num_classes": 4},
}
# Names rnnkit takes beyond Keras's (Keras 3 refuses them): the Keras class they stand for.
RNNKIT_NAMES = {"rmse": "RootMeanSquaredError", "RMSE": "RootMeanSquaredError", "logcosh": "LogCoshError"}
COMPILE_NAMES = ["accuracy", "acc", "ACC"]  # compile's shape-chosen accuracy (compile_utils.get_metric)
# The kind of batches a class (or a name for it) is run on by default.
DEFAULT_KIND = {
    "Mean": "values", "MeanMetricWrapper": "regression", "MeanSquaredError": "regression",
    "RootMeanSquaredError": "regression", "MeanAbsoluteError": "regression", "MeanAbsolutePercentageError": "positive",
    "MeanSquaredLogarithmicError": "positive", "CosineSimilarity": "regression", "LogCoshError": "regression",
    "R2Score": "regression", "AUC": "binary", "FalseNegatives": "binary", "FalsePositives": "binary",
    "Precision": "binary", "Recall": "binary", "TrueNegatives": "binary", "TruePositives": "binary",
    "Hinge": "binary", "SquaredHinge": "binary", "CategoricalHinge": "onehot", "KLDivergence": "probabilities",
    "Poisson": "positive", "BinaryCrossentropy": "binary", "CategoricalCrossentropy": "onehot",
    "SparseCategoricalCrossentropy": "sparse", "Accuracy": "integers", "BinaryAccuracy": "binary",
    "CategoricalAccuracy": "onehot", "SparseCategoricalAccuracy": "sparse", "TopKCategoricalAccuracy": "onehot",
    "SparseTopKCategoricalAccuracy": "sparse", "F1Score": "onehot", "FBetaScore": "onehot", "Sum": "values",
    "PearsonCorrelation": "regression", "ConcordanceCorrelation": "regression", "PrecisionAtRecall": "binary",
    "RecallAtPrecision": "binary", "SensitivityAtSpecificity": "binary", "SpecificityAtSensitivity": "binary",
    "IoU": "class_ids", "BinaryIoU": "binary", "MeanIoU": "class_ids", "OneHotIoU": "onehot", "OneHotMeanIoU": "onehot",
}

# (case id, class, keyword arguments, kind): beyond each class's default case (id = class name)
CASES = [
    ("Mean-sequence", "Mean", {}, "sequence_values"),
    ("MeanSquaredError-sequence", "MeanSquaredError", {}, "sequence"),
    ("RootMeanSquaredError-sequence", "RootMeanSquaredError", {}, "sequence"),
    ("MeanAbsoluteError-sequence", "MeanAbsoluteError", {}, "sequence"),
    ("CosineSimilarity-sequence", "CosineSimilarity", {}, "sequence"),
    ("R2Score-raw", "R2Score", dict(class_aggregation=None), "regression"),
    ("R2Score-variance_weighted", "R2Score", dict(class_aggregation="variance_weighted_average"), "regression"),
    ("R2Score-adjusted", "R2Score", dict(num_regressors=2), "regression"),
    ("R2Score-one_output", "R2Score", {}, "binary"),
    ("AUC-pr", "AUC", dict(curve="PR"), "binary"),
    ("AUC-roc-minoring", "AUC", dict(summation_method="minoring"), "binary"),
    ("AUC-roc-majoring", "AUC", dict(summation_method="majoring"), "binary"),
    ("AUC-pr-minoring", "AUC", dict(curve="PR", summation_method="minoring"), "binary"),
    ("AUC-pr-majoring", "AUC", dict(curve="PR", summation_method="majoring"), "binary"),
    ("AUC-prgain", "AUC", dict(curve="PRGAIN"), "binary"),
    ("AUC-7_thresholds", "AUC", dict(num_thresholds=7), "binary"),
    ("AUC-pr-7_thresholds", "AUC", dict(num_thresholds=7, curve="PR"), "binary"),
    ("AUC-thresholds", "AUC", dict(thresholds=[0.1, 0.5, 0.9]), "binary"),
    ("AUC-even_thresholds", "AUC", dict(thresholds=[0.25, 0.5, 0.75], curve="PR"), "binary"),
    ("AUC-logits", "AUC", dict(from_logits=True), "binary_logits"),
    ("AUC-pooled", "AUC", {}, "multilabel"),
    ("AUC-pooled-label_weights", "AUC", dict(label_weights=[0.2, 1.0, 0.5]), "multilabel"),
    ("AUC-multi_label", "AUC", dict(multi_label=True), "multilabel"),
    ("AUC-multi_label-pr", "AUC", dict(multi_label=True, curve="PR", num_labels=3), "multilabel"),
    ("AUC-multi_label-label_weights", "AUC", dict(multi_label=True, label_weights=[0.2, 1.0, 0.5]), "multilabel"),
    ("AUC-multi_label-thresholds", "AUC", dict(multi_label=True, thresholds=[0.2, 0.4, 0.9]), "multilabel"),
    ("AUC-sequence", "AUC", {}, "sequence_binary"),
    ("Precision-thresholds", "Precision", dict(thresholds=[0.3, 0.5, 0.8]), "binary"),
    ("Precision-even_thresholds", "Precision", dict(thresholds=[0.0, 0.5, 1.0]), "binary"),
    ("Precision-top_k", "Precision", dict(top_k=2), "multilabel"),
    ("Precision-class_id", "Precision", dict(class_id=1), "multilabel"),
    ("Precision-top_k-class_id", "Precision", dict(top_k=2, class_id=2, thresholds=0.3), "multilabel"),
    ("Precision-sequence", "Precision", {}, "sequence_binary"),
    ("Precision-top_k-ties", "Precision", dict(top_k=1), "multilabel_ties"),
    ("Precision-top_k2-ties", "Precision", dict(top_k=2, thresholds=[0.2, 0.6]), "multilabel_ties"),
    ("Recall-thresholds", "Recall", dict(thresholds=[0.3, 0.5, 0.8]), "binary"),
    ("Recall-even_thresholds", "Recall", dict(thresholds=[0.0, 0.5, 1.0]), "binary"),
    ("Recall-top_k", "Recall", dict(top_k=2), "multilabel"),
    ("Recall-class_id", "Recall", dict(class_id=0), "multilabel"),
    ("Recall-sequence", "Recall", {}, "sequence_binary"),
    ("Recall-top_k-ties", "Recall", dict(top_k=2), "multilabel_ties"),
    ("TruePositives-thresholds", "TruePositives", dict(thresholds=[0.15, 0.5, 0.85]), "binary"),
    ("TrueNegatives-even_thresholds", "TrueNegatives", dict(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), "binary"),
    ("FalsePositives-multilabel", "FalsePositives", {}, "multilabel"),
    ("FalseNegatives-thresholds", "FalseNegatives", dict(thresholds=[0.3, 0.6]), "multilabel"),
    ("Hinge-signed", "Hinge", {}, "signed"),
    ("SquaredHinge-signed", "SquaredHinge", {}, "signed"),
    ("BinaryCrossentropy-logits", "BinaryCrossentropy", dict(from_logits=True), "binary_logits"),
    ("BinaryCrossentropy-smoothing", "BinaryCrossentropy", dict(label_smoothing=0.1), "multilabel"),
    ("CategoricalCrossentropy-logits", "CategoricalCrossentropy", dict(from_logits=True), "onehot_logits"),
    ("CategoricalCrossentropy-smoothing", "CategoricalCrossentropy", dict(label_smoothing=0.2), "onehot"),
    ("SparseCategoricalCrossentropy-logits", "SparseCategoricalCrossentropy", dict(from_logits=True),
     "sparse_logits"),
    ("SparseCategoricalCrossentropy-sequence", "SparseCategoricalCrossentropy", {}, "sequence_sparse"),
    ("SparseCategoricalCrossentropy-ignore_class", "SparseCategoricalCrossentropy", dict(ignore_class=0), "sparse"),
    ("SparseCategoricalCrossentropy-ignore_class-sequence", "SparseCategoricalCrossentropy", dict(ignore_class=0),
     "sequence_sparse"),
    ("SparseCategoricalCrossentropy-ignore_class-logits", "SparseCategoricalCrossentropy",
     dict(ignore_class=2, from_logits=True), "sparse_logits"),
    ("BinaryAccuracy-sequence", "BinaryAccuracy", {}, "sequence_binary"),
    ("BinaryAccuracy-threshold", "BinaryAccuracy", dict(threshold=0.7), "multilabel"),
    ("CategoricalAccuracy-sequence", "CategoricalAccuracy", {}, "sequence_onehot"),
    ("SparseCategoricalAccuracy-column", "SparseCategoricalAccuracy", {}, "sparse_column"),
    ("SparseCategoricalAccuracy-sequence", "SparseCategoricalAccuracy", {}, "sequence_sparse"),
    ("TopKCategoricalAccuracy-k2", "TopKCategoricalAccuracy", dict(k=2), "onehot"),
    ("TopKCategoricalAccuracy-ties", "TopKCategoricalAccuracy", dict(k=2), "ties"),
    ("SparseTopKCategoricalAccuracy-ties", "SparseTopKCategoricalAccuracy", dict(k=1), "sparse_ties"),
    ("CategoricalAccuracy-ties", "CategoricalAccuracy", {}, "ties"),
    ("SparseCategoricalAccuracy-ties", "SparseCategoricalAccuracy", {}, "sparse_ties"),
    ("F1Score-ties", "F1Score", dict(average="micro"), "ties"),
    ("SparseTopKCategoricalAccuracy-k2", "SparseTopKCategoricalAccuracy", dict(k=2), "sparse"),
    ("SparseTopKCategoricalAccuracy-sorted_ids", "SparseTopKCategoricalAccuracy", dict(k=2, from_sorted_ids=True),
     "sorted_ids"),
    ("F1Score-micro", "F1Score", dict(average="micro"), "onehot"),
    ("F1Score-macro", "F1Score", dict(average="macro"), "onehot"),
    ("F1Score-weighted", "F1Score", dict(average="weighted"), "onehot"),
    ("F1Score-threshold", "F1Score", dict(average="macro", threshold=0.5), "multilabel"),
    ("FBetaScore-beta2", "FBetaScore", dict(beta=2.0, average="weighted"), "multilabel"),
    ("FBetaScore-beta_half", "FBetaScore", dict(beta=0.5, threshold=0.3), "multilabel"),
    ("Sum-sequence", "Sum", {}, "sequence_values"),
    ("PearsonCorrelation-sequence", "PearsonCorrelation", {}, "sequence"),
    ("PearsonCorrelation-axis1", "PearsonCorrelation", dict(axis=1), "positive"),
    ("ConcordanceCorrelation-sequence", "ConcordanceCorrelation", {}, "sequence"),
    ("ConcordanceCorrelation-positive", "ConcordanceCorrelation", {}, "positive"),
    ("PrecisionAtRecall-high", "PrecisionAtRecall", dict(recall=0.9), "binary"),
    ("PrecisionAtRecall-7_thresholds", "PrecisionAtRecall", dict(recall=0.4, num_thresholds=7), "binary"),
    ("PrecisionAtRecall-class_id", "PrecisionAtRecall", dict(recall=0.5, class_id=1), "multilabel"),
    ("RecallAtPrecision-unreachable", "RecallAtPrecision", dict(precision=1.0), "binary"),
    ("RecallAtPrecision-1_threshold", "RecallAtPrecision", dict(precision=0.5, num_thresholds=1), "binary"),
    ("RecallAtPrecision-pooled", "RecallAtPrecision", dict(precision=0.5), "multilabel"),
    ("SensitivityAtSpecificity-2_thresholds", "SensitivityAtSpecificity", dict(specificity=0.0, num_thresholds=2),
     "binary"),
    ("SensitivityAtSpecificity-sequence", "SensitivityAtSpecificity", dict(specificity=0.8), "sequence_binary"),
    ("SensitivityAtSpecificity-class_id", "SensitivityAtSpecificity", dict(specificity=0.3, class_id=2), "multilabel"),
    ("SpecificityAtSensitivity-7_thresholds", "SpecificityAtSensitivity", dict(sensitivity=0.8, num_thresholds=7),
     "binary"),
    ("SpecificityAtSensitivity-sequence", "SpecificityAtSensitivity", dict(sensitivity=0.3), "sequence_binary"),
    ("IoU-float32", "IoU", dict(num_classes=3, target_class_ids=[1], dtype="float32"), "class_ids"),
    ("MeanIoU-integers", "MeanIoU", dict(num_classes=3), "integers"),
    ("IoU-segmentation", "IoU", dict(num_classes=3, target_class_ids=[0, 1, 2], ignore_class=255), "segmentation"),
    ("IoU-segmentation-float32", "IoU", dict(num_classes=3, target_class_ids=[2, 0], ignore_class=-1,
                                             dtype="float32"), "segmentation"),
    ("MeanIoU-segmentation", "MeanIoU", dict(num_classes=3, ignore_class=255), "segmentation"),
    ("MeanIoU-segmentation-float32", "MeanIoU", dict(num_classes=3, dtype="float32"), "segmentation"),
    ("MeanIoU-scores", "MeanIoU", dict(num_classes=4, sparse_y_pred=False), "sparse"),
    ("MeanIoU-dense", "MeanIoU", dict(num_classes=4, sparse_y_true=False, sparse_y_pred=False, dtype="float32"),
     "onehot"),
    ("BinaryIoU-threshold", "BinaryIoU", dict(target_class_ids=[1], threshold=0.3, dtype="float32"), "binary"),
    ("BinaryIoU-sequence", "BinaryIoU", dict(target_class_ids=[0]), "sequence_binary"),
    ("OneHotIoU-float32", "OneHotIoU", dict(num_classes=4, target_class_ids=[1, 2], dtype="float32"), "onehot"),
    ("OneHotIoU-ties", "OneHotIoU", dict(num_classes=4, target_class_ids=[0, 1, 2, 3]), "ties"),
    ("OneHotMeanIoU-sequence", "OneHotMeanIoU", dict(num_classes=4, dtype="float32"), "sequence_onehot"),
    ("OneHotMeanIoU-ties", "OneHotMeanIoU", dict(num_classes=4, dtype="float32"), "ties"),
]

# model.evaluate of an identity model: (id, kind, loss, metrics, weighted_metrics); a dict is a class spec
EVALUATE = [
    ("binary", "binary", "binary_crossentropy",
     ["AUC", "auc", "precision", "recall", "binary_accuracy", "acc", {"class": "AUC", "kwargs": {"curve": "PR"}},
      {"class": "Precision", "kwargs": {"thresholds": [0.3, 0.7]}}, "TruePositives", "false_negatives", "f1_score",
      "r2_score", "hinge", "poisson", "mse"],
     ["auc", "precision", "recall", {"class": "AUC", "kwargs": {"name": "pr_auc", "curve": "PR"}}, "f1_score",
      "r2_score", "accuracy", "mse"]),
    ("multilabel", "multilabel", "binary_crossentropy",
     [{"class": "AUC", "kwargs": {"multi_label": True}}, {"class": "Recall", "kwargs": {"top_k": 2}},
      {"class": "F1Score", "kwargs": {"average": "macro", "threshold": 0.5}}, "squared_hinge"],
     [{"class": "AUC", "kwargs": {"multi_label": True, "name": "auc_ml"}},
      {"class": "FBetaScore", "kwargs": {"beta": 2.0, "average": "micro", "threshold": 0.5}}]),
    ("onehot", "onehot", "categorical_crossentropy",
     ["accuracy", "auc", "categorical_hinge", {"class": "F1Score", "kwargs": {"average": "weighted"}},
      {"class": "TopKCategoricalAccuracy", "kwargs": {"k": 2}}],
     ["auc", "categorical_accuracy", {"class": "F1Score", "kwargs": {"average": "macro"}}]),
    ("regression", "regression", "mse",
     ["r2_score", "rmse_as_class", "mae", "cosine_similarity",
      {"class": "R2Score", "kwargs": {"class_aggregation": "variance_weighted_average", "name": "r2_vw"}}],
     ["R2Score", "root_mean_squared_error", "log_cosh_error"]),
    ("correlations", "regression", "mse", ["pearson_correlation", "ConcordanceCorrelation"],
     ["pearson_correlation", {"class": "ConcordanceCorrelation", "kwargs": {"name": "w_ccc"}}]),
    ("correlations-sequence", "sequence", "mse", [{"class": "PearsonCorrelation", "kwargs": {}}],
     [{"class": "ConcordanceCorrelation", "kwargs": {}}]),
    ("at_rates", "binary", "binary_crossentropy",
     [{"class": "PrecisionAtRecall", "kwargs": {"recall": 0.5}},
      {"class": "RecallAtPrecision", "kwargs": {"precision": 0.6}},
      {"class": "SensitivityAtSpecificity", "kwargs": {"specificity": 0.5}},
      {"class": "SpecificityAtSensitivity", "kwargs": {"sensitivity": 0.5, "num_thresholds": 7}}],
     [{"class": "PrecisionAtRecall", "kwargs": {"recall": 0.5, "name": "w_par"}},
      {"class": "SensitivityAtSpecificity", "kwargs": {"specificity": 0.7, "name": "w_sas"}}]),
    ("at_rates-class_id", "multilabel", "binary_crossentropy",
     [{"class": "RecallAtPrecision", "kwargs": {"precision": 0.5, "class_id": 1}}],
     [{"class": "SpecificityAtSensitivity", "kwargs": {"sensitivity": 0.6, "class_id": 2, "name": "w_sas"}}]),
    ("iou-class_ids", "class_ids", "mse",
     [{"class": "IoU", "kwargs": {"num_classes": 3, "target_class_ids": [0, 2]}},
      {"class": "MeanIoU", "kwargs": {"num_classes": 3}},
      {"class": "IoU", "kwargs": {"num_classes": 3, "target_class_ids": [1], "dtype": "float32", "name": "iou_f32"}}],
     [{"class": "MeanIoU", "kwargs": {"num_classes": 3, "name": "w_miou"}},
      {"class": "MeanIoU", "kwargs": {"num_classes": 3, "dtype": "float32", "name": "w_miou_f32"}}]),
    ("iou-segmentation", "segmentation", "mse",
     [{"class": "MeanIoU", "kwargs": {"num_classes": 3, "ignore_class": 255}},
      {"class": "IoU", "kwargs": {"num_classes": 3, "target_class_ids": [2], "ignore_class": -1, "dtype": "float32"}}],
     [{"class": "MeanIoU", "kwargs": {"num_classes": 3, "ignore_class": 255, "dtype": "float32", "name": "w_miou"}}]),
    ("iou-onehot", "onehot", "categorical_crossentropy",
     [{"class": "OneHotIoU", "kwargs": {"num_classes": 4, "target_class_ids": [0, 3]}},
      {"class": "OneHotMeanIoU", "kwargs": {"num_classes": 4}},
      {"class": "MeanIoU", "kwargs": {"num_classes": 4, "sparse_y_true": False, "sparse_y_pred": False,
                                      "name": "dense_miou"}}],
     [{"class": "OneHotMeanIoU", "kwargs": {"num_classes": 4, "dtype": "float32", "name": "w_ohmiou"}}]),
    ("iou-binary", "binary", "binary_crossentropy", ["binary_io_u"],
     [{"class": "BinaryIoU", "kwargs": {"threshold": 0.3, "dtype": "float32", "name": "w_biou"}}]),
]
# model.evaluate that Keras refuses: (id, kind, loss, metrics, weighted_metrics)
EVALUATE_REFUSED = [
    ("sum", "regression", "mse", ["sum"], []),
    ("sum-weighted", "regression", "mse", [], [{"class": "Sum", "kwargs": {}}]),
]


def batches() -> dict[str, list[tuple]]:
    """kind -> [(y_true, y_pred, sample_weight)] * 3."""
    rng = np.random.default_rng(11)
    u = lambda *s: rng.uniform(0.0, 1.0, s).astype("float32")  # noqa: E731
    f = lambda *s: rng.standard_normal(s).astype("float32")  # noqa: E731
    w = lambda *s: np.round(rng.uniform(0.0, 2.0, s), 3).astype("float32")  # noqa: E731
    out: dict[str, list] = {k: [] for k in ("values", "sequence_values", "regression", "positive", "sequence",
                                            "binary", "binary_logits", "multilabel", "sequence_binary", "signed",
                                            "onehot", "onehot_logits", "probabilities", "sequence_onehot", "sparse",
                                            "sparse_column", "sparse_logits", "sequence_sparse", "sorted_ids",
                                            "integers", "ties", "sparse_ties", "multilabel_ties", "segmentation",
                                            "class_ids")}
    ties_rng = np.random.default_rng(12)  # its own stream, so adding these kept the other arrays
    ids_rng = np.random.default_rng(13)  # the same for the IoU kinds
    for n in SIZES:
        # segmentation maps of 5 pixels (n, 5, 1): labels 0-2 with void pixels (255, -1), predicted ids 0-3 (3 is out of
        # range for 3 classes), weights per pixel in [0, 3) (an int32 IoU truncates them to 0, 1, 2)
        seg_true = ids_rng.integers(0, 3, (n, 5))
        seg_true[ids_rng.random((n, 5)) < 0.15] = 255
        seg_true[ids_rng.random((n, 5)) < 0.1] = -1
        seg_pred = np.where(ids_rng.random((n, 5)) < 0.6, np.clip(seg_true, 0, 2), ids_rng.integers(0, 4, (n, 5)))
        out["segmentation"].append((seg_true[..., None].astype("float32"), seg_pred[..., None].astype("float32"),
                                    np.round(ids_rng.uniform(0.0, 3.0, (n, 5)), 3).astype("float32")))
        class_ids = ids_rng.integers(0, 3, (n, 1))  # ids 0-2 predicted right 60% of the time, else 0-3
        out["class_ids"].append((class_ids.astype("float32"), np.where(
            ids_rng.random((n, 1)) < 0.6, class_ids, ids_rng.integers(0, 4, (n, 1))).astype("float32"),
            np.round(ids_rng.uniform(0.0, 3.0, n), 3).astype("float32")))
        # scores on a grid of 1/4: equal scores in most rows, where top_k and argmax must pick as Keras does
        tied = (np.round(ties_rng.uniform(0, 1, (n, 4)) * 4) / 4).astype("float32")
        tied_ids = ties_rng.integers(0, 4, n)
        tied_w = np.round(ties_rng.uniform(0.0, 2.0, n), 3).astype("float32")
        out["ties"].append((np.eye(4, dtype="float32")[tied_ids], tied, tied_w))
        out["sparse_ties"].append((tied_ids.astype("int64"), tied, tied_w))
        out["multilabel_ties"].append(((ties_rng.random((n, 4)) < 0.4).astype("float32"), tied, tied_w))
        # predictions on bucket edges: exactly 0, 1 and thresholds (0.5, i / 199, i / 6)
        edges = np.array([0.0, 1.0, 0.5, 3 / 199, 100 / 199, 1 / 6, 5 / 6, 0.3], dtype="float32")
        binary_pred = u(n, 1)
        binary_pred[: min(n, 4), 0] = edges[rng.permutation(len(edges))[: min(n, 4)]]
        labels = (rng.random((n, 1)) < 0.5).astype("float32")
        labels[0, 0], labels[1, 0] = 1.0, 0.0  # both classes in every batch
        multi_pred = u(n, 3)
        multi_pred[0] = [0.0, 1.0, 0.5]
        multi_labels = (rng.random((n, 3)) < 0.4).astype("float32")
        ids = rng.integers(0, 4, n)
        probs = np.exp(f(n, 4) * 1.5)
        probs = (probs / probs.sum(-1, keepdims=True)).astype("float32")
        seq_ids = rng.integers(0, 4, (n, 5))
        seq_probs = np.exp(f(n, 5, 4))
        seq_probs = (seq_probs / seq_probs.sum(-1, keepdims=True)).astype("float32")
        integers = rng.integers(0, 3, (n, 1))
        out["values"].append((None, f(n), w(n)))
        out["sequence_values"].append((None, f(n, 5), w(n, 5)))
        out["regression"].append((f(n, 3), f(n, 3), w(n)))
        out["positive"].append((rng.poisson(2.0, (n, 3)).astype("float32") + u(n, 3) * 0.1,
                                u(n, 3) * 3 + 0.05, w(n)))
        out["sequence"].append((f(n, 5, 3), f(n, 5, 3), w(n, 5)))
        out["binary"].append((labels, binary_pred, w(n)))
        out["binary_logits"].append((labels, f(n, 1) * 3, w(n)))
        out["multilabel"].append((multi_labels, multi_pred, w(n)))
        out["sequence_binary"].append(((rng.random((n, 5, 1)) < 0.5).astype("float32"), u(n, 5, 1), w(n, 5)))
        out["signed"].append((np.where(rng.random((n, 3)) < 0.5, -1.0, 1.0).astype("float32"), f(n, 3), w(n)))
        out["onehot"].append((np.eye(4, dtype="float32")[ids], probs, w(n)))
        out["onehot_logits"].append((np.eye(4, dtype="float32")[ids], f(n, 4) * 2, w(n)))
        out["probabilities"].append((probs[::-1].copy(), probs, w(n)))
        out["sequence_onehot"].append((np.eye(4, dtype="float32")[seq_ids], seq_probs, w(n, 5)))
        out["sparse"].append((ids.astype("int64"), probs, w(n)))
        out["sparse_column"].append((ids[:, None].astype("int64"), probs, w(n)))
        out["sparse_logits"].append((ids.astype("int64"), f(n, 4) * 2, w(n)))
        out["sequence_sparse"].append((seq_ids.astype("int64"), seq_probs, w(n, 5)))
        out["sorted_ids"].append((ids.astype("int64"), np.argsort(-probs, axis=-1).astype("int64"), w(n)))
        out["integers"].append((integers.astype("float32"),
                                np.where(rng.random((n, 1)) < 0.6, integers, 3).astype("float32"), w(n)))
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "shape"):  # an array (AUC keeps label_weights as one)
        return np.asarray(value).tolist()
    return value


def _result(metric):
    value = np.asarray(metric.result(), dtype="float64")
    return float(value) if value.ndim == 0 else value.tolist()


def _make(spec: dict, first_batch):
    """A Keras metric from a case's spec: a class with kwargs, or a name through compile's get_metric."""
    keras.backend.clear_session()  # default names without Keras's _1, _2 suffixes
    if "name" in spec:
        y_true, y_pred, _ = first_batch
        name = spec.get("keras_class", spec["name"])
        return get_metric(name, y_true if y_true is not None else y_pred, y_pred)
    kwargs = dict(spec["kwargs"])
    if spec["class"] == "MeanMetricWrapper":
        kwargs["fn"] = getattr(keras.metrics, kwargs["fn"])
    return getattr(keras.metrics, spec["class"])(**kwargs)


def run_case(spec: dict, data: list) -> dict:
    metric = _make(spec, data[0])
    results = []
    for step in STEPS:
        if step == "reset":
            metric.reset_state()
            continue
        y_true, y_pred, weight = data[int(step[1])]
        weight = weight if step[0] == "w" else None
        if y_true is None:  # Mean: values and weights
            metric.update_state(y_pred, sample_weight=weight)
        else:
            metric.update_state(y_true, y_pred, sample_weight=weight)
        results.append(_result(metric))
    config = _jsonable(metric.get_config())
    config.pop("fn", None)  # MeanMetricWrapper's serialized function
    return {**spec, "results": results, "config": config, "direction": getattr(metric, "_direction", None),
            "name_of_metric": metric.name}


def _keras_metric(entry):
    if isinstance(entry, dict):
        return getattr(keras.metrics, entry["class"])(**entry["kwargs"])
    if entry == "rmse_as_class":
        return keras.metrics.RootMeanSquaredError(name="rmse")
    return entry


def evaluate_case(kind: str, loss: str, metrics: list, weighted: list, data: list) -> dict:
    keras.backend.clear_session()
    y_true = np.concatenate([b[0] for b in data])
    y_pred = np.concatenate([b[1] for b in data])
    weight = np.concatenate([b[2] for b in data])
    model = keras.Sequential([keras.Input(y_pred.shape[1:]), keras.layers.Identity()])
    model.compile(loss=loss, metrics=[_keras_metric(m) for m in metrics],
                  weighted_metrics=[_keras_metric(m) for m in weighted])
    logs = model.evaluate(y_pred, y_true, sample_weight=weight, batch_size=SIZES[0], return_dict=True, verbose=0)
    return {k: (float(v) if np.ndim(v) == 0 else np.asarray(v, dtype="float64").tolist()) for k, v in logs.items()}


def main() -> None:
    data = batches()
    arrays = {}
    for kind, items in data.items():
        for b, (y_true, y_pred, weight) in enumerate(items):
            if y_true is not None:
                arrays[f"data/{kind}/{b}/y_true"] = y_true
            arrays[f"data/{kind}/{b}/y_pred"] = y_pred
            arrays[f"data/{kind}/{b}/sample_weight"] = weight
    specs = [{"id": c, "class": c, "kwargs": DEFAULT_KWARGS.get(c, {}), "kind": DEFAULT_KIND[c]} for c in CLASSES]
    specs += [{"id": i, "class": c, "kwargs": kw, "kind": k} for i, c, kw, k in CASES]
    names, refused = {}, {}
    for n, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ not in CLASSES or cls.__name__ == "MeanMetricWrapper":
            continue
        try:
            keras.metrics.get(n)
            names[n] = cls.__name__
        except Exception as e:  # a class that needs arguments
            refused[n] = type(e).__name__
    for name, cls in sorted(names.items()):
        specs.append({"id": f"name:{name}", "name": name, "kind": DEFAULT_KIND[cls]})
    for name, cls in RNNKIT_NAMES.items():  # Keras's class, under the name rnnkit takes
        specs.append({"id": f"name:{name}", "name": name, "keras_class": cls, "kind": DEFAULT_KIND[cls]})
    for name in COMPILE_NAMES:
        for kind in ("binary", "sparse", "onehot", "sparse_column", "sequence_sparse"):
            specs.append({"id": f"name:{name}-{kind}", "name": name, "kind": kind})
    cases = [run_case(spec, data[spec["kind"]]) for spec in specs]
    evaluate = [{"id": i, "kind": k, "loss": loss, "metrics": m, "weighted_metrics": wm,
                 "logs": evaluate_case(k, loss, m, wm, data[k])} for i, k, loss, m, wm in EVALUATE]
    evaluate_refused = []
    for i, k, loss, m, wm in EVALUATE_REFUSED:
        try:
            evaluate_case(k, loss, m, wm, data[k])
            raise AssertionError(f"Keras evaluated {i}: move it to EVALUATE")
        except (TypeError, ValueError) as e:
            evaluate_refused.append({"id": i, "kind": k, "loss": loss, "metrics": m, "weighted_metrics": wm,
                                     "error": type(e).__name__, "message": str(e)})
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(), "steps": STEPS, "sizes": SIZES,
            "cases": cases, "names": {**names, **RNNKIT_NAMES}, "names_refused": refused, "evaluate": evaluate,
            "evaluate_refused": evaluate_refused}
    np.savez_compressed(os.path.join(OUT, "keras_metrics.npz"), **arrays)
    with open(os.path.join(OUT, "keras_metrics.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{len(cases)} cases, {len(evaluate)} evaluate runs, {len(arrays)} arrays")


if __name__ == "__main__":
    main()
