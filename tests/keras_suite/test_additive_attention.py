"""Keras 3's keras/src/layers/attention/additive_attention_test.py, ported to rnnkit with Keras's numbers and
tolerances (TPU tolerances and the seed-generator count do not apply). Beyond Keras's file: the `scale`
weight in Keras's layout (made on the first call, Glorot-uniform), and a functional model that saves and loads.
"""

import math

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model
from rnnkit.layers import AdditiveAttention, Dense, Input

from test_attention import run_attention_layer_test


# Keras: test_attention_basics
def test_attention_basics():
    run_attention_layer_test(AdditiveAttention, {"use_scale": True, "dropout": 0.5}, [(2, 3, 4), (2, 4, 4)],
                             (2, 3, 4), 1)
    run_attention_layer_test(AdditiveAttention, {"use_scale": False, "dropout": 0.5}, [(2, 3, 4), (2, 4, 4)],
                             (2, 3, 4), 0)


# Keras: test_attention_correctness
def test_attention_correctness():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    key = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    output, scores = AdditiveAttention(use_scale=False)([query, value, key], return_attention_scores=True)
    np.testing.assert_allclose(output.numpy(), [[[1.727, 2.727], [2.272, 3.272]]], atol=1e-3)
    np.testing.assert_allclose(scores.numpy(), [[[0.636, 0.363], [0.363, 0.636]]], atol=1e-3)


# Keras: test_attention_with_mask
def test_attention_with_mask():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    output, scores = AdditiveAttention(use_scale=False)(
        [query, value], mask=[np.array([[True, False]]), np.array([[True, False]])], return_attention_scores=True)
    np.testing.assert_allclose(output.numpy(), [[[1.0, 1.0], [0.0, 0.0]]], atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), [[[1.0, 0.0], [1.0, 0.0]]], atol=1e-6)


# Keras: test_attention_errors
def test_attention_errors():
    layer = AdditiveAttention()
    tensor = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    with pytest.raises(ValueError, match="must be called on a list"):
        layer(tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor, tensor, tensor])
    with pytest.raises(ValueError, match="layer mask must be a list"):
        layer([tensor, tensor], mask=tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor], mask=[tensor])


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_config_has_no_score_mode():
    config = AdditiveAttention(dropout=0.1, seed=3).get_config()
    assert "score_mode" not in config and config["use_scale"] is True and config["seed"] == 3


def test_scale_waits_for_the_feature_size_then_is_glorot_uniform():
    layer = AdditiveAttention()
    assert layer.awaiting_build()
    with pytest.raises(ValueError):
        layer.parameters().__next__()  # rnnkit refuses to list weights that do not exist yet
    torch.manual_seed(0)
    layer([torch.randn(2, 3, 400), torch.randn(2, 5, 400)])
    (scale,) = layer.keras_weights()
    assert scale.shape == (400,)
    limit = math.sqrt(6.0 / (400 + 400))  # Keras's fans of a vector: fan_in = fan_out = its length
    assert np.abs(scale).max() <= limit and np.abs(scale).max() > 0.9 * limit


def test_set_keras_weights_builds_and_sets_scale():
    layer = AdditiveAttention()
    layer.set_keras_weights([np.array([2.0, -1.0], dtype=np.float32)])
    q, v = torch.randn(1, 3, 2), torch.randn(1, 4, 2)
    expected = (torch.tensor([2.0, -1.0]) * torch.tanh(q.unsqueeze(-2) + v.unsqueeze(-3))).sum(-1)
    np.testing.assert_allclose(layer._calculate_scores(q, v).detach().numpy(), expected.numpy(), atol=1e-6)


def test_functional_model_saves_and_loads(tmp_path):
    query, value = Input((3, 4)), Input((5, 4))
    model = Model([query, value], Dense(2)(AdditiveAttention()([query, value])))
    xs = [np.random.default_rng(k).normal(size=(2, n, 4)).astype("float32") for k, n in ((0, 3), (1, 5))]
    before = model.predict(xs, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict(xs, verbose=0), before, atol=1e-6)
