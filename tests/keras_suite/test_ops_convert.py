"""Keras 3's keras/src/ops/core_test.py test_convert_to_tensor, ported to rnnkit.ops (the two keras.ops
functions rnnkit has), plus the dtypes Keras 3.15.1's torch backend gives (checked with KERAS_BACKEND=torch:
a NumPy array keeps its dtype, Python ints become int32, floats float32, an empty list float32).

Not applicable: test_convert_to_tensor_sparse and test_convert_to_tensor_ragged (TensorFlow's and JAX's
sparse and ragged tensors; rnnkit refuses sparse=True and ragged=True).
"""

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import ops


# Keras: CoreOpsCorrectnessTest.test_convert_to_tensor
def test_convert_to_tensor():
    x = np.ones((2,))
    x = ops.convert_to_tensor(x)
    x = ops.convert_to_numpy(x)
    np.testing.assert_allclose(x, (1, 1))
    assert isinstance(x, np.ndarray)

    # Empty lists should give an empty array.
    x = ops.convert_to_tensor([])
    np_x = ops.convert_to_numpy(x)
    assert torch.is_tensor(x)
    np.testing.assert_allclose(x, [])
    assert isinstance(np_x, np.ndarray)

    # Partially converted.
    x = ops.convert_to_tensor((1, torch.tensor(2), 3))
    np.testing.assert_allclose(x, (1, 2, 3))


@pytest.mark.parametrize("value,dtype", [
    (np.ones((2,)), torch.float64), ([], torch.float32), ((1, torch.tensor(2, dtype=torch.int32), 3), torch.int32),
    ([1.5, 2], torch.float32), (np.array([1, 2]), torch.int64), (3, torch.int32), ([[1, 2], [3, 4]], torch.int32),
    (np.array([True]), torch.bool)], ids=["float64-array", "empty", "partial", "floats", "int64-array", "int",
                                          "nested-ints", "bools"])
def test_dtypes_as_keras_torch_backend(value, dtype):
    t = ops.convert_to_tensor(value)
    assert t.dtype == dtype
    assert ops.convert_to_numpy(t).dtype == torch.empty(0, dtype=dtype).numpy().dtype


def test_convert_to_numpy_of_tensors_lists_and_gradients():
    np.testing.assert_allclose(ops.convert_to_numpy([torch.ones(2), torch.zeros(2)]), [[1, 1], [0, 0]])
    out = ops.convert_to_numpy(torch.ones(2, requires_grad=True) * 2)
    assert isinstance(out, np.ndarray) and out.tolist() == [2, 2]
    assert ops.convert_to_numpy(3).shape == ()
    assert ops.convert_to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32  # NumPy has no bfloat16


def test_convert_to_tensor_casts_to_the_dtype_asked():
    assert ops.convert_to_tensor(np.ones(2), dtype="int32").dtype == torch.int32
    assert ops.convert_to_tensor([1, 2], dtype="float32").dtype == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        ops.convert_to_tensor([1], dtype="quaternion")
    with pytest.raises(ValueError, match="dense PyTorch tensors"):
        ops.convert_to_tensor([1], sparse=True)


def test_a_symbolic_tensor_is_refused():
    with pytest.raises(ValueError, match="symbolic tensor"):
        ops.convert_to_numpy(keras.Input((3,)))


def test_keras_io_video_classification_labels():
    """keras-io video_classification: `keras.ops.convert_to_numpy(label_processor(labels[..., None]))`."""
    lookup = keras.layers.StringLookup(num_oov_indices=0, vocabulary=["a", "b"])
    labels = keras.ops.convert_to_numpy(lookup(np.array(["b", "a"], dtype=object)[..., None]))
    assert isinstance(labels, np.ndarray) and labels.dtype == np.int64 and labels.tolist() == [[1], [0]]
