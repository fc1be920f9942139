"""rnnkit.preprocessing.sequence.pad_sequences, ported from Keras 3's
keras/src/utils/sequence_utils_test.py (github.com/keras-team/keras): the same sequences, arguments and
expected arrays, strings included (dtype=object or a string dtype; a string value with a number dtype
is refused with Keras's message).
"""

import numpy as np
import pytest

from rnnkit.preprocessing import sequence

A = [[1], [1, 2], [1, 2, 3]]


@pytest.mark.parametrize("kwargs, expected", [
    ({"maxlen": 3, "padding": "pre"}, [[0, 0, 1], [0, 1, 2], [1, 2, 3]]),
    ({"maxlen": 3, "padding": "post"}, [[1, 0, 0], [1, 2, 0], [1, 2, 3]]),
    ({"maxlen": 2, "truncating": "pre"}, [[0, 1], [1, 2], [2, 3]]),
    ({"maxlen": 2, "truncating": "post"}, [[0, 1], [1, 2], [1, 2]]),
    ({"maxlen": 3, "value": 1}, [[1, 1, 1], [1, 1, 2], [1, 2, 3]]),
], ids=["padding_pre", "padding_post", "truncating_pre", "truncating_post", "value"])
def test_pad_sequences(kwargs, expected):
    b = sequence.pad_sequences(A, **kwargs)
    np.testing.assert_allclose(b, expected)
    assert b.dtype == np.int32


@pytest.mark.parametrize("kwargs, expected", [
    ({"maxlen": 3, "padding": "pre"}, [[0, 0, 1.2], [0, 1.2, 2.3], [1.2, 2.3, 3.4]]),
    ({"maxlen": 3, "padding": "post"}, [[1.2, 0, 0], [1.2, 2.3, 0], [1.2, 2.3, 3.4]]),
    ({"maxlen": 2, "truncating": "pre"}, [[0, 1.2], [1.2, 2.3], [2.3, 3.4]]),
    ({"maxlen": 2, "truncating": "post"}, [[0, 1.2], [1.2, 2.3], [1.2, 2.3]]),
    ({"maxlen": 3, "value": 1}, [[1, 1, 1.2], [1, 1.2, 2.3], [1.2, 2.3, 3.4]]),
], ids=["padding_pre", "padding_post", "truncating_pre", "truncating_post", "value"])
def test_pad_sequences_float(kwargs, expected):
    b = sequence.pad_sequences([[1.2], [1.2, 2.3], [1.2, 2.3, 3.4]], dtype="float32", **kwargs)
    np.testing.assert_allclose(b, expected, rtol=1e-6)
    assert b.dtype == np.float32


def test_pad_sequences_str():
    a = [["1"], ["1", "2"], ["1", "2", "3"]]
    b = sequence.pad_sequences(a, maxlen=3, padding="pre", value="pad", dtype=object)
    assert b.tolist() == [["pad", "pad", "1"], ["pad", "1", "2"], ["1", "2", "3"]]
    b = sequence.pad_sequences(a, maxlen=3, padding="post", value="pad", dtype="<U3")
    assert b.tolist() == [["1", "pad", "pad"], ["1", "2", "pad"], ["1", "2", "3"]]
    b = sequence.pad_sequences(a, maxlen=2, truncating="pre", value="pad", dtype=object)
    assert b.tolist() == [["pad", "1"], ["1", "2"], ["2", "3"]]
    b = sequence.pad_sequences(a, maxlen=2, truncating="post", value="pad", dtype="<U3")
    assert b.tolist() == [["pad", "1"], ["1", "2"], ["1", "2"]]
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with "):
        sequence.pad_sequences(a, maxlen=2, truncating="post", value="pad")


V = [[[1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]]]


@pytest.mark.parametrize("kwargs, expected", [
    ({"maxlen": 3, "padding": "pre"}, [[[0, 0], [0, 0], [1, 1]], [[0, 0], [2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]]]),
    ({"maxlen": 3, "padding": "post"}, [[[1, 1], [0, 0], [0, 0]], [[2, 1], [2, 2], [0, 0]], [[3, 1], [3, 2], [3, 3]]]),
    ({"maxlen": 2, "truncating": "pre"}, [[[0, 0], [1, 1]], [[2, 1], [2, 2]], [[3, 2], [3, 3]]]),
    ({"maxlen": 2, "truncating": "post"}, [[[0, 0], [1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2]]]),
    ({"maxlen": 3, "value": 1}, [[[1, 1], [1, 1], [1, 1]], [[1, 1], [2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]]]),
], ids=["padding_pre", "padding_post", "truncating_pre", "truncating_post", "value"])
def test_pad_sequences_vector(kwargs, expected):
    np.testing.assert_allclose(sequence.pad_sequences(V, **kwargs), expected)


# -- beyond Keras's file: the defaults, empty sequences, and the errors ------------------------------------------------
def test_defaults_empty_sequences_and_arrays():
    assert sequence.pad_sequences([[5, 6], [], np.array([7])]).tolist() == [[5, 6], [0, 0], [0, 7]]
    assert sequence.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


@pytest.mark.parametrize("call, message", [
    (lambda: sequence.pad_sequences(A, padding="middle"), 'Padding type "middle" not understood'),
    (lambda: sequence.pad_sequences(A, truncating="both"), 'Truncating type "both" not understood'),
    (lambda: sequence.pad_sequences(5), "`sequences` must be iterable."),
    (lambda: sequence.pad_sequences([[1], 2]), "must be a list of iterables. Found non-iterable: 2"),
    (lambda: sequence.pad_sequences([[[1, 1]], [[2, 2, 2]]]), r"Shape of sample \(3,\) of sequence at position 1"),
    (lambda: sequence.pad_sequences(A, maxlen=-1), "maxlen must be a whole number >= 0"),
    (lambda: sequence.pad_sequences([]), "no sequences and no maxlen"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
