"""Correlation metrics, ported from Keras 3's keras/src/metrics/correlation_metrics_test.py
(github.com/keras-team/keras): CorrelationsTest's 6 cases, with the same data, expected values and
tolerance (assertAllClose: 1e-6). Keras takes the expected Pearson coefficients from scipy.stats.pearsonr;
here numpy's corrcoef gives the same statistic without scipy.
"""

import numpy as np
import pytest

from rnnkit.metrics import ConcordanceCorrelation, PearsonCorrelation, concordance_correlation, pearson_correlation


def close(result, expected):
    np.testing.assert_allclose(np.asarray(result), expected, rtol=1e-6, atol=1e-6)


Y_TRUE = np.array([[0, 1, 0.5], [1, 1, 0.2], [1, 1, 0.1], [0.1, 0.7, 0.0]], dtype="float32")
Y_PRED = np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2], [0.2, 0.8, 0], [0.3, 0.3, 0.9]], dtype="float32")
CCC_EXPECTED = np.array([0.97560976, 0.98765432, 0.46511628, -0.46376812])
PCC_EXPECTED = np.array([np.corrcoef(yt, yp)[0, 1] for yt, yp in zip(Y_TRUE, Y_PRED)])


def test_pearson_function():
    close(pearson_correlation(Y_TRUE, Y_PRED, axis=-1), PCC_EXPECTED)


def test_concordance_function():
    close(concordance_correlation(Y_TRUE, Y_PRED, axis=-1), CCC_EXPECTED)


@pytest.mark.parametrize("cls, expected", [(PearsonCorrelation, PCC_EXPECTED), (ConcordanceCorrelation, CCC_EXPECTED)],
                         ids=["test_pearson_class", "test_concordance_class"])
def test_class(cls, expected):  # the running mean over two updates
    m = cls(axis=-1, dtype="float32")
    m.update_state(Y_TRUE[:2], Y_PRED[:2])
    close(m.result(), np.mean(expected[:2]))
    m.update_state(Y_TRUE[2:], Y_PRED[2:])
    close(m.result(), np.mean(expected))


def test_pearson_config():
    config = PearsonCorrelation(axis=-1, dtype="float16").get_config()
    assert config["axis"] == -1 and config["dtype"] == "float16" and config["name"] == "pearson_correlation"


def test_concordance_config():
    config = ConcordanceCorrelation(axis=-1, dtype="float32").get_config()
    assert config["axis"] == -1 and config["dtype"] == "float32" and config["name"] == "concordance_correlation"
