"""A checkpoint keeps each compiled metric with its arguments (io/compile_state.py): a metric the name alone
rebuilds is stored by name, any other as Keras serializes it ({"class_name", "config"}), so after
rnnkit.load the metrics have the same configs and evaluate logs the same names and values. Before,
only names were stored: TopKCategoricalAccuracy(k=3) came back with k=5, AUC(curve="PR") as a ROC AUC,
and a renamed metric made the model load uncompiled.
"""

import numpy as np

import rnnkit.metrics as M
from rnnkit import LSTM, Dense, Input, Model, Sequential, load
from rnnkit.io import checkpoint


def _classifier(metrics, weighted_metrics=None):
    model = Sequential([Input((4, 2)), LSTM(3), Dense(5, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=metrics,
                  weighted_metrics=weighted_metrics)
    return model


def _data(n=12):
    rng = np.random.default_rng(0)
    return rng.random((n, 4, 2)).astype("float32"), np.eye(5, dtype="float32")[rng.integers(0, 5, n)], \
        rng.uniform(0, 2, n).astype("float32")


def _configs(model):
    return [(name, type(metric).__name__, metric.get_config()) for metric, name in model.metric_fns]


def _saved_and_loaded(model, tmp_path):
    """The model saved and loaded, and its evaluate logs after: the configs and the logs equal those before."""
    x, y, w = _data()
    before = model.evaluate(x, y, sample_weight=w, batch_size=5, return_dict=True)
    model.save(tmp_path / "m.rnnkit")
    restored = load(tmp_path / "m.rnnkit")
    assert _configs(restored) == _configs(model)
    after = restored.evaluate(x, y, sample_weight=w, batch_size=5, return_dict=True)
    assert set(after) == set(before)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-6, err_msg=name)
    return restored, after


def test_metric_arguments_survive_save_and_load(tmp_path):
    metrics = [M.TopKCategoricalAccuracy(k=3), M.AUC(num_thresholds=50, curve="PR", summation_method="minoring"),
               M.Precision(thresholds=[0.3, 0.6], name="p"), M.F1Score(average="macro", threshold=0.4), "auc",
               "acc", M.AUC(multi_label=True, label_weights=[1, 2, 0, 1, 1], name="ml_auc")]
    weighted = [M.Recall(top_k=2, class_id=1), "precision", M.MeanAbsoluteError(name="my_mae")]
    restored, after = _saved_and_loaded(_classifier(metrics, weighted), tmp_path)
    restored_k = next(m for m, n in restored.metric_fns if n == "top_k_categorical_accuracy")
    assert restored_k.k == 3


def test_iou_rate_at_rate_and_correlation_metrics_survive_save_and_load(tmp_path):
    """Keras's IoU family, the rate-at-rate metrics and the correlations keep their arguments (num_classes,
    target_class_ids, ignore_class, sparse flags, dtype, threshold, num_thresholds, class_id, axis)."""
    metrics = [M.OneHotIoU(num_classes=5, target_class_ids=[0, 3]), M.OneHotMeanIoU(num_classes=5, dtype="float32"),
               M.MeanIoU(num_classes=5, sparse_y_true=False, sparse_y_pred=False, ignore_class=4, name="miou"),
               M.IoU(num_classes=5, target_class_ids=[2], sparse_y_true=False, sparse_y_pred=False),
               M.BinaryIoU(target_class_ids=[1], threshold=0.2), "binary_io_u",
               M.PrecisionAtRecall(0.3, num_thresholds=11, class_id=2), M.SpecificityAtSensitivity(0.6, class_id=0),
               M.PearsonCorrelation(), M.ConcordanceCorrelation(axis=-1, name="ccc")]
    weighted = [M.RecallAtPrecision(0.2, num_thresholds=5), M.SensitivityAtSpecificity(0.1, name="sas"),
                M.OneHotMeanIoU(num_classes=5, name="w_miou"), "pearson_correlation"]
    _, after = _saved_and_loaded(_classifier(metrics, weighted), tmp_path)
    assert {"one_hot_io_u", "miou", "precision_at_recall", "ccc", "w_miou"} <= set(after)
    header = _header(tmp_path / "m.rnnkit")
    assert header["compile"]["metrics"][5] == "binary_io_u"  # the name alone rebuilds it
    assert header["compile"]["metrics"][0] == {"class_name": "OneHotIoU", "config": {
        "num_classes": 5, "target_class_ids": [0, 3], "name": "one_hot_io_u", "dtype": "int32",
        "ignore_class": None, "sparse_y_pred": False, "axis": -1}}


def test_names_stay_names_and_arguments_become_configs(tmp_path):
    """The header: what a name rebuilds stays a name (old checkpoints read the same); the rest a config."""
    model = _classifier(["auc", "acc", M.AUC(), M.TopKCategoricalAccuracy(k=2), M.CategoricalAccuracy(name="ca")])
    model.save(tmp_path / "m.rnnkit")
    stored = load(tmp_path / "m.rnnkit")
    names = [n for _, n in stored.metric_fns]
    assert names == ["auc", "acc", "auc_1", "top_k_categorical_accuracy", "ca"]
    header = _header(tmp_path / "m.rnnkit")
    assert header["compile"]["metrics"] == [
        "auc", "acc", "auc", {"class_name": "TopKCategoricalAccuracy", "config": {
            "name": "top_k_categorical_accuracy", "dtype": "float32", "k": 2}},
        {"class_name": "CategoricalAccuracy", "config": {"name": "ca", "dtype": "float32"}}]


def test_a_multi_output_model_keeps_metric_arguments(tmp_path):
    inputs = Input((4, 2))
    hidden = LSTM(3)(inputs)
    model = Model(inputs, [Dense(1, activation="sigmoid", name="flag")(hidden), Dense(2, name="value")(hidden)])
    model.compile(optimizer="adam", loss={"flag": "binary_crossentropy", "value": "mse"},
                  metrics={"flag": [M.AUC(curve="PR"), M.Precision(thresholds=0.7)],
                           "value": [M.R2Score(class_aggregation="variance_weighted_average")]})
    rng = np.random.default_rng(1)
    x = rng.random((10, 4, 2)).astype("float32")
    y = {"flag": (rng.random((10, 1)) > 0.5).astype("float32"), "value": rng.random((10, 2)).astype("float32")}
    before = model.evaluate(x, y, batch_size=4, return_dict=True)
    model.save(tmp_path / "m.rnnkit")
    restored = load(tmp_path / "m.rnnkit")
    assert _configs(restored) == _configs(model)
    after = restored.evaluate(x, y, batch_size=4, return_dict=True)
    assert set(after) == set(before) and {"flag_auc", "flag_precision", "value_r2_score"} <= set(after)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-6, err_msg=name)


def _header(path) -> dict:
    header, _ = checkpoint.read(path)
    return header
