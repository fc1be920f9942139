"""Generate tests/fixtures/keras_models/: small Keras 3 models saved as .keras and legacy .h5, with
fixed inputs and Keras's outputs on them, for the `rnnkit.load_keras` parity tests.

Needs the optional extra: `pip install -e ".[keras]"` (Keras 3 on JAX). The tests only read the files.
Run: python scripts/make_keras_models.py [case ...] (no case: all of them). Every case draws its input
and weights from one generator in CASES' order, so writing some cases leaves the others' files as they
are; add new cases before `unsupported`, whose file only the error message depends on.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

L = keras.layers
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_models")
rng = np.random.default_rng(2026)


def airline():  # seeds 000/001: stateful, batch 1, look_back 3
    model = keras.Sequential([keras.Input(batch_shape=(1, 3, 1)), L.LSTM(4, stateful=True), L.Dense(1)])
    return model, rng.normal(size=(1, 3, 1))


def stacked():
    model = keras.Sequential([keras.Input((7, 3)), L.LSTM(5, return_sequences=True, unit_forget_bias=False),
                              L.GRU(4, return_sequences=True, reset_after=False),
                              L.SimpleRNN(3, activation="relu"), L.Dense(3, activation="softmax")])
    return model, rng.normal(size=(4, 7, 3))


def bidirectional():
    model = keras.Sequential([keras.Input((6, 2)), L.Bidirectional(L.LSTM(3, return_sequences=True)),
                              L.Bidirectional(L.GRU(2, return_sequences=True, reset_after=False), merge_mode="sum"),
                              L.TimeDistributed(L.Dense(2, activation="tanh"))])
    return model, rng.normal(size=(3, 6, 2))


def embedding():  # seed 000's text model shape: ids -> Embedding(mask_zero) -> GRU -> per-step softmax
    model = keras.Sequential([keras.Input((8,)), L.Embedding(12, 4, mask_zero=True),
                              L.GRU(6, return_sequences=True), L.Dropout(0.3),
                              L.TimeDistributed(L.Dense(12)), L.Activation("softmax")])
    x = rng.integers(1, 12, size=(3, 8))
    x[1, 5:] = 0
    x[2, 2:] = 0
    return model, x


def frames():  # seed 002, Type 2: per-frame convolution, then recurrence over frames
    model = keras.Sequential([keras.Input((4, 8, 8, 1)), L.TimeDistributed(L.Conv2D(3, (3, 3), padding="same",
                                                                                     activation="relu")),
                              L.TimeDistributed(L.MaxPooling2D((2, 2))), L.TimeDistributed(L.Flatten()),
                              L.LSTM(5), L.Dense(4, activation="softmax")])
    return model, rng.normal(size=(2, 4, 8, 8, 1))


def repeat():  # seed 000's autoencoder as a Sequential: encode, repeat, decode
    model = keras.Sequential([keras.Input((10,)), L.Reshape((5, 2)), L.LSTM(4), L.RepeatVector(5),
                              L.LSTM(3, return_sequences=True), L.TimeDistributed(L.Dense(2))])
    return model, rng.normal(size=(3, 10))


def masking():  # padded sequences: Masking -> LSTM -> masked mean over time
    model = keras.Sequential([keras.Input((6, 2)), L.Masking(0.0), L.LSTM(3, return_sequences=True),
                              L.GlobalAveragePooling1D(), L.Dense(2)])
    x = rng.normal(size=(3, 6, 2))
    x[1, 4:] = 0
    x[2, 1] = 0  # a masked step inside a sequence
    return model, x


def conv1d():  # Conv1D and the layers around it in Keras's time-series scripts
    model = keras.Sequential([keras.Input((12, 3)),
                              L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
                              L.BatchNormalization(), L.MaxPooling1D(2),
                              L.Conv1D(4, 2, padding="same", groups=2),
                              L.BatchNormalization(center=False, momentum=0.9, epsilon=0.01),
                              L.AveragePooling1D(2, strides=1, padding="same"), L.SpatialDropout1D(0.2),
                              L.ReLU(max_value=0.8, negative_slope=0.1), L.LayerNormalization(axis=[1, 2]),
                              L.Permute((2, 1)), L.GlobalMaxPooling1D(keepdims=True), L.Flatten(),
                              L.LayerNormalization(), L.Dense(2)])
    return model, rng.normal(size=(3, 12, 3))


def convlstm():  # frames -> ConvLSTM2D -> rows as sequences -> ConvLSTM1D
    model = keras.Sequential([keras.Input((3, 5, 5, 2)), L.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                              L.Reshape((3, 25, 3)), L.ConvLSTM1D(2, 3, strides=2, go_backwards=True),
                              L.Flatten(), L.Dense(2)])
    return model, rng.normal(size=(2, 3, 5, 5, 2))


def seq2seq():  # keras-io lstm_seq2seq's training model: encoder states start the decoder
    encoder_inputs = keras.Input((None, 5))
    _, state_h, state_c = L.LSTM(6, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input((None, 4))
    decoder_outputs, _, _ = L.LSTM(6, return_sequences=True, return_state=True)(
        decoder_inputs, initial_state=[state_h, state_c])
    outputs = L.Dense(4, activation="softmax")(decoder_outputs)
    model = keras.Model([encoder_inputs, decoder_inputs], outputs)
    return model, [rng.normal(size=(3, 7, 5)), rng.normal(size=(3, 5, 4))]


def attention():  # two inputs, two outputs; the merge layers; masks into Attention; Dense at two depths
    query, value = keras.Input((5, 3), name="query"), keras.Input((4, 3), name="value")
    q = L.Dense(3, name="query_proj")(query)
    luong = L.Attention(use_scale=True, score_mode="concat")([q, value])
    bahdanau = L.AdditiveAttention()([q, value, value])
    merged = L.Concatenate()([L.Add()([luong, bahdanau]), L.Multiply()([luong, q])])
    masked = L.Attention()([L.Masking()(query), L.Masking()(value)])
    model = keras.Model([query, value], [L.Dense(2)(merged), masked])
    x = [rng.normal(size=(3, 5, 3)), rng.normal(size=(3, 4, 3))]
    x[0][1, 3:] = 0  # masked query steps
    x[1][2, 2:] = 0  # masked value steps
    return model, x


def masked_graph():  # masks through a functional graph, which Keras 3 records as keras.ops calls
    ids, features = keras.Input((6,), dtype="int32", name="ids"), keras.Input((6, 3), name="features")
    embedded = L.Embedding(9, 4, mask_zero=True)(ids)  # mask: NotEqual(ids, 0)
    words = L.LSTM(3, return_sequences=True)(embedded)
    frames = L.TimeDistributed(L.Dense(3))(L.Masking()(features))  # mask: Any(NotEqual(features, 0))
    summed = L.Add()([words, frames])  # mask: LogicalOr
    joined = L.Concatenate()([summed, L.Bidirectional(L.GRU(2, return_sequences=True))(embedded)])
    pooled = L.GlobalAveragePooling1D()(L.Multiply()([words, frames]))
    model = keras.Model([ids, features], [L.LSTM(2)(joined), pooled])
    x_ids = rng.integers(1, 9, size=(3, 6))
    x_ids[1, 4:] = 0
    x_ids[2, 2:] = 0
    x_features = rng.normal(size=(3, 6, 3))
    x_features[0, 3:] = 0
    x_features[2, 1:] = 0  # row 2: both masks cover steps 2-5, so those steps are skipped
    return model, [x_ids, x_features]


def explicit_mask():  # keras-io video_classification's sequence model: a boolean Input passed as GRU's mask=
    features, mask = keras.Input((6, 5), name="frame_features"), keras.Input((6,), dtype="bool", name="frame_mask")
    x = L.GRU(4, return_sequences=True)(features, mask=mask)  # the mask goes on to the next GRU (Keras 3.15)
    x = L.GRU(3)(x)
    x = L.Dropout(0.4)(x)
    x = L.Dense(3, activation="relu")(x)
    model = keras.Model([features, mask], L.Dense(2, activation="softmax")(x))
    x_mask = np.ones((4, 6), dtype=bool)
    x_mask[1, 4:] = False
    x_mask[2, 1:] = False
    x_mask[3, 5:] = False
    x_features = rng.normal(size=(4, 6, 5)) * x_mask[..., None]  # zero features at the masked steps, as the example
    return model, [x_features, x_mask]


def next_frame():  # keras-io conv_lstm's model: ConvLSTM2D, BatchNormalization, Conv3D over frames of any number
    frames = keras.Input((None, 6, 5, 1))
    x = L.ConvLSTM2D(3, (3, 3), padding="same", return_sequences=True, activation="relu")(frames)
    x = L.BatchNormalization()(x)
    x = L.Conv3D(4, (3, 2, 1), strides=(1, 2, 1), activation="relu")(x)  # an uneven kernel shows a layout slip
    x = L.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(frames, x), rng.normal(size=(2, 7, 6, 5, 1))


def small_layers():  # activations, noise and shape layers; the mask passes the noise layers to the LSTM
    model = keras.Sequential([keras.Input((8, 3)), L.Masking(0.0), L.GaussianNoise(0.3, seed=1), L.LeakyReLU(0.2),
                              L.ELU(0.7), L.PReLU(shared_axes=[1]), L.GaussianDropout(0.2), L.AlphaDropout(0.1),
                              L.Identity(), L.UnitNormalization(), L.LSTM(4, return_sequences=True),
                              L.UpSampling1D(2), L.ZeroPadding1D((1, 2)), L.Cropping1D((2, 1)), L.Softmax(axis=1),
                              L.LSTM(3)])
    x = rng.normal(size=(4, 8, 3))
    x[1, 5:] = 0  # masked steps
    x[3, 2:] = 0
    return model, x


def merges():  # Average, Subtract, Maximum, Minimum with masks (one input's or both), and Dot
    a, b = keras.Input((5, 3), name="a"), keras.Input((5, 3), name="b")
    ma, mb = L.Masking()(a), L.Masking()(b)
    average, subtract = L.Average()([ma, b]), L.Subtract()([a, mb])
    both = L.LSTM(2)(L.Maximum()([ma, mb]))  # masked where both inputs are
    one = L.LSTM(2)(L.Minimum()([ma, b]))  # no mask: one input has none
    dots = L.Concatenate()([L.Dot(axes=2)([average, subtract]), L.Dot(axes=(2, 2), normalize=True)([a, b])])
    model = keras.Model([a, b], [both, one, dots])
    x = [rng.normal(size=(3, 5, 3)), rng.normal(size=(3, 5, 3))]
    x[0][1, 3:] = 0
    x[0][2, 1:] = 0
    x[1][2, 2:] = 0  # row 2: steps 2-4 masked in both inputs
    return model, x


def unsupported():
    model = keras.Sequential([keras.Input((6, 2)), L.ActivityRegularization(l1=0.01), L.LSTM(2)])
    return model, rng.normal(size=(1, 6, 2))


CASES = {f.__name__: f for f in (airline, stacked, bidirectional, embedding, frames, repeat, masking, conv1d,
                                 convlstm, seq2seq, attention, masked_graph, explicit_mask, next_frame, small_layers,
                                 merges, unsupported)}


def random_weights(model):
    # Away from Keras's initial values, so a weight read into the wrong place shows; a moving variance
    # must stay positive.
    weights = [rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()]
    paths = [w.path for w in model.weights]
    model.set_weights([np.abs(w) + 0.5 if p.endswith("moving_variance") else w for w, p in zip(weights, paths)])


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:]) or set(CASES)  # e.g. `python scripts/make_keras_models.py masking conv1d`
    for name, make in CASES.items():
        model, x = make()
        random_weights(model)
        if name not in only:
            continue
        y = model.predict(x, verbose=0)
        model.save(os.path.join(OUT, f"{name}.keras"))
        if name != "unsupported":
            model.save(os.path.join(OUT, f"{name}.h5"))
        arrays = {"x": x, "y": y}
        if isinstance(x, list):  # a functional model's inputs and outputs: x0, x1, ... y0, y1, ...
            ys = y if isinstance(y, list) else [y]
            arrays = {**{f"x{i}": a for i, a in enumerate(x)}, **{f"y{i}": a for i, a in enumerate(ys)}}
        np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
        print(name, [np.shape(a) for a in arrays.values()])
