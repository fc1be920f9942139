"""Keras's metrics (keras.metrics): stateful classes with update_state / result / reset_state, the
functions they average, and `get`, which resolves the names compile(metrics=[...]) accepts.

Means of per-sample values (accuracies, crossentropies, errors, hinge, Poisson, correlations) and
metrics kept as sums over batches (AUC, Precision, Recall, the true/false positive/negative counts,
PrecisionAtRecall and the other rate-at-rate metrics, F1Score, FBetaScore, R2Score, the IoU family):
fit and evaluate report both as Keras does, from every sample of the epoch. Sum, like Keras's, sums
values and cannot be compiled.

Names: every class by its name or its snake_case name ("RootMeanSquaredError",
"root_mean_squared_error") and Keras's short names "mse", "mae", "mape", "msle", "bce". Beyond Keras 3,
which refuses them, "rmse" and "logcosh" are accepted too. compile's "accuracy"/"acc" picks binary,
sparse or categorical accuracy from the shapes, as Keras 3 does. A class that needs arguments (IoU,
"mean_io_u", PrecisionAtRecall, ...) cannot be made from its name alone, as in Keras (a TypeError).

>>> m = RootMeanSquaredError()
>>> m.update_state([2, 4, 6], [1, 3, 2])
>>> round(float(m.result()), 4)  # sqrt((1 + 1 + 16) / 3)
2.4495
"""

from __future__ import annotations

import inspect
from typing import Callable

import torch

from .accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                               SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy_by_shape,
                               binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                               sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .auc import AUC
from .confusion_metrics import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .correlation_metrics import (ConcordanceCorrelation, PearsonCorrelation, concordance_correlation,
                                  pearson_correlation)
from .f_score_metrics import F1Score, FBetaScore
from .hinge_metrics import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from .iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic_metrics import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
                                    SparseCategoricalCrossentropy, binary_crossentropy, categorical_crossentropy,
                                    kl_divergence, poisson, sparse_categorical_crossentropy)
from .r2_score import R2Score
from .reduction import Mean, MeanMetricWrapper, Metric, Sum, _snake_case, weighted_batch_value
from .regression_metrics import (CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
                                 MeanSquaredError, MeanSquaredLogarithmicError, RootMeanSquaredError,
                                 cosine_similarity, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                                 mean_squared_error, mean_squared_logarithmic_error)
from .sensitivity_specificity import (PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
                                      SpecificityAtSensitivity)

__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "ConcordanceCorrelation", "CosineSimilarity", "F1Score",
    "FBetaScore", "FalseNegatives", "FalsePositives", "Hinge", "IoU", "KLDivergence", "LogCoshError", "Mean",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU", "MeanMetricWrapper", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Metric", "OneHotIoU", "OneHotMeanIoU", "PearsonCorrelation", "Poisson",
    "Precision", "PrecisionAtRecall", "R2Score", "Recall", "RecallAtPrecision", "RootMeanSquaredError",
    "SensitivityAtSpecificity", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity", "SquaredHinge", "Sum", "TopKCategoricalAccuracy",
    "TrueNegatives", "TruePositives", "binary_accuracy", "binary_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_hinge", "compile_metric", "concordance_correlation",
    "cosine_similarity", "deserialize", "get", "hinge", "kl_divergence", "log_cosh",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "pearson_correlation", "poisson", "serialize", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "squared_hinge", "top_k_categorical_accuracy",
]

_CLASSES = [Mean, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, KLDivergence, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, R2Score, AUC,
            FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives, Hinge, SquaredHinge,
            CategoricalHinge, Poisson, F1Score, FBetaScore, Sum, PearsonCorrelation, ConcordanceCorrelation,
            PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, IoU, BinaryIoU,
            MeanIoU, OneHotIoU, OneHotMeanIoU]
# Keras's ALL_OBJECTS_DICT: each class by its name and its snake_case name, then the short names.
NAMES: dict[str, type] = {**{c.__name__: c for c in _CLASSES}, **{_snake_case(c.__name__): c for c in _CLASSES}}
NAMES.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
              "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
              "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
              "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
              # rnnkit's additions: Keras 3 answers "Could not interpret metric identifier" to these
              "rmse": RootMeanSquaredError, "RMSE": RootMeanSquaredError, "logcosh": LogCoshError})

def serialize(metric: Metric) -> dict:
    """{"class_name": ..., "config": ...} of a metric, for `deserialize` or `get`."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict) -> Metric:
    """The metric `serialize` described."""
    cls = NAMES.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"Could not deserialize metric {config!r}: expected {{'class_name': one of "
                         f"{sorted(c.__name__ for c in _CLASSES)}, 'config': {{...}}}}.")
    return cls.from_config(config.get("config", {}))


def get(identifier) -> Metric | Callable:
    """A metric from a name, a serialized dict, a Metric class or instance, or a function (Keras's
    `metrics.get`): a class is instantiated, a function returned as it is.

    >>> get("rmse").name, get("SparseCategoricalAccuracy").name
    ('root_mean_squared_error', 'sparse_categorical_accuracy')
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    obj = NAMES.get(identifier) if isinstance(identifier, str) else identifier
    if inspect.isclass(obj) and issubclass(obj, Metric):
        needed = [p.name for p in inspect.signature(obj.__init__).parameters.values()
                  if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
        if needed:  # Keras's get fails too: "__init__() missing ... required positional argument(s)"
            raise TypeError(f"{obj.__name__} needs arguments ({', '.join(needed)}), so {identifier!r} alone cannot "
                            f"make it: pass rnnkit.metrics.{obj.__name__}("
                            f"{', '.join(n + '=...' for n in needed)}) instead.")
        return obj()
    if callable(obj):
        return obj
    hint = f" Known names: {sorted(NAMES)}" if isinstance(identifier, str) else ""
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}.{hint}; or pass a Metric (e.g. "
                     "rnnkit.metrics.RootMeanSquaredError()) or a function metric(y_true, y_pred).")


def _object_name(obj) -> str:
    """Keras's `get_object_name`: a `name` attribute, else `__name__`, else the snake_case class name."""
    if isinstance(getattr(obj, "name", None), str):
        return obj.name
    if hasattr(obj, "__name__"):
        return obj.__name__
    return _snake_case(type(obj).__name__)


def compile_metric(identifier) -> tuple[Metric, str]:
    """compile's metric and its name in the logs (Keras's `compile_utils.get_metric`).

    The name is the string given ("mse" logs "mse", "val_mse"), else the metric's name
    (RootMeanSquaredError() logs "root_mean_squared_error"), else the function's name. "accuracy"/"acc"
    choose their kind from the shapes at each batch. A function becomes the running mean of its values.

    >>> metric, name = compile_metric("acc")
    >>> name, float(metric.batch_value(torch.tensor([2, 0]), torch.tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])))
    ('acc', 1.0)
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`.")
    if str(identifier).lower() in ("accuracy", "acc"):
        metric = MeanMetricWrapper(accuracy_by_shape, name=str(identifier))
        metric._direction = "up"
    else:
        metric = get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, Metric):
        fn = metric
        if isinstance(fn, torch.nn.Module):  # torch losses take (input, target)
            metric = MeanMetricWrapper(lambda y_true, y_pred: fn(y_pred, y_true), name=name)
        else:
            metric = MeanMetricWrapper(fn, name=name)
    metric.name = name
    return metric, name
