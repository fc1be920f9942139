"""Keras 3's keras/src/layers/core/embedding_test.py (v3.15.1): the tests of ids, masking (mask_zero),
arguments and initial weights, ported to rnnkit with Keras's expected values.

rnnkit's Embedding has its table from construction (Keras's `layer.build()` calls are dropped) and
reads `embeddings` as Keras names it. Keras's message spells the argument `input_dim` in backticks;
rnnkit's says "Embedding: input_dim must be a positive integer", so the patterns allow both.

Not ported: sparse and ragged inputs (Keras backend tensors), embeddings_constraint (rnnkit has no
constraints), LoRA and int8/int4 quantization (Keras features rnnkit does not have).
"""

import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.layers import LSTM, Embedding, Input, Masking
from rnnkit.layers.serialize import deserialize, serialize

TOL = dict(atol=1e-6, rtol=1e-6)


def run_embedding_test(init_kwargs, input_shape, expected_output_shape, supports_masking):
    """run_layer_test (layer_helpers.py) for integer inputs: shape, one trainable weight, masking,
    gradients to the table, and the config and weights rebuilding a layer giving the same output."""
    layer = Embedding(**init_kwargs)
    ids = torch.randint(0, init_kwargs["input_dim"], input_shape)
    y = layer(ids)
    assert tuple(y.shape) == expected_output_shape
    assert len([p for p in layer.parameters() if p.requires_grad]) == 1
    assert len([p for p in layer.parameters() if not p.requires_grad] + list(layer.buffers())) == 0
    assert bool(layer.supports_masking) == supports_masking
    y.sum().backward()
    assert layer.embeddings.grad is not None
    rebuilt = deserialize(serialize(layer))
    assert type(rebuilt) is Embedding and rebuilt.get_config() == layer.get_config()
    rebuilt.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(rebuilt(ids).detach().numpy(), y.detach().numpy(), **TOL)


# Keras: test_embedding_basics
@pytest.mark.parametrize("init_kwargs, input_shape, output_shape, masking", [
    ({"input_dim": 4, "output_dim": 3}, (2,), (2, 3), False),
    ({"input_dim": 5, "output_dim": 4, "mask_zero": True}, (2, 3), (2, 3, 4), True),
], ids=["plain", "mask_zero"])
def test_embedding_basics(init_kwargs, input_shape, output_shape, masking):
    run_embedding_test(init_kwargs, input_shape, output_shape, masking)


# Keras: test_correctness
def test_correctness():
    layer = Embedding(input_dim=3, output_dim=2)
    with torch.no_grad():
        layer.embeddings.copy_(torch.tensor([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]]))
    out = layer(np.array([2, 1, 0]))
    np.testing.assert_allclose(out.numpy(), [[3.0, 3.0], [2.0, 2.0], [0.0, 0.0]], **TOL)


# Keras: test_masking
def test_masking():
    layer = Embedding(input_dim=3, output_dim=2, mask_zero=True)
    out = layer.compute_mask(np.array([2, 1, 0]))
    np.testing.assert_array_equal(out.numpy(), [True, True, False])


# Keras: test_compute_mask_no_masking
def test_compute_mask_no_masking():
    layer = Embedding(input_dim=3, output_dim=2, mask_zero=False)
    assert layer.compute_mask(np.array([2, 1, 0])) is None


# Keras: test_invalid_input_dim
@pytest.mark.parametrize("bad_value", [3.7, 4.0, "3", None, True, False, -1, 0])
def test_invalid_input_dim(bad_value):
    with pytest.raises(ValueError, match="`?input_dim`? must be a positive integer"):
        Embedding(input_dim=bad_value, output_dim=8)


def test_invalid_input_dim_from_config():
    with pytest.raises(TypeError, match="`?input_dim`? must be a positive integer"):
        Embedding.from_config({"input_dim": 3.7, "output_dim": 8})


# Keras: test_invalid_output_dim
@pytest.mark.parametrize("bad_value", [3.7, 4.0, "3", None, True, False, -1, 0])
def test_invalid_output_dim(bad_value):
    with pytest.raises(ValueError, match="`?output_dim`? must be a positive integer"):
        Embedding(input_dim=10, output_dim=bad_value)


def test_invalid_output_dim_from_config():
    with pytest.raises(TypeError, match="`?output_dim`? must be a positive integer"):
        Embedding.from_config({"input_dim": 10, "output_dim": 3.7})


# Keras: test_weights_constructor_arg
def test_weights_constructor_arg():
    layer = Embedding(3, 4, weights=np.ones((3, 4)))
    np.testing.assert_allclose(layer.embeddings.detach().numpy(), np.ones((3, 4)))
    layer = Embedding(3, 4, weights=[np.ones((3, 4))])
    np.testing.assert_allclose(layer.embeddings.detach().numpy(), np.ones((3, 4)))


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_weights_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"table of shape \(3, 4\).*received weights of shape \(4, 3\)"):
        Embedding(3, 4, weights=np.ones((4, 3)))


def test_compute_mask_marks_padding_in_a_batch():
    ids = torch.tensor([[3, 1, 0, 0], [2, 0, 0, 0]])
    assert Embedding(4, 2, mask_zero=True).compute_mask(ids).tolist() == [[True, True, False, False],
                                                                          [True, False, False, False]]


def test_mask_zero_before_lstm_equals_the_unpadded_sequences():
    """Keras's masking contract through an Embedding: padded ids are skipped by the recurrent layer,
    so each row's output is the LSTM's on that row's ids alone, and it equals masking the vectors."""
    torch.manual_seed(0)
    embedding, lstm = Embedding(6, 3, mask_zero=True), LSTM(4)
    model = Sequential([Input((5,), dtype="int64"), embedding, lstm])
    ids = np.array([[1, 2, 3, 4, 5], [5, 4, 0, 0, 0], [3, 0, 0, 0, 0]])
    out = model.predict(ids, verbose=0)
    for row, n in enumerate([5, 2, 1]):
        alone = lstm(embedding(torch.as_tensor(ids[row:row + 1, :n]))).detach().numpy()
        np.testing.assert_allclose(out[row], alone[0], atol=1e-6)
    with torch.no_grad():
        vectors = embedding(torch.as_tensor(ids))
        vectors[torch.as_tensor(ids) == 0] = 0.0  # zero vectors: the same steps masked by Masking
        by_masking = Sequential([Masking(), lstm])(vectors)
    np.testing.assert_allclose(out, by_masking.numpy(), atol=1e-6)


def test_without_mask_zero_the_padding_is_read():
    torch.manual_seed(0)
    embedding, lstm = Embedding(6, 3), LSTM(4)
    ids = np.array([[5, 4, 0, 0, 0]])
    padded = Sequential([embedding, lstm])(ids).numpy()
    alone = lstm(embedding(torch.as_tensor(ids[:, :2]))).detach().numpy()
    assert not np.allclose(padded, alone, atol=1e-4)
