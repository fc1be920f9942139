"""Keras 3's keras/src/layers/attention/attention_test.py, ported to rnnkit with Keras's numbers and
tolerances.

Keras's run_layer_test is replaced by `run_attention_layer_test` below (the shared helper takes one input,
Attention takes a list). Keras's `assertNotAllClose` is `not np.allclose`; numpy inputs to the private
helpers (`_calculate_scores`, `_calculate_score_mask`) are given as torch tensors. Not applicable:
the seed-generator count (rnnkit draws dropout from a torch.Generator when `seed` is given), TPU tolerances.
Beyond Keras's file: weights in Keras's layout, save/load, and a seq2seq functional model.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model
from rnnkit.layers import LSTM, Attention, Concatenate, Dense, Input, Masking
from rnnkit.layers.serialize import deserialize, serialize


def run_attention_layer_test(cls, init_kwargs, input_shape, expected_output_shape,
                             expected_num_trainable_weights, supports_masking=True):
    torch.manual_seed(0)
    layer = cls(**init_kwargs)
    xs = [torch.randn(*s, requires_grad=True) for s in input_shape]
    y = layer(xs)
    assert tuple(y.shape) == tuple(expected_output_shape)
    assert len([p for p in layer.parameters() if p.requires_grad]) == expected_num_trainable_weights
    assert len(list(layer.buffers())) == 0
    assert bool(layer.supports_masking) == supports_masking
    y.sum().backward()
    assert all(x.grad is not None for x in xs)
    rebuilt = deserialize(serialize(layer))
    assert type(rebuilt) is cls and rebuilt.get_config() == layer.get_config()
    rebuilt.load_state_dict(layer.state_dict())
    with torch.no_grad():
        detached = [x.detach() for x in xs]
        np.testing.assert_allclose(rebuilt(detached).numpy(), layer(detached).numpy(), atol=1e-6)
    return layer


# Keras: test_attention_basics
def test_attention_basics():
    run_attention_layer_test(Attention, {"score_mode": "dot", "dropout": 0.5}, [(2, 3, 4), (2, 4, 4)], (2, 3, 4), 0)
    run_attention_layer_test(Attention, {"use_scale": True, "score_mode": "concat", "dropout": 0.5},
                             [(2, 3, 4), (2, 4, 4)], (2, 3, 4), 2)


# Keras: test_attention_seed_preserved_in_config
def test_attention_seed_preserved_in_config():
    layer = Attention(dropout=0.5, seed=1337)
    config = layer.get_config()
    assert config["seed"] == 1337
    assert deserialize(serialize(layer)).seed == 1337


# Keras: test_attention_correctness
def test_attention_correctness():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    key = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    output, scores = Attention(score_mode="dot")([query, value, key], return_attention_scores=True)
    np.testing.assert_allclose(output.numpy(), [[[2.462, 3.462], [1.538, 2.538]]], atol=1e-3)
    np.testing.assert_allclose(scores.numpy(), [[[0.269, 0.731], [0.731, 0.269]]], atol=1e-3)
    output, scores = Attention(score_mode="concat")([query, value, key], return_attention_scores=True)
    np.testing.assert_allclose(output.numpy(), [[[1.727, 2.727], [2.272, 3.272]]], atol=1e-3)
    np.testing.assert_allclose(scores.numpy(), [[[0.636, 0.363], [0.363, 0.636]]], atol=1e-3)


# Keras: test_attention_with_mask
def test_attention_with_mask():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    output, scores = Attention()([query, value], mask=[np.array([[True, False]]), np.array([[True, False]])],
                                 return_attention_scores=True)
    np.testing.assert_allclose(output.numpy(), [[[1.0, 1.0], [0.0, 0.0]]], atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), [[[1.0, 0.0], [1.0, 0.0]]], atol=1e-6)


# Keras: test_attention_2D_mask_shape_mismatch
def test_attention_2d_mask_shape_mismatch():
    batch_size, tq, tv, dim = 2, 3, 4, 5
    query = np.random.random((batch_size, tq, dim)).astype(np.float32)
    value = np.random.random((batch_size, tv, dim)).astype(np.float32)
    query_mask = np.array([[True, False, True], [True, False, True]])
    value_mask = np.array([[True, False, True, True], [True, False, True, True]])
    output, scores = Attention()([query, value], mask=[query_mask, value_mask], return_attention_scores=True)
    assert tuple(output.shape) == (batch_size, tq, dim)
    assert tuple(scores.shape) == (batch_size, tq, tv)


# Keras: test_attention_errors
def test_attention_errors():
    layer = Attention()
    tensor = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    with pytest.raises(ValueError, match="must be called on a list"):
        layer(tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor, tensor, tensor])
    with pytest.raises(ValueError, match="layer mask must be a list"):
        layer([tensor, tensor], mask=tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor], mask=[tensor])


# Keras: test_attention_with_dropout
def test_attention_with_dropout():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    torch.manual_seed(0)
    output1, scores1 = Attention(dropout=0.2)([query, value], return_attention_scores=True, training=True)
    output2, scores2 = Attention()([query, value], return_attention_scores=True, training=True)
    assert not np.allclose(output1.numpy(), output2.numpy())
    assert not np.allclose(scores1.numpy(), scores2.numpy())


# Keras: test_attention_invalid_score_mode
def test_attention_invalid_score_mode():
    with pytest.raises(ValueError, match="Invalid value for argument score_mode. Expected one of {'dot', 'concat'}"):
        Attention(score_mode="invalid_mode")


# Keras: test_attention_calculate_scores_with_scale
def test_attention_calculate_scores_with_scale():
    query, key = np.random.random((2, 3, 4)), np.random.random((2, 4, 4))
    layer = Attention(use_scale=True, score_mode="dot")
    layer.build(input_shape=[(2, 3, 4), (2, 4, 4)])
    expected = np.matmul(query, key.transpose((0, 2, 1))) * layer.scale.detach().numpy()
    actual = layer._calculate_scores(torch.tensor(query, dtype=torch.float32), torch.tensor(key, dtype=torch.float32))
    np.testing.assert_allclose(actual.detach().numpy(), expected, atol=1e-6, rtol=1e-6)


# Keras: test_attention_calculate_score_mask_no_causal_no_vmask
def test_attention_calculate_score_mask_no_causal_no_vmask():
    scores = torch.rand(2, 3, 4)
    assert Attention()._calculate_score_mask(scores, v_mask=None, use_causal_mask=False) is None


# Keras: test_attention_calculate_score_mask_with_causal_no_vmask
def test_attention_calculate_score_mask_with_causal_no_vmask():
    scores = torch.rand(2, 3, 4)
    causal_mask = Attention()._calculate_score_mask(scores, v_mask=None, use_causal_mask=True)
    np.testing.assert_allclose(causal_mask.numpy(), np.tril(np.ones((1, 3, 4)), k=0), atol=1e-6)


# Keras: test_attention_calculate_score_mask_with_causal_and_vmask
def test_attention_calculate_score_mask_with_causal_and_vmask():
    scores = torch.rand(2, 3, 4)
    v_mask = np.array([[True, False, True, False]])
    combined = Attention()._calculate_score_mask(scores, v_mask=v_mask, use_causal_mask=True)
    expected = np.logical_and(np.tril(np.ones((1, 3, 4)), k=0), v_mask[:, np.newaxis, :])
    np.testing.assert_allclose(combined.numpy(), expected, atol=1e-6)


def _dummy(shape_q=(2, 3, 4), shape_v=(2, 4, 4)):
    return [np.random.random(shape_q), np.random.random(shape_v)]


# Keras: test_attention_compute_mask_with_no_mask, _with_first_element_none
def test_attention_compute_mask_none():
    layer = Attention()
    assert layer.compute_mask(inputs=_dummy(), mask=None) is None
    assert layer.compute_mask(inputs=_dummy(), mask=[None, np.array([True, False, True])]) is None


# Keras: test_attention_compute_mask_does_not_return_none_with_valid_mask, _returns_correct_tensor_with_valid_mask,
# _all_true_mask, _all_false_mask, _non_boolean_masks, _edge_case_masks
@pytest.mark.parametrize("valid_mask, other", [
    (np.array([True, False, True]), np.array([False, True, False])),
    (np.array([True, True, True]), np.array([True, True, True])),
    (np.array([False, False, False]), np.array([False, False, False])),
    (np.array([1, 0, 1]), np.array([0, 1, 0])),
    (np.array([True, True, True]), np.array([True, True, True])),
], ids=["valid", "all_true", "all_false", "non_boolean", "edge_same_mask"])
def test_attention_compute_mask_returns_query_mask(valid_mask, other):
    computed = Attention().compute_mask(inputs=_dummy(), mask=[valid_mask, other])
    assert computed is not None
    assert np.array_equal(computed.numpy(), valid_mask)


# Keras: test_attention_compute_mask_with_tolerance_1e_3, _1e_5, _1e_7
@pytest.mark.parametrize("atol", [1e-3, 1e-5, 1e-7])
def test_attention_compute_mask_with_tolerance(atol):
    valid_mask = np.array([1.0, 0.0, 1.0], dtype=float)
    computed = Attention().compute_mask(inputs=[np.ones((2, 3, 4)), np.ones((2, 4, 4))],
                                        mask=[valid_mask, np.array([0.0, 1.0, 0.0])])
    assert np.allclose(computed.numpy(), valid_mask, atol=atol)


# Keras: test_attention_compute_mask_with_single_element_masks
def test_attention_compute_mask_with_single_element_masks():
    computed = Attention().compute_mask(inputs=_dummy(), mask=[np.array([True]), np.array([False])])
    assert tuple(computed.shape) == (1,)


# Keras: test_attention_compute_mask_with_different_input_shapes
def test_attention_compute_mask_with_different_input_shapes():
    valid_mask = np.array([True, False, True])
    for shape in [(2, 3, 4), (3, 2, 5), (4, 1, 6)]:
        computed = Attention().compute_mask(inputs=[np.ones(shape), np.ones(shape)],
                                            mask=[valid_mask, np.array([False, True, False])])
        assert np.array_equal(computed.numpy(), valid_mask)


# Keras: test_attention_compute_output_shape
def test_attention_compute_output_shape():
    query, value, key = np.random.random((2, 3, 4)), np.random.random((2, 3, 5)), np.random.random((2, 3, 4))
    layer = Attention()
    output = layer([query, value, key])
    assert tuple(output.shape) == value.shape
    assert layer.compute_output_shape(input_shape=[query.shape, value.shape, key.shape]) == tuple(output.shape)


# Keras: test_attention_nd_inputs
def test_attention_nd_inputs():
    layer = Attention()
    query = np.random.random((2, 8, 6, 4)).astype(np.float32)
    value = np.random.random((2, 8, 6, 4)).astype(np.float32)
    assert tuple(layer([query, value]).shape) == (2, 8, 6, 4)
    output, scores = layer([query, value], return_attention_scores=True)
    assert tuple(output.shape) == (2, 8, 6, 4)
    assert tuple(scores.shape) == (2, 8, 6, 6)


# Keras: test_return_attention_scores_true, _true_and_tuple, _true_tuple_then_unpack
def test_return_attention_scores_true():
    query = np.random.random((2, 8, 16)).astype(np.float32)
    value = np.random.random((2, 4, 16)).astype(np.float32)
    outputs = Attention()([query, value], return_attention_scores=True)
    assert isinstance(outputs, tuple), "Expected the outputs to be a tuple"
    output, attention_scores = outputs
    assert tuple(output.shape) == (2, 8, 16)
    assert tuple(attention_scores.shape) == (2, 8, 4)


# Keras: test_return_attention_scores_with_symbolic_tensors
def test_return_attention_scores_with_symbolic_tensors():
    x, y = Input(shape=(3, 5)), Input(shape=(4, 5))
    output, attention_scores = Attention()([x, y], return_attention_scores=True)
    assert tuple(output.shape) == (None, 3, 5)
    assert tuple(attention_scores.shape) == (None, 3, 4)


# Keras: test_symbolic_call_does_not_leak_return_attention_scores
def test_symbolic_call_does_not_leak_return_attention_scores():
    attention = Attention()
    attention([np.random.rand(2, 3, 5).astype("float32"), np.random.rand(2, 4, 5).astype("float32")],
              return_attention_scores=True)
    x, y = Input(shape=(3, 5)), Input(shape=(4, 5))
    output = attention([x, y])
    assert not isinstance(output, (tuple, list))
    assert tuple(output.shape) == (None, 3, 5)
    assert attention.compute_output_shape([x.shape, y.shape]) == (None, 3, 5)


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_use_causal_mask_hides_future_value_steps():
    x = torch.randn(1, 4, 3)
    _, scores = Attention()([x, x], use_causal_mask=True, return_attention_scores=True)
    assert torch.all(scores.triu(diagonal=1) < 1e-6)
    np.testing.assert_allclose(scores.sum(-1).numpy(), np.ones((1, 4)), atol=1e-6)


def test_keras_weights_layout_and_round_trip():
    layer = Attention(use_scale=True, score_mode="concat")
    assert [w.shape for w in layer.keras_weights()] == [(), ()]
    layer.set_keras_weights([np.float32(2.0), np.float32(0.5)])
    assert [float(w) for w in layer.keras_weights()] == [2.0, 0.5]
    q, v = torch.randn(1, 2, 3), torch.randn(1, 4, 3)
    expected = 0.5 * torch.tanh(2.0 * (q.unsqueeze(-2) + v.unsqueeze(-3))).sum(-1)
    np.testing.assert_allclose(layer._calculate_scores(q, v).detach().numpy(), expected.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="has 2 weight"):
        layer.set_keras_weights([np.float32(1.0)])


def test_dropout_seed_repeats_draws():
    x = torch.rand(2, 5, 3)
    a = Attention(dropout=0.5, seed=7)([x, x], training=True)
    b = Attention(dropout=0.5, seed=7)([x, x], training=True)
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_seq2seq_functional_model_fits_saves_and_loads(tmp_path):
    # Keras's documented use: the decoder's outputs attend over the encoder's outputs.
    encoder_inputs, decoder_inputs = Input((6, 3)), Input((4, 3))
    encoder_outputs, h, c = LSTM(8, return_sequences=True, return_state=True)(encoder_inputs)
    decoder_outputs = LSTM(8, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    context = Attention()([decoder_outputs, encoder_outputs])
    outputs = Dense(2)(Concatenate()([decoder_outputs, context]))
    model = Model([encoder_inputs, decoder_inputs], outputs)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(8, 6, 3)).astype("float32"), rng.normal(size=(8, 4, 3)).astype("float32")]
    ys = rng.normal(size=(8, 4, 2)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(xs, ys, epochs=1, batch_size=4, verbose=0)
    before = model.predict(xs, verbose=0)
    assert before.shape == (8, 4, 2)
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(xs, verbose=0), before, atol=1e-6)


def test_functional_model_propagates_masks_into_attention():
    query, value = Input((3, 2)), Input((2, 2))
    model = Model([query, value], Attention()([Masking()(query), Masking()(value)]))
    q = np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]], dtype="float32")  # query step 1 is masked
    v = np.array([[[1.0, 1.0], [0.0, 0.0]]], dtype="float32")  # value step 1 is masked
    out = model.predict([q, v], verbose=0)
    np.testing.assert_allclose(out, [[[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]], atol=1e-6)
