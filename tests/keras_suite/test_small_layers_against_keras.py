"""Golden comparisons with Keras 3.15.1 itself (KERAS_BACKEND=jax): each new small layer built in Keras and
in rnnkit with the same arguments (and the same weights: PReLU's alpha) gives the same outputs on the
same inputs, masks included; the noise layers' training-time statistics agree. Skipped without Keras.
Whole models through .keras files, both ways, are in tests/test_keras_export.py and test_keras_import.py.
"""

import os

import numpy as np
import pytest
import torch

from rnnkit import Model, initializers
from rnnkit import layers as ours

TOL = dict(atol=2e-6, rtol=1e-5)
RNG = np.random.default_rng(11)
X = RNG.normal(size=(3, 4, 5)).astype("float32")
Y = RNG.normal(size=(3, 4, 5)).astype("float32")
MASK_3 = RNG.random((3, 4, 5)) > 0.3  # a mask of the input's shape
MASK_ROW = np.array([True, False, True, True, False])  # broadcast to every row


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _np(keras, t):
    return keras.ops.convert_to_numpy(t)


# (name, Keras class name, arguments, input): the same arguments for both
SINGLE = [
    ("leaky_relu_default", "LeakyReLU", {}, X),
    ("leaky_relu", "LeakyReLU", {"negative_slope": 0.05}, X),
    ("elu", "ELU", {}, X),
    ("elu_alpha", "ELU", {"alpha": 0.3}, X),
    ("softmax", "Softmax", {}, X),
    ("softmax_axis1", "Softmax", {"axis": 1}, X),
    ("softmax_two_axes", "Softmax", {"axis": (1, 2)}, X),
    ("softmax_one_axis_tuple", "Softmax", {"axis": (0,)}, X),
    ("gaussian_noise", "GaussianNoise", {"stddev": 0.5}, X),
    ("gaussian_dropout", "GaussianDropout", {"rate": 0.5}, X),
    ("alpha_dropout", "AlphaDropout", {"rate": 0.5}, X),
    ("up_sampling1d", "UpSampling1D", {"size": 3}, X),
    ("zero_padding1d", "ZeroPadding1D", {"padding": (2, 1)}, X),
    ("zero_padding1d_channels_first", "ZeroPadding1D", {"padding": 1, "data_format": "channels_first"}, X),
    ("cropping1d", "Cropping1D", {"cropping": (1, 2)}, X),
    ("cropping1d_start", "Cropping1D", {"cropping": (3, 0)}, X),
    ("identity", "Identity", {}, X),
    ("unit_normalization", "UnitNormalization", {}, X),
    ("unit_normalization_axes", "UnitNormalization", {"axis": [1, 2]}, X),
    ("unit_normalization_zeros", "UnitNormalization", {"axis": 1}, np.zeros((2, 3, 2), "float32")),
]


@pytest.mark.parametrize("name, kind, kwargs, x", SINGLE, ids=[c[0] for c in SINGLE])
def test_layer_equals_keras_at_inference(keras, name, kind, kwargs, x):
    expected = _np(keras, getattr(keras.layers, kind)(**kwargs)(x))
    got = getattr(ours, kind)(**kwargs)(x).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("mask", [MASK_3, MASK_ROW, RNG.random((3, 4, 5)).astype("float32")],
                         ids=["full", "row", "float"])
@pytest.mark.parametrize("axis", [-1, 1, (1, 2)])
def test_softmax_with_mask_equals_keras(keras, mask, axis):
    expected = _np(keras, keras.layers.Softmax(axis=axis)(X, mask=mask))
    np.testing.assert_allclose(ours.Softmax(axis=axis)(X, mask=mask).numpy(), expected, **TOL)


@pytest.mark.parametrize("shared_axes", [None, 1, [1, 2]])
def test_prelu_with_the_same_alpha_equals_keras(keras, shared_axes):
    theirs = keras.layers.PReLU(shared_axes=shared_axes)
    theirs.build(X.shape)
    alpha = RNG.normal(size=theirs.alpha.shape).astype("float32")
    theirs.alpha.assign(alpha)
    layer = ours.PReLU(shared_axes=shared_axes)
    layer.build(X.shape)
    layer.set_keras_weights([alpha])
    assert tuple(layer.alpha.shape) == tuple(theirs.alpha.shape)
    np.testing.assert_allclose(layer(X).numpy(), _np(keras, theirs(X)), **TOL)


@pytest.mark.parametrize("initializer", ["zeros", "ones", 0.25])
def test_prelu_initial_alpha_equals_keras(keras, initializer):
    theirs = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(initializer)
                                if isinstance(initializer, float) else initializer)
    theirs.build(X.shape)
    layer = ours.PReLU(alpha_initializer=initializers.Constant(initializer) if isinstance(initializer, float)
                       else initializer)
    layer.build(X.shape)
    np.testing.assert_allclose(layer.alpha.detach().numpy(), _np(keras, theirs.alpha), **TOL)


MERGES = [("average", "Average", {}), ("subtract", "Subtract", {}), ("maximum", "Maximum", {}),
          ("minimum", "Minimum", {}), ("dot_last", "Dot", {"axes": -1}), ("dot_time", "Dot", {"axes": 1}),
          ("dot_pair", "Dot", {"axes": (2, 2), "normalize": True}), ("dot_cross", "Dot", {"axes": (1, 1),
                                                                                          "normalize": True})]


@pytest.mark.parametrize("name, kind, kwargs", MERGES, ids=[c[0] for c in MERGES])
def test_merge_equals_keras(keras, name, kind, kwargs):
    expected = _np(keras, getattr(keras.layers, kind)(**kwargs)([X, Y]))
    got = getattr(ours, kind)(**kwargs)([torch.from_numpy(X), torch.from_numpy(Y)]).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)


def test_dot_of_2d_inputs_and_zero_vectors_equals_keras(keras):
    a, b = X[:, 0], Y[:, 0].copy()
    b[1] = 0.0  # a zero vector: normalize leaves it zero (Keras's epsilon)
    for kwargs in ({"axes": 1}, {"axes": -1, "normalize": True}):
        expected = _np(keras, keras.layers.Dot(**kwargs)([a, b]))
        np.testing.assert_allclose(ours.Dot(**kwargs)([torch.from_numpy(a), torch.from_numpy(b)]).numpy(), expected,
                                   **TOL)


@pytest.mark.parametrize("kind", ["Average", "Subtract", "Maximum", "Minimum"])
@pytest.mark.parametrize("masked", ["first", "both"])
def test_masked_merge_and_its_output_mask_equal_keras(keras, kind, masked):
    # Keras reads the masks Masking attaches; rnnkit's functional model hands them to the layer
    a, b = X.copy(), Y.copy()
    a[0, 2:] = 0
    a[2, 1:] = 0
    b[2, :3] = 0
    k_a, k_b = keras.Input((4, 5)), keras.Input((4, 5))
    k_in = [keras.layers.Masking()(k_a), keras.layers.Masking()(k_b) if masked == "both" else k_b]
    k_merged = getattr(keras.layers, kind)()(k_in)
    k_model = keras.Model([k_a, k_b], [k_merged, keras.layers.LSTM(2, return_sequences=True)(k_merged)])
    r_a, r_b = ours.Input((4, 5)), ours.Input((4, 5))
    r_in = [ours.Masking()(r_a), ours.Masking()(r_b) if masked == "both" else r_b]
    r_merged = getattr(ours, kind)()(r_in)
    lstm = ours.LSTM(2, return_sequences=True)
    r_model = Model([r_a, r_b], [r_merged, lstm(r_merged)])
    lstm.set_keras_weights([w.numpy() if hasattr(w, "numpy") else _np(keras, w) for w in k_model.layers[-1].weights])
    expected = k_model.predict([a, b], verbose=0)
    got = r_model.predict([a, b], verbose=0)
    for g, e in zip(got, expected):  # the LSTM's output shows the output mask: held steps repeat
        np.testing.assert_allclose(g, e, atol=1e-5)


def test_noise_statistics_match_keras_while_training(keras):
    x = np.ones((100, 500), "float32")
    for kind, kwargs in [("GaussianNoise", {"stddev": 0.3}), ("GaussianDropout", {"rate": 0.3}),
                         ("AlphaDropout", {"rate": 0.3})]:
        expected = _np(keras, getattr(keras.layers, kind)(seed=1, **kwargs)(x, training=True))
        got = getattr(ours, kind)(seed=1, **kwargs)(x, training=True).numpy()
        assert abs(got.mean() - expected.mean()) < 0.01 and abs(got.std() - expected.std()) < 0.01, kind


def test_alpha_dropout_uses_keras_affine_constants(keras):
    # on constant input the output takes two values: a * x + b where kept, a * alpha' + b where dropped
    x = np.full((50, 200), 0.7, "float32")
    expected = np.unique(np.round(_np(keras, keras.layers.AlphaDropout(0.4, seed=3)(x, training=True)), 5))
    got = np.unique(np.round(ours.AlphaDropout(0.4, seed=3)(x, training=True).numpy(), 5))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert len(got) == 2


def test_keras_softmax_masks_with_the_last_axes_in_a_model_as_rnnkit(keras):
    # Keras 3.15.1 aligns Masking's (batch, steps) mask with Softmax's LAST input axes
    x = RNG.normal(size=(3, 3, 3)).astype("float32")
    x[1, 2] = 0.0
    k_in = keras.Input((3, 3))
    expected = keras.Model(k_in, keras.layers.Softmax()(keras.layers.Masking()(k_in))).predict(x, verbose=0)
    r_in = ours.Input((3, 3))
    got = Model(r_in, ours.Softmax()(ours.Masking()(r_in))).predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, **TOL)
    assert (got[:, 1, 2] == 0).all()


def test_configs_carry_keras_keys(keras):
    # what get_config holds, besides name, is what Keras's holds (dtype and trainable aside)
    cases = [("LeakyReLU", {"negative_slope": 0.1}), ("ELU", {"alpha": 0.2}), ("Softmax", {"axis": 1}),
             ("GaussianNoise", {"stddev": 0.1, "seed": 2}), ("GaussianDropout", {"rate": 0.1}),
             ("AlphaDropout", {"rate": 0.1, "noise_shape": [None, 1, None]}), ("UpSampling1D", {"size": 3}),
             ("ZeroPadding1D", {"padding": (1, 2)}), ("Cropping1D", {"cropping": (2, 1)}),
             ("Dot", {"axes": 2, "normalize": True}), ("UnitNormalization", {"axis": [1, 2]}), ("PReLU", {})]
    for kind, kwargs in cases:
        theirs = getattr(keras.layers, kind)(**kwargs).get_config()
        mine = getattr(ours, kind)(**kwargs).get_config()
        keys = set(theirs) - {"dtype", "trainable", "alpha_regularizer", "alpha_constraint", "alpha_initializer"}
        assert keys <= set(mine), (kind, keys - set(mine))
        for key in keys - {"name", "noise_shape", "padding", "cropping"}:
            assert mine[key] == theirs[key], (kind, key)
