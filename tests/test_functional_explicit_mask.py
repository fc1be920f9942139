"""A mask passed explicitly to a layer in a functional model, `GRU(16)(features, mask=mask_input)`, as
keras-io's video_classification does: Keras 3's Layer.__call__ gives the layer that mask (not the one its
input carries) and passes it on through the layer's compute_mask, so the next GRU skips the same steps.
rnnkit passed the explicit mask to the layer but not on: the second GRU read the padded steps (0.01 off
Keras's outputs on the fixture below).

Keras's expected values: tests/fixtures/keras_models/explicit_mask.* (scripts/make_keras_models.py,
Keras 3.15.1): the example's sequence model, small, with Keras's outputs on inputs whose masks end at
different steps.
"""

from pathlib import Path

import numpy as np
import torch

import rnnkit
from rnnkit import keras_mask
from rnnkit.layers import GRU, Dense, Dropout, Embedding, Input, Layer

FIXTURES = Path(__file__).parent / "fixtures" / "keras_models"


def _example_model(features: int, steps: int):
    """keras-io video_classification's get_sequence_model, small, as the example writes it."""
    frame_features_input = Input((steps, features))
    mask_input = Input((steps,), dtype="bool")
    x = GRU(4, return_sequences=True)(frame_features_input, mask=mask_input)
    x = GRU(3)(x)
    x = Dropout(0.4)(x)
    x = Dense(3, activation="relu")(x)
    output = Dense(2, activation="softmax")(x)
    return rnnkit.Model([frame_features_input, mask_input], output)


# Keras: layers/layer_test.py LayerTest.test_masking_with_explicit_kwarg_propagation, in a functional model
# (rnnkit attaches masks in models, not on a layer's eager output)
def test_masking_with_explicit_kwarg_propagation():
    class PassthroughMaskLayer(Layer):
        supports_masking = True

        def forward(self, x, mask=None, training=None):
            self.used_mask = mask is not None  # the layer itself can use the mask
            return x

    layer = PassthroughMaskLayer()
    x, m = Input((4,)), Input((4,), dtype="bool")  # x carries no mask
    model = rnnkit.Model([x, m], layer(x, mask=m))
    explicit_mask = np.array([[True, True, False, False]])
    y = model([torch.ones(1, 4), torch.as_tensor(explicit_mask)])
    assert layer.used_mask  # the layer's call received the mask
    # ... and the output carries the explicit mask for the next layer (and the loss)
    np.testing.assert_array_equal(keras_mask.get(y).numpy(), explicit_mask)


def test_the_example_model_gives_keras_outputs():
    data = np.load(FIXTURES / "explicit_mask.npz")
    features, mask, expected = data["x0"], data["x1"], data["y0"]
    model = _example_model(features.shape[-1], features.shape[1])
    model.set_weights(rnnkit.load_keras(FIXTURES / "explicit_mask.keras").get_weights())  # Keras's weights
    np.testing.assert_allclose(model.predict([features, mask], verbose=0), expected, atol=1e-6)


def test_both_grus_skip_the_masked_steps():
    """Each row equals its unmasked prefix run alone; values at the masked steps change nothing."""
    model = _example_model(5, 6)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(3, 6, 5)).astype("float32")
    mask = np.ones((3, 6), dtype=bool)
    mask[0, 2:], mask[1, 4:] = False, False
    out = model.predict([features, mask], verbose=0)
    noisy = features.copy()
    noisy[~mask] = 100.0
    np.testing.assert_allclose(model.predict([noisy, mask], verbose=0), out, atol=1e-6)
    gru1, gru2, _, dense1, dense2 = model.layers[2:]
    for row in range(3):
        length = int(mask[row].sum())
        with torch.no_grad():
            alone = dense2(dense1(gru2(gru1(torch.as_tensor(features[row:row + 1, :length])))))
        np.testing.assert_allclose(out[row], alone[0].numpy(), atol=1e-6)


def test_an_explicit_mask_wins_over_the_one_the_input_carries():
    """Keras: the mask found on the input fills `mask` only when none is passed."""
    ids, explicit = Input((5,), dtype="int64"), Input((5,), dtype="bool")
    embedded = Embedding(10, 3, mask_zero=True)(ids)  # carries ids != 0
    gru = GRU(2, return_sequences=True)
    model = rnnkit.Model([ids, explicit], GRU(2)(gru(embedded, mask=explicit)))
    x = np.array([[1, 2, 3, 4, 5]])
    keep = np.array([[True, True, False, False, False]])
    got = model.predict([x, keep], verbose=0)
    embedding, second = model.layers[2], model.layers[4]
    with torch.no_grad():
        prefix = second(gru(embedding(torch.as_tensor(x[:, :2]))))
    np.testing.assert_allclose(got, prefix.numpy(), atol=1e-6)


def test_saves_reloads_and_exports_with_the_mask_argument(tmp_path):
    data = np.load(FIXTURES / "explicit_mask.npz")
    model = _example_model(5, 6)
    model.set_weights(rnnkit.load_keras(FIXTURES / "explicit_mask.keras").get_weights())
    model.save(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(rnnkit.load(tmp_path / "m.rnnkit").predict([data["x0"], data["x1"]], verbose=0),
                               data["y0"], atol=1e-6)
    rnnkit.save_keras(model, tmp_path / "m.keras")  # Keras's own format, read back by rnnkit's reader
    np.testing.assert_allclose(rnnkit.load_keras(tmp_path / "m.keras").predict([data["x0"], data["x1"]], verbose=0),
                               data["y0"], atol=1e-6)
