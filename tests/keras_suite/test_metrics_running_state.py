"""Metrics whose state is a sum over batches (AUC, Precision, Recall, the confusion counts, F1Score,
FBetaScore, R2Score) in fit, evaluate and the batch methods: as Keras keeps them, the epoch's value is
the metric of all the epoch's samples (not a mean of batch values), under Keras's log names, weighted
only in weighted_metrics, with the running value in each batch's logs, and the metric object holds the
last state it logged. The Keras numbers themselves are pinned in test_metric_goldens.py; here rnnkit's
loops are checked against its metric classes run on the whole data at once.
"""

import numpy as np
import pytest

import rnnkit.metrics as M
from rnnkit import LSTM, Activation, Dense, Input, Sequential, optimizers
from rnnkit.callbacks import EarlyStopping, LambdaCallback


def _data(n=22, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4, 2)).astype("float32")
    y = (rng.random((n, 1)) < 0.5).astype("float32")
    y[:2] = [[0.0], [1.0]]
    return x, y, rng.uniform(0.1, 2.0, n).astype("float32")


def _classifier(metrics, weighted_metrics=None, learning_rate=0.0):
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=metrics, weighted_metrics=weighted_metrics)
    return model


def _whole(metric, y, p, w=None):
    """The metric of all samples in one update: what an epoch's running state must equal."""
    metric.reset_state()
    metric.update_state(y, p, sample_weight=w)
    value = np.asarray(metric.result())
    metric.reset_state()
    return value


def test_epoch_value_is_the_metric_of_all_samples_not_a_mean_of_batches():
    x, y, _ = _data()
    model = _classifier(["auc", "precision", "recall", M.AUC(curve="PR", name="pr_auc"), "f1_score"])
    p = model.predict(x, batch_size=22)
    expected = {"auc": _whole(M.AUC(), y, p), "precision": _whole(M.Precision(), y, p),
                "recall": _whole(M.Recall(), y, p), "pr_auc": _whole(M.AUC(curve="PR"), y, p),
                "f1_score": _whole(M.F1Score(), y, p)}
    batch_aucs = [_whole(M.AUC(), y[i:i + 8], p[i:i + 8]) for i in (0, 8, 16)]
    assert abs(np.average(batch_aucs, weights=[8, 8, 6]) - expected["auc"]) > 0.05  # the two readings differ here
    logs = model.evaluate(x, y, batch_size=8, return_dict=True)
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(history.history[name], [value, value], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(history.history[f"val_{name}"], [value, value], rtol=1e-6, err_msg=name)
    assert np.shape(logs["f1_score"]) == (1,)  # average=None: one value per class, as Keras logs it


def test_sample_weight_reaches_weighted_metrics_only():
    x, y, w = _data()
    model = _classifier(["auc", M.TruePositives(thresholds=[0.3, 0.5])], weighted_metrics=["auc", "r2_score"])
    p = model.predict(x, batch_size=22)
    logs = model.evaluate(x, y, sample_weight=w, batch_size=5, return_dict=True)
    np.testing.assert_allclose(logs["auc"], _whole(M.AUC(), y, p), rtol=1e-6)
    np.testing.assert_allclose(logs["true_positives"], _whole(M.TruePositives(thresholds=[0.3, 0.5]), y, p))
    np.testing.assert_allclose(logs["weighted_auc"], _whole(M.AUC(), y, p, w), rtol=1e-6)
    # R2 near 0 is 1 - (a ratio near 1): one float32 step at 1.0 (the batches' sums are added in another order)
    np.testing.assert_allclose(logs["r2_score"], _whole(M.R2Score(), y, p, w), rtol=1e-6, atol=2.0 ** -23)
    assert abs(logs["weighted_auc"] - logs["auc"]) > 1e-4


def test_each_batch_logs_the_running_value_and_the_batch_methods_one_batch():
    x, y, _ = _data()
    model = _classifier(["auc"])
    p = model.predict(x, batch_size=22)
    seen = []
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["auc"]))])
    np.testing.assert_allclose(seen, [_whole(M.AUC(), y[:n], p[:n]) for n in (8, 16, 22)], rtol=1e-6)
    assert model.test_on_batch(x[8:16], y[8:16], return_dict=True)["auc"] == \
        pytest.approx(float(_whole(M.AUC(), y[8:16], p[8:16])), rel=1e-6)
    assert model.train_on_batch(x[:8], y[:8], return_dict=True)["auc"] == \
        pytest.approx(float(_whole(M.AUC(), y[:8], p[:8])), rel=1e-6)


def test_the_compiled_metric_keeps_the_state_it_logged():
    """As in Keras: after evaluate the metric object's result() is the logged value (its state is the
    evaluation's), and reset_state() empties it."""
    x, y, _ = _data()
    auc = M.AUC(num_thresholds=50)
    model = _classifier([auc])
    logs = model.evaluate(x, y, batch_size=8, return_dict=True)
    assert float(auc.result()) == pytest.approx(logs["auc"], rel=1e-7)
    auc.reset_state()
    assert float(auc.result()) == 0.0


def test_a_generator_evaluates_the_same_running_state():
    x, y, _ = _data()
    model = _classifier([M.Recall(thresholds=[0.4, 0.6]), "false_positives"])
    p = model.predict(x, batch_size=22)

    def batches():
        while True:
            for i in (0, 8, 16):
                yield x[i:i + 8], y[i:i + 8]

    logs = model.evaluate(batches(), steps=3, return_dict=True)
    np.testing.assert_allclose(logs["recall"], _whole(M.Recall(thresholds=[0.4, 0.6]), y, p), rtol=1e-6)
    assert logs["false_positives"] == float(_whole(M.FalsePositives(), y, p))


def test_sequence_outputs_pool_every_time_step():
    """A return_sequences classifier: AUC and Precision count each (sample, step) as one decision."""
    rng = np.random.default_rng(3)
    x, y = rng.random((9, 5, 2)).astype("float32"), (rng.random((9, 5, 1)) < 0.5).astype("float32")
    model = Sequential([Input((5, 2)), LSTM(3, return_sequences=True), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["auc", "precision"])
    p = model.predict(x, batch_size=9)
    logs = model.evaluate(x, y, batch_size=4, return_dict=True)
    np.testing.assert_allclose(logs["auc"], _whole(M.AUC(), y, p), rtol=1e-6)
    np.testing.assert_allclose(logs["precision"], _whole(M.Precision(), y, p), rtol=1e-6)


@pytest.mark.parametrize("monitor, bigger_is_better", [
    ("val_auc", True), ("val_precision", True), ("val_recall", True), ("val_f1_score", True),
    ("val_r2_score", True), ("val_hinge", False), ("val_poisson", False), ("val_true_positives", None),
])
def test_early_stopping_reads_the_direction_of_the_new_metrics(monitor, bigger_is_better):
    x, y, _ = _data()
    model = _classifier(["auc", "precision", "recall", M.F1Score(average="micro"), "r2_score", "hinge", "poisson",
                         "true_positives"], learning_rate=0.01)
    stopper = EarlyStopping(monitor=monitor, patience=5)
    if bigger_is_better is None:  # Keras gives the counts no direction: mode must be said
        with pytest.raises(ValueError, match="isn't able to automatically determine"):
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y), callbacks=[stopper])
        return
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y), callbacks=[stopper])
    assert stopper.monitor_op(1, 0) is bigger_is_better


def test_vector_values_print_in_the_epoch_line(capsys):
    x, y, _ = _data()
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[M.Precision(thresholds=[0.3, 0.7])])
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=2)
    value = history.history["precision"][0]
    assert np.shape(value) == (2,)
    assert f"precision [{value[0]:.4g} {value[1]:.4g}]" in capsys.readouterr().out


def test_an_identity_model_logs_the_metric_of_its_inputs():
    """With predictions = inputs, evaluate's values are the metric classes' on the data (a check that
    needs no LSTM; test_metric_goldens compares the same model with Keras)."""
    rng = np.random.default_rng(4)
    p, y = rng.random((11, 3)).astype("float32"), (rng.random((11, 3)) < 0.5).astype("float32")
    model = Sequential([Input((3,)), Activation("linear")])
    model.compile(loss="mse", metrics=[M.AUC(multi_label=True), M.FBetaScore(beta=2.0, threshold=0.5)])
    logs = model.evaluate(p, y, batch_size=4, return_dict=True)
    np.testing.assert_allclose(logs["auc"], _whole(M.AUC(multi_label=True), y, p), rtol=1e-6)
    np.testing.assert_allclose(logs["fbeta_score"], _whole(M.FBetaScore(beta=2.0, threshold=0.5), y, p), rtol=1e-6)


def test_fit_reports_the_rate_at_rate_and_iou_metrics_of_the_epoch():
    """PrecisionAtRecall and the other rate-at-rate metrics and the IoU family are sums over the epoch (their
    counts and confusion matrix): fit's epoch value and validation value are each metric of all the samples,
    weighted only in weighted_metrics (BinaryIoU's int32 counts truncate the fractional weights, as Keras's)."""
    x, y, w = _data()
    metrics = {"precision_at_recall": M.PrecisionAtRecall(0.5), "sas": M.SensitivityAtSpecificity(0.6, name="sas"),
               "binary_io_u": M.BinaryIoU(threshold=0.4)}
    weighted = {"w_rap": M.RecallAtPrecision(0.4, name="w_rap"), "w_biou": M.BinaryIoU(name="w_biou"),
                "w_biou_f32": M.BinaryIoU(target_class_ids=[1], dtype="float32", name="w_biou_f32")}
    model = _classifier(list(metrics.values()), weighted_metrics=list(weighted.values()))
    p = model.predict(x, batch_size=22)
    history = model.fit(x, y, sample_weight=w, batch_size=8, epochs=1, shuffle=False, verbose=0,
                        validation_data=(x, y, w))
    for name, metric in {**metrics, **weighted}.items():
        expected = _whole(type(metric).from_config(metric.get_config()), y, p, w if name in weighted else None)
        np.testing.assert_allclose(history.history[name], [expected], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(history.history[f"val_{name}"], [expected], rtol=1e-6, err_msg=name)
    batch_values = [_whole(M.PrecisionAtRecall(0.5), y[i:i + 8], p[i:i + 8]) for i in (0, 8, 16)]
    assert abs(np.average(batch_values, weights=[8, 8, 6]) - history.history["precision_at_recall"][0]) > 1e-3
