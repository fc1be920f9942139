"""Functional models: Model(inputs, outputs), shared layers, nested models, masks, saving, errors."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import (GRU, LSTM, Concatenate, Dense, Embedding, Input, Lambda, Model, RepeatVector, Sequential,
                    TimeDistributed, concatenate)


def test_seed_000_autoencoder_as_written():
    # Seed 000: encoder = Model(inputs, outputs); decoder likewise; autoencoder = Model(inputs, decoder(encoder(inputs))).
    steps, features, hidden1, hidden2, hidden3, hidden4 = 8, 2, 8, 8, 4, 8
    t = np.linspace(0, 4 * np.pi, 200)
    X = np.stack([np.stack([np.sin(t[i:i + steps]), np.cos(t[i:i + steps])], -1) for i in range(0, 192, 2)])
    X = X.astype("float32") * 0.8

    inputs = Input((steps, features))
    outputs = LSTM(hidden1, return_sequences=True)(inputs)
    outputs = LSTM(hidden2, return_sequences=True)(outputs)
    outputs = LSTM(hidden3)(outputs)
    encoder = Model(inputs, outputs)

    inputs = Input((hidden3,))
    outputs = RepeatVector(steps)(inputs)
    outputs = LSTM(hidden4, return_sequences=True)(outputs)
    outputs = LSTM(features, return_sequences=True)(outputs)
    decoder = Model(inputs, outputs)

    inputs = Input((steps, features))
    outputs = encoder(inputs)
    outputs = decoder(outputs)
    autoencoder = Model(inputs, outputs)

    autoencoder.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.02), loss="mse")
    history = autoencoder.fit(X, X, epochs=60, batch_size=32, verbose=0)
    # Equivalence: the composed model is exactly decoder(encoder(x)), with the same weights.
    np.testing.assert_allclose(autoencoder.predict(X), decoder.predict(encoder.predict(X)), atol=1e-6)
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()
    baseline = float(np.mean((X - X.mean(axis=0)) ** 2))  # predict the mean window
    assert history.history["loss"][-1] < 0.5 * baseline


def test_a_reused_layer_has_one_set_of_weights():
    shared = LSTM(4)
    a, b = Input((5, 3)), Input((7, 3))
    model = Model([a, b], Concatenate()([shared(a), shared(b)]))
    assert model.count_params() == sum(p.numel() for p in shared.parameters()) == 4 * 4 * (3 + 4 + 1)
    assert len([k for k in model.state_dict() if k.endswith("weight_ih")]) == 1
    xa, xb = np.random.rand(2, 5, 3), np.random.rand(2, 7, 3)
    out = model.predict([xa, xb])
    np.testing.assert_allclose(out[:, :4], shared(torch.tensor(xa, dtype=torch.float32)).detach(), atol=1e-6)
    np.testing.assert_allclose(out[:, 4:], shared(torch.tensor(xb, dtype=torch.float32)).detach(), atol=1e-6)
    # Both uses contribute to one gradient.
    model.compile(loss="mse", optimizer="sgd")
    model.train()
    y = model([torch.tensor(xa, dtype=torch.float32), torch.tensor(xb, dtype=torch.float32)])
    y.sum().backward()
    g_both = shared.cell.weight_ih.grad.clone()
    shared.cell.weight_ih.grad = None
    (shared(torch.tensor(xa, dtype=torch.float32)).sum() + shared(torch.tensor(xb, dtype=torch.float32)).sum()).backward()
    torch.testing.assert_close(g_both, shared.cell.weight_ih.grad)


def test_return_state_and_initial_state_wiring_equals_manual():
    enc_in, dec_in = Input((None, 2)), Input((None, 2))
    _, h, c = LSTM(5, return_state=True)(enc_in)
    decoder = LSTM(5, return_sequences=True)
    out = TimeDistributed(Dense(2))(decoder(dec_in, initial_state=[h, c]))
    model = Model([enc_in, dec_in], out)
    xe, xd = np.random.rand(3, 6, 2), np.random.rand(3, 4, 2)
    assert model.layers[:2] == [enc_in, dec_in]  # as Keras: the inputs (InputLayers) first
    enc = model.layers[2]
    with torch.no_grad():
        _, h0, c0 = enc(torch.tensor(xe, dtype=torch.float32))
        ref = model.layers[4](decoder(torch.tensor(xd, dtype=torch.float32), initial_state=[h0, c0]))
    np.testing.assert_allclose(model.predict([xe, xd]), ref.numpy(), atol=1e-6)


def test_masks_flow_through_the_graph_as_in_sequential():
    seq = Sequential([Input((6,)), Embedding(10, 3, mask_zero=True), GRU(4)])
    ids = Input((6,), dtype="int64")
    functional = Model(ids, seq.layers[1](seq.layers[0](ids)))
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]])
    np.testing.assert_allclose(functional.predict(x), seq.predict(x), atol=1e-6)
    unmasked = seq.layers[1](seq.layers[0].weight[torch.tensor(x)]).detach().numpy()
    assert not np.allclose(functional.predict(x)[0], unmasked[0])  # the padding really was skipped


def test_functional_model_saves_and_reloads(tmp_path):
    def double(t):
        return t * 2
    inputs = Input((5, 2))
    shared = Dense(3)
    seq = LSTM(4, return_sequences=True)(inputs)
    joined = concatenate([shared(seq), shared(Lambda(double)(seq))], axis=-1)
    model = Model(inputs, LSTM(2)(joined))
    model.save(tmp_path / "m.rnnkit")
    with pytest.raises(ValueError, match="custom_objects=\\{'double': fn\\}"):
        rnnkit.load(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit", custom_objects={"double": double})
    x = np.random.rand(3, 5, 2)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)
    assert loaded.count_params() == model.count_params()


def test_stateful_functional_model_carries_and_resets_state():
    inputs = Input(batch_shape=(2, None, 1))
    model = Model(inputs, Dense(1)(LSTM(3, stateful=True)(inputs)))
    x = np.random.rand(2, 4, 1)
    first = model.predict(x)
    assert not np.allclose(first, model.predict(x))
    model.reset_states()
    np.testing.assert_allclose(model.predict(x), first, atol=1e-6)


def test_generator_is_never_read_past_what_each_epoch_needs():
    reads = {"train": 0, "val": 0}

    def batches(kind):
        while True:
            reads[kind] += 1
            x = np.random.rand(4, 3, 1).astype("float32")
            yield [x, x[:, :1]], x.sum(axis=1)

    a, b = Input((3, 1)), Input((1, 1))
    model = Model([a, b], Dense(1)(concatenate([LSTM(2)(a), LSTM(2)(b)])))
    model.compile(loss="mse", optimizer="adam")
    history = model.fit_generator(batches("train"), steps_per_epoch=5, epochs=3, verbose=0,
                                  validation_data=batches("val"), validation_steps=2)
    assert reads == {"train": 15, "val": 6}
    assert len(history.history["val_loss"]) == 3


# -- errors ------------------------------------------------------------------------------------------------
def test_disconnected_input_is_named():
    a, b = Input((3, 1), name="history"), Input((3, 1), name="calendar")
    with pytest.raises(ValueError, match="Input 'calendar'.*not connected"):
        Model([a, b], LSTM(2)(a))
    with pytest.raises(ValueError, match="depend on Input 'calendar'.*Add it to inputs"):
        Model(a, concatenate([LSTM(2)(a), LSTM(2)(b)]))


def test_shape_mismatch_names_the_layer_and_shapes():
    dense = Dense(2, name="head")
    dense(Input((4,)))
    with pytest.raises(ValueError, match="Layer 'head' cannot take input of shape \\(None, 7\\).*built for 4"):
        dense(Input((7,)))
    with pytest.raises(ValueError, match="Layer 'join'.*\\(None, 3, 2\\), \\(None, 4, 5\\)"):
        Concatenate(axis=1, name="join")([Input((3, 2)), Input((4, 5))])


def test_symbols_are_not_numbers():
    x = Input((3, 1))
    with pytest.raises(TypeError, match="symbolic.*Lambda"):
        x * 2
    with pytest.raises(TypeError, match="symbolic"):
        torch.tanh(x)
    with pytest.raises(TypeError, match="inputs must be Input\\(\\.\\.\\.\\) tensors; received the output of layer"):
        Model(LSTM(2, return_sequences=True)(x), Dense(1)(x))


def test_wrong_number_of_inputs_at_call_time():
    a, b = Input((3, 1), name="p"), Input((3, 1), name="q")
    model = Model([a, b], concatenate([LSTM(2)(a), LSTM(2)(b)]))
    with pytest.raises(ValueError, match="takes 2 input\\(s\\) \\['p', 'q'\\], received 1"):
        model.predict(np.zeros((1, 3, 1)))


def test_a_declared_batch_size_stays_in_the_symbolic_shapes():
    inputs = Input(batch_shape=(3, 2, 4))
    out = LSTM(5)(inputs)
    assert out.shape == (3, 5)
    assert LSTM(5)(Input((2, 4))).shape == (None, 5)
