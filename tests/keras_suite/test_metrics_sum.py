"""Sum, ported from Keras 3's keras/src/metrics/reduction_metrics_test.py (github.com/keras-team/keras):
SumTest's 5 cases, with the same values, weights, expected sums and atol (1e-3). Beyond Keras's cases:
compile refuses Sum as Keras's does (it takes values, not y_true and y_pred), with a message that says so.
"""

import numpy as np
import pytest

from rnnkit import Activation, Input, Sequential
from rnnkit.metrics import Sum


def test_config():
    sum_obj = Sum(name="sum", dtype="float32")
    assert sum_obj.name == "sum" and len(sum_obj.variables) == 1 and sum_obj._dtype == "float32"
    sum_obj2 = Sum.from_config(sum_obj.get_config())
    assert sum_obj2.name == "sum" and len(sum_obj2.variables) == 1 and sum_obj2._dtype == "float32"


@pytest.mark.parametrize("values, sample_weight, expected", [
    ([1, 3, 5, 7], None, 16.0),  # test_unweighted
    ([1, 3, 5, 7], [1, 1, 0, 0], 4.0),  # test_weighted
    ([[1, 3], [5, 7]], [[1, 1], [1, 0]], 9.0),  # test_weighted_nd
    ([[1, 3], [5, 7]], [[1, 0]], 6.0),  # test_weighted_nd_broadcast
], ids=["unweighted", "weighted", "weighted_nd", "weighted_nd_broadcast"])
def test_sum(values, sample_weight, expected):
    sum_obj = Sum(name="sum", dtype="float32")
    sum_obj.update_state(values, sample_weight=sample_weight)
    np.testing.assert_allclose(np.asarray(sum_obj.result()), expected, atol=1e-3)


def test_compile_refuses_sum():
    model = Sequential([Input((2,)), Activation("linear")])
    model.compile(loss="mse", metrics=[Sum()])
    with pytest.raises(TypeError, match=r"Sum \('sum'\) sums the values given to update_state"):
        model.evaluate(np.ones((4, 2), "float32"), np.ones((4, 2), "float32"))
