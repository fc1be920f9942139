"""IoU metrics, ported from Keras 3's keras/src/metrics/iou_metrics_test.py (github.com/keras-team/keras):
IoUTest, BinaryIoUTest, MeanIoUTest, OneHotIoUTest and OneHotMeanIoUTest, with the same inputs, weights,
expected values and atol (1e-3). All 36 cases are ported; test_big_chunk sets the confusion matrix's
starting point on rnnkit's variable (total_cm) where Keras replaces its variable with add_variable.
Beyond Keras: the ValueErrors for bad arguments, and BinaryIoU's threshold compared with >=.
"""

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Sequential
from rnnkit.metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU


def close(result, expected, atol=1e-3):
    np.testing.assert_allclose(np.asarray(result), expected, atol=atol)


# -- IoUTest ---------------------------------------------------------------------------------------------------------
def test_iou_config():
    obj = IoU(num_classes=2, target_class_ids=[1, 0], name="iou_class_1_0")
    assert obj.name == "iou_class_1_0" and obj.num_classes == 2 and obj.target_class_ids == [1, 0]
    obj2 = IoU.from_config(obj.get_config())
    assert obj2.name == "iou_class_1_0" and obj2.num_classes == 2 and obj2.target_class_ids == [1, 0]


def test_iou_unweighted():
    obj = IoU(num_classes=2, target_class_ids=[0, 1])
    result = obj([0, 0, 1, 1], [0, 1, 0, 1])
    # cm = [[1, 1], [1, 1]]; sum_row = [2, 2], sum_col = [2, 2], true_positives = [1, 1]
    close(result, (1 / (2 + 2 - 1) + 1 / (2 + 2 - 1)) / 2)


def test_iou_weighted():
    y_pred = np.array([0, 1, 0, 1], dtype=np.float32)
    y_true = np.array([0, 0, 1, 1])
    sample_weight = np.array([0.2, 0.3, 0.4, 0.1])
    obj = IoU(num_classes=2, target_class_ids=[1, 0], dtype="float32")
    result = obj(y_true, y_pred, sample_weight=sample_weight)
    # cm = [[0.2, 0.3], [0.4, 0.1]]; sum_row = [0.6, 0.4], sum_col = [0.5, 0.5], true_positives = [0.2, 0.1]
    close(result, (0.1 / (0.4 + 0.5 - 0.1) + 0.2 / (0.6 + 0.5 - 0.2)) / 2)


def test_iou_multi_dim_input():
    y_pred = np.array([[0, 1], [0, 1]], dtype=np.float32)
    y_true = np.array([[0, 0], [1, 1]])
    sample_weight = np.array([[0.2, 0.3], [0.4, 0.1]])
    obj = IoU(num_classes=2, target_class_ids=[0, 1], dtype="float32")
    result = obj(y_true, y_pred, sample_weight=sample_weight)
    close(result, (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)


def test_iou_zero_valid_entries():
    close(IoU(num_classes=2, target_class_ids=[0, 1]).result(), 0)


def test_iou_zero_and_non_zero_entries():
    obj = IoU(num_classes=2, target_class_ids=[0, 1])
    result = obj(np.array([1]), np.array([1], dtype=np.float32))
    # cm = [[0, 0], [0, 1]]: class 0 absent, class 1's IoU 1 / (1 + 1 - 1)
    close(result, (1 / (1 + 1 - 1)) / 1)


@pytest.mark.parametrize("y_true, y_pred", [
    ([0, 2], [0, 1]),  # test_out_of_range_y_true_ignored: class 2 is out of range for 2 classes
    ([0, 1], [0, 2]),  # test_out_of_range_y_pred_ignored
    ([-1, 0], [0, 0]),  # test_negative_y_true_ignored
    ([0, 1], [-1, 1]),  # test_negative_y_pred_ignored
], ids=["out_of_range_y_true", "out_of_range_y_pred", "negative_y_true", "negative_y_pred"])
def test_iou_out_of_range_ids_ignored(y_true, y_pred):
    obj = IoU(num_classes=2, target_class_ids=[0, 1])
    obj.update_state(y_true, y_pred)
    close(obj.result(), 1.0)  # only the one in-range pair counts, and it is right


def test_iou_absent_class_contributes_zero():
    obj = IoU(num_classes=4, target_class_ids=[0, 1, 2, 3])
    result = obj([0, 0, 1, 1], [0, 1, 0, 1])
    # classes 2 and 3 are absent (denominator 0): they add 0 and are left out of the count
    close(result, (1 / (2 + 2 - 1) + 1 / (2 + 2 - 1)) / 2)


def test_compilation():
    m_obj = MeanIoU(num_classes=2, ignore_class=0)
    model = Sequential([Input((2,)), Dense(2, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="mse", metrics=[m_obj])
    history = model.fit(np.array([[1.0, 1.0]]), np.array([[1.0, 0.0]]), verbose=0)
    # labels [1, 0] with class 0 ignored; the softmax outputs (< 1) truncate to class 0: cm = [[0, 0], [1, 0]],
    # both classes occur and neither is right
    assert history.history["mean_io_u"] == [0.0]


# -- BinaryIoUTest ---------------------------------------------------------------------------------------------------
def test_binary_iou_config():
    obj = BinaryIoU(target_class_ids=[1, 0], threshold=0.1, name="iou_class_1_0")
    assert obj.name == "iou_class_1_0" and obj.threshold == pytest.approx(0.1) and obj.target_class_ids == [1, 0]
    obj2 = BinaryIoU.from_config(obj.get_config())
    assert obj2.name == "iou_class_1_0" and obj2.threshold == pytest.approx(0.1) and obj2.target_class_ids == [1, 0]


def test_binary_iou_different_thresholds_weighted():
    y_true, y_pred = [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]
    # threshold 0.3: y_pred [0, 0, 1, 1], cm = [[0.2, 0.4], [0.3, 0.1]]
    expected = (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2
    obj = BinaryIoU(target_class_ids=[0, 1], threshold=0.3, dtype="float32")
    close(obj(y_true, y_pred, sample_weight=np.array([0.2, 0.3, 0.4, 0.1])), expected)
    # threshold 0.5: y_pred [0, 0, 0, 1], cm = [[0.1 + 0.4, 0], [0.2, 0.3]]
    expected = (0.5 / (0.5 + 0.7 - 0.5) + 0.3 / (0.5 + 0.3 - 0.3)) / 2
    obj = BinaryIoU(target_class_ids=[0, 1], threshold=0.5, dtype="float32")
    close(obj(y_true, y_pred, sample_weight=np.array([0.1, 0.2, 0.4, 0.3])), expected)


def test_binary_iou_different_thresholds_unweighted():
    y_true, y_pred = [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]
    close(BinaryIoU(target_class_ids=[0, 1], threshold=0.3)(y_true, y_pred), (1 / 3 + 1 / 3) / 2)
    # threshold 0.5: cm = [[2, 0], [1, 1]]
    close(BinaryIoU(target_class_ids=[0, 1], threshold=0.5)(y_true, y_pred),
          (2 / (2 + 3 - 2) + 1 / (2 + 1 - 1)) / 2)


def test_binary_iou_multi_dim_input():
    y_true = np.array([[0, 1], [0, 1]], dtype=np.float32)
    y_pred = np.array([[0.1, 0.7], [0.9, 0.3]])  # threshold 0.4: [[0, 1], [1, 0]]
    sample_weight = np.array([[0.2, 0.3], [0.4, 0.1]])
    obj = BinaryIoU(target_class_ids=[0, 1], threshold=0.4, dtype="float32")
    close(obj(y_true, y_pred, sample_weight=sample_weight), (0.2 / (0.6 + 0.3 - 0.2) + 0.3 / (0.4 + 0.7 - 0.3)) / 2)


def test_binary_iou_zero_valid_entries():
    close(BinaryIoU(target_class_ids=[0, 1]).result(), 0)


def test_binary_iou_zero_and_non_zero_entries():
    obj = BinaryIoU(target_class_ids=[0, 1], threshold=0.5)
    close(obj(np.array([1]), np.array([0.6], dtype=np.float32)), 1 / (1 + 1 - 1))


# -- MeanIoUTest -----------------------------------------------------------------------------------------------------
def test_mean_iou_config():
    m_obj = MeanIoU(num_classes=2, name="mean_iou")
    assert m_obj.name == "mean_iou" and m_obj.num_classes == 2
    m_obj2 = MeanIoU.from_config(m_obj.get_config())
    assert m_obj2.name == "mean_iou" and m_obj2.num_classes == 2


def test_mean_iou_unweighted():
    close(MeanIoU(num_classes=2)([0, 0, 1, 1], [0, 1, 0, 1]), (1 / (2 + 2 - 1) + 1 / (2 + 2 - 1)) / 2)


@pytest.mark.parametrize("void", [255, -1], ids=["ignore_class_255", "ignore_class_1"])
def test_mean_iou_unweighted_ignore_class(void):
    m_obj = MeanIoU(num_classes=3, ignore_class=void)
    result = m_obj([0, 1, 2, void], [0, 1, 1, 1])
    # cm = [[1, 0, 0], [0, 1, 0], [0, 1, 0]]; sum_row = [1, 1, 1], sum_col = [1, 2, 0], true_positives = [1, 1, 0]
    close(result, (1 / (1 + 1 - 1) + 1 / (2 + 1 - 1) + 0 / (0 + 1 - 0)) / 3)


def test_mean_iou_weighted():
    m_obj = MeanIoU(num_classes=2, dtype="float32")
    result = m_obj(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1], dtype=np.float32),
                   sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))
    close(result, (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)


def test_mean_iou_weighted_ignore_class_1():
    m_obj = MeanIoU(num_classes=2, ignore_class=-1, dtype="float32")
    result = m_obj(np.array([0, 0, 1, -1]), np.array([0, 1, 0, 1], dtype=np.float32),
                   sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))
    # cm = [[0.2, 0.3], [0.4, 0.0]]
    close(result, (0.2 / (0.6 + 0.5 - 0.2) + 0.0 / (0.3 + 0.4 - 0.0)) / 2)


def test_mean_iou_multi_dim_input():
    m_obj = MeanIoU(num_classes=2, dtype="float32")
    result = m_obj(np.array([[0, 0], [1, 1]]), np.array([[0, 1], [0, 1]], dtype=np.float32),
                   sample_weight=np.array([[0.2, 0.3], [0.4, 0.1]]))
    close(result, (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)


def test_mean_iou_zero_valid_entries():
    close(MeanIoU(num_classes=2).result(), 0)


def test_mean_iou_zero_and_non_zero_entries():
    close(MeanIoU(num_classes=2)(np.array([1]), np.array([1], dtype=np.float32)), (0 + 1 / (1 + 1 - 1)) / 1)


@pytest.mark.parametrize("y_true", [[0, 3], [0, -1]], ids=["out_of_range_ignored", "negative_ignored"])
def test_mean_iou_out_of_range_ignored(y_true):
    m_obj = MeanIoU(num_classes=2)
    m_obj.update_state(y_true, [0, 1])
    close(m_obj.result(), 1.0)


def test_mean_iou_absent_class_contributes_zero():
    close(MeanIoU(num_classes=3)([0, 0, 0, 0], [0, 0, 0, 0]), 1.0)


def _big_chunk(dtype):
    np.random.seed(14)
    all_y_true = np.random.choice([0, 1, 2], size=(10, 530, 530))
    random_probs = np.random.rand(10, 530, 530, 3)
    all_y_pred = random_probs / random_probs.sum(axis=-1, keepdims=True)
    all_y_pred_arg = np.argmax(all_y_pred, axis=-1)
    metric = MeanIoU(num_classes=3, dtype=dtype)
    start = np.array([[18729664, 18728760, 18731196], [18727297, 18726105, 18728071],
                      [18727917, 18717835, 18723155]])
    metric.total_cm = torch.as_tensor(start).to(metric.total_cm.dtype)  # Keras's add_variable(initializer=start)
    metric.update_state(all_y_true, all_y_pred_arg)
    indices = np.reshape(all_y_true, -1) * 3 + np.reshape(all_y_pred_arg, -1)
    manual = np.bincount(indices, minlength=9).reshape(3, 3) + start
    return np.array(metric.total_cm), manual


def test_mean_iou_big_chunk():
    from_metric, manual = _big_chunk(dtype=None)  # int32 counts: exact
    assert np.array_equal(from_metric, manual), "Confusion matrices do not match!"
    from_metric, manual = _big_chunk(dtype="float32")  # counts past 2**24 lose their last bits
    assert not np.array_equal(from_metric, manual), "Confusion matrices match, but they should not!"


def test_user_warning_float_weight():
    m_obj = MeanIoU(num_classes=3)
    with pytest.warns(Warning, match=r"weight.*float.*int.*casting"):
        m_obj([0, 1, 1, 0], [0, 1, 1, 1], sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))


# -- OneHotIoUTest, OneHotMeanIoUTest ---------------------------------------------------------------------------------
ONE_HOT_TRUE = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])  # ids [2, 0, 1, 0]
ONE_HOT_PRED = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])  # ids [2, 2, 0, 2]


def test_one_hot_iou_unweighted():
    # cm = [[0, 0, 2], [1, 0, 0], [0, 0, 1]]; sum_row = [1, 0, 3], sum_col = [2, 1, 1], true_positives = [0, 0, 1]
    obj = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    close(obj(ONE_HOT_TRUE, ONE_HOT_PRED), (0 / (1 + 2 - 0) + 1 / (3 + 1 - 1)) / 2)


def test_one_hot_iou_weighted():
    obj = OneHotIoU(num_classes=3, target_class_ids=[0, 2], dtype="float32")
    result = obj(ONE_HOT_TRUE, ONE_HOT_PRED, sample_weight=[0.1, 0.2, 0.3, 0.4])
    # cm = [[0, 0, 0.2 + 0.4], [0.3, 0, 0], [0, 0, 0.1]]
    close(result, (0 / (0.3 + 0.6 - 0) + 0.1 / (0.7 + 0.1 - 0.1)) / 2)


def test_one_hot_mean_iou_unweighted():
    close(OneHotMeanIoU(num_classes=3)(ONE_HOT_TRUE, ONE_HOT_PRED), (0 + 0 + 1 / (3 + 1 - 1)) / 3)


def test_one_hot_mean_iou_weighted():
    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0]])  # [2, 0, 1, 0, 0]
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5],
                       [0.6, 0.2, 0.2]])  # [2, 2, 0, 2, 0]
    # cm = [[0.1, 0, 0.2 + 0.3], [0.3, 0, 0], [0, 0, 0.1]]
    expected = (0.1 / (0.4 + 0.6 - 0.1) + 0 + 0.1 / (0.6 + 0.1 - 0.1)) / 3
    obj = OneHotMeanIoU(num_classes=3, dtype="float32")
    close(obj(y_true, y_pred, sample_weight=[0.1, 0.2, 0.3, 0.3, 0.1]), expected)
    # the same with int weights, in the default int32 counts
    close(OneHotMeanIoU(num_classes=3)(y_true, y_pred, sample_weight=[1, 2, 3, 3, 1]), expected)


# -- rnnkit's argument checks (Keras fails later, or with max() of an empty list) --------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: IoU(num_classes=2, target_class_ids=[2]), r"Target class id 2 is out of range, which is \[0, 2\)"),
    (lambda: IoU(num_classes=2, target_class_ids=[-1]), r"Target class id -1 is out of range"),
    (lambda: IoU(num_classes=2, target_class_ids=[]), r"`target_class_ids` must be a non-empty list"),
    (lambda: MeanIoU(num_classes=0), r"`num_classes` must be an integer >= 1.*num_classes=0"),
    (lambda: BinaryIoU(target_class_ids=[0, 2]), r"Target class id 2 is out of range, which is \[0, 2\)"),
    (lambda: MeanIoU(num_classes=2, dtype="int8"), r"Unsupported dtype.*'int8'.*Expected one of"),
], ids=["id_too_large", "negative_id", "no_ids", "no_classes", "binary_id", "dtype"])
def test_bad_arguments_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_weights_are_a_value_error():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\) does not match the 6 labels"):
        MeanIoU(num_classes=3)(np.zeros((2, 3)), np.zeros((2, 3)), sample_weight=np.ones(2, dtype="int32"))
