"""Sequential: Keras's training API, stateful semantics in fit/predict, summaries and input errors."""

import numpy as np
import pytest
import torch

from rnnkit import (LSTM, GRU, Bidirectional, Dense, Embedding, Input, RepeatVector, ResetStates, Sequential,
                    SimpleRNN, TimeDistributed, optimizers)


def create_dataset(dataset, look_back=1):  # the seeds' helper, verbatim
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back - 1):
        a = dataset[i:(i + look_back), 0]
        dataX.append(a)
        dataY.append(dataset[i + look_back, 0])
    return np.array(dataX), np.array(dataY)


def test_seed_airline_snippet_runs_as_written():
    # Seeds 000/001: only the imports differ from the Keras original.
    t = np.arange(60, dtype="float32")
    dataset = ((np.sin(t / 4) + 1) / 2).reshape(-1, 1)
    train = dataset[:40]
    # reshape into X=t and Y=t+1
    look_back = 3
    trainX, trainY = create_dataset(train, look_back)
    # reshape input to be [samples, time steps, features]
    trainX = np.reshape(trainX, (trainX.shape[0], look_back, 1))
    batch_size = 1
    model = Sequential()
    model.add(LSTM(4, batch_input_shape=(batch_size, look_back, 1), stateful=True))
    model.add(Dense(1))
    model.compile(loss='mean_squared_error', optimizer='adam')
    first = model.evaluate(trainX, trainY, batch_size=batch_size)
    model.reset_states()
    for i in range(100):
        model.fit(trainX, trainY, nb_epoch=1, batch_size=batch_size, verbose=0, shuffle=False)
        model.reset_states()
    last = model.evaluate(trainX, trainY, batch_size=batch_size)
    assert last < first / 3
    assert model.predict(trainX, batch_size=batch_size).shape == (len(trainX), 1)


def _stateful_pair(return_sequences=True):
    torch.manual_seed(1)
    stateful = Sequential([Input((None, 2), batch_size=3), LSTM(5, return_sequences=return_sequences,
                                                                 stateful=True), Dense(1)])
    plain = Sequential([Input((None, 2)), LSTM(5, return_sequences=return_sequences), Dense(1)])
    plain.load_state_dict(stateful.state_dict())
    return stateful, plain


def test_predict_in_two_halves_equals_predict_whole():
    stateful, plain = _stateful_pair()
    x = np.random.randn(3, 10, 2).astype("float32")
    whole = plain.predict(x)
    halves = np.concatenate([stateful.predict(x[:, :4]), stateful.predict(x[:, 4:])], axis=1)
    np.testing.assert_allclose(halves, whole, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful.predict(x), whole, atol=1e-6)


def test_fit_carries_state_batch_to_batch():
    # With a zero learning rate the weights stay put, so the state kept after fitting the chunks of
    # one long sequence must equal the state after reading the whole sequence at once.
    stateful, plain = _stateful_pair(return_sequences=True)
    x = np.random.randn(3, 12, 2).astype("float32")
    chunks_x = np.concatenate([x[:, :4], x[:, 4:8], x[:, 8:]])  # batch k = chunk k of all 3 rows
    stateful.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    stateful.fit(chunks_x, np.zeros((9, 4, 1), "float32"), batch_size=3, shuffle=False, verbose=0)
    ref = LSTM(5, return_sequences=True, return_state=True)
    ref.load_state_dict(stateful.layers[0].state_dict())
    _, h, c = ref(torch.from_numpy(x))
    kept = stateful.get_states()[stateful.layers[0].name]
    torch.testing.assert_close(kept[0], h, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(kept[1], c, atol=1e-6, rtol=1e-5)


def test_train_on_batch_and_predict_on_batch_carry_state():
    stateful, plain = _stateful_pair()
    x = np.random.randn(3, 6, 2).astype("float32")
    first = stateful.predict_on_batch(x[:, :3])
    second = stateful.predict_on_batch(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first, second], 1), plain.predict(x), atol=1e-6)
    stateful.compile("sgd", "mse")
    stateful.reset_states()
    stateful.train_on_batch(x[:, :3], np.zeros((3, 3, 1)))
    assert stateful.get_states()[stateful.layers[0].name] is not None


def test_stateful_fit_refuses_shuffle_and_uneven_batches():
    model = Sequential([Input((3, 1), batch_size=2), LSTM(2, stateful=True), Dense(1)])
    model.compile("adam", "mse")
    x, y = np.zeros((6, 3, 1)), np.zeros((6, 1))
    with pytest.raises(ValueError, match=r"stateful.*Pass shuffle=False"):
        model.fit(x, y, batch_size=2, verbose=0)
    with pytest.raises(ValueError, match=r"7 samples do not split into batches of 2"):
        model.fit(np.zeros((7, 3, 1)), np.zeros((7, 1)), batch_size=2, shuffle=False, verbose=0)


def test_reset_states_callback_equals_manual_loop():
    def train(manual):
        torch.manual_seed(3)
        model = Sequential([Input((3, 1), batch_size=1), LSTM(3, stateful=True), Dense(1)])
        model.compile(optimizers.SGD(learning_rate=0.05), "mse")
        x = np.linspace(0, 1, 24, dtype="float32").reshape(8, 3, 1)
        y = x[:, -1] * 2
        if manual:
            for _ in range(3):
                model.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)
                model.reset_states()
        else:
            model.fit(x, y, batch_size=1, epochs=3, shuffle=False, verbose=0, callbacks=[ResetStates()])
            model.reset_states()
        return model.predict(x, batch_size=1)
    np.testing.assert_allclose(train(True), train(False), atol=1e-6)


def test_history_has_per_epoch_lists_and_val_keys():
    model = Sequential([Input((4, 1)), GRU(3), Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    x, y = np.random.rand(20, 4, 1), np.random.rand(20, 1)
    h = model.fit(x, y, epochs=3, batch_size=5, validation_split=0.25, verbose=0)
    assert set(h.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(len(v) == 3 for v in h.history.values())
    h = model.fit(x, y, epochs=2, batch_size=5, validation_data=(x, y), verbose=0)
    # the last val_loss is the loss of the final weights on (x, y)
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y)[0], rel=1e-5)


def test_summary_matches_keras_param_counts(capsys):
    # seed 004's model: Keras prints 64 / 8,320 / 33
    model = Sequential([Input((None, 1)), TimeDistributed(Dense(32)), LSTM(32, return_sequences=True),
                        TimeDistributed(Dense(1))])
    model.summary()
    text = capsys.readouterr().out
    assert "(None, None, 32)" in text and "8,320" in text and "Total params: 8,417" in text
    assert Sequential([Input((2, 3)), GRU(4)]).count_params() == 3 * (3 * 4 + 4 * 4 + 2 * 4)
    assert Sequential([Input((2, 3)), SimpleRNN(4)]).count_params() == 3 * 4 + 4 * 4 + 4


def test_seed_003_shapes():
    data_x = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]])
    seq = Sequential([Input((2, 3)), LSTM(4, return_sequences=True)])
    last = Sequential([Input((2, 3)), LSTM(4, return_sequences=False)])
    assert seq.predict(data_x).shape == (2, 2, 4)
    assert last.predict(data_x).shape == (2, 4)


def test_one_to_many_and_bidirectional_shapes():
    model = Sequential([Input((3,)), RepeatVector(5), LSTM(4, return_sequences=True)])
    assert model.predict(np.zeros((2, 3))).shape == (2, 5, 4)
    model = Sequential([Input((7, 2)), Bidirectional(GRU(3, return_sequences=True), merge_mode="sum")])
    assert model.predict(np.zeros((2, 7, 2))).shape == (2, 7, 3)


def test_embedding_mask_reaches_lstm():
    # A zero-padded sequence gives the same final output as the unpadded one.
    model = Sequential([Input((5,)), Embedding(10, 4, mask_zero=True), LSTM(3)])
    padded = np.array([[3, 1, 4, 0, 0]])
    short = Sequential([Input((3,)), Embedding(10, 4), LSTM(3)])
    short.load_state_dict(model.state_dict())
    np.testing.assert_allclose(model.predict(padded), short.predict(np.array([[3, 1, 4]])), atol=1e-6)
    assert model.layers[1].last_path == "fused-packed"


def test_model_call_on_numpy_returns_tensor_without_graph():
    # seed 004 writes y_pred = model(x_test); y_pred.numpy()
    model = Sequential([Input((None, 1)), LSTM(2), Dense(1)])
    assert model(np.zeros((1, 4, 1), "float32")).numpy().shape == (1, 1)


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.full((4, 3, 1), np.nan), y=np.zeros((4, 1))), r"x contains NaN or inf \(first at index \(0, 0, 0\)"),
    (dict(x=np.zeros((4, 3, 1)), y=np.zeros((4, 3, 1))), r"return_sequences=True \(many-to-many\)"),
    (dict(x=np.zeros((4, 3, 1)), y=np.zeros((5, 1))), r"x has 4 samples but y has 5"),
    (dict(x=np.zeros((4, 3)), y=np.zeros((4, 1))), r"x\.reshape\(4, 3, 1\)"),
])
def test_fit_bad_input_errors(bad, match):
    model = Sequential([LSTM(2), Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=match):
        model.fit(bad["x"], bad["y"], verbose=0)


def test_sequence_output_with_one_target_per_sample_names_return_sequences():
    model = Sequential([Input((3, 1)), LSTM(2, return_sequences=True), Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"\(N, 1\)|return_sequences=False"):
        model.fit(np.zeros((4, 3, 1)), np.zeros((4, 1)), verbose=0)


def test_unknown_names_list_valid_ones():
    model = Sequential([Input((3, 1)), LSTM(2)])
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamm'.*'adam'"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match=r"Unknown loss 'mse2'.*'mean_squared_error'"):
        model.compile("adam", "mse2")


def test_keras_optimizer_defaults():
    model = Sequential([Input((3, 1)), LSTM(2)])
    model.compile("rmsprop", "mse")
    model.train_on_batch(np.zeros((1, 3, 1)), np.zeros((1, 2)))
    group = model.optimizer.param_groups[0]
    assert (group["lr"], group["rho"], group["epsilon"]) == (0.001, 0.9, 1e-7)  # Keras's names and defaults
    assert optimizers.Adam(lr=0.009).learning_rate == 0.009  # seed 000's old spelling


def test_fit_is_reproducible_under_global_seeds():
    def train():
        np.random.seed(7)
        torch.manual_seed(7)
        model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
        model.compile("adam", "mse")
        x, y = np.random.rand(40, 4, 1), np.random.rand(40, 1)
        return model.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]
    assert train() == train()


def test_training_a_model_with_several_outputs():
    # Keras's multi-output training (once refused here): one loss broadcast to both outputs, the total
    # their sum, each output's loss logged under its layer's name (tests/keras_suite/test_compile_utils.py)
    from rnnkit import Model
    inputs = Input((4, 2))
    h = LSTM(3)(inputs)
    model = Model(inputs, [Dense(1, name="one")(h), Dense(2, name="two")(h)])
    model.compile("adam", "mse")
    x = np.zeros((4, 4, 2), np.float32)
    history = model.fit(x, [np.zeros((4, 1)), np.zeros((4, 2))], verbose=0)
    assert sorted(history.history) == ["loss", "one_loss", "two_loss"]
    np.testing.assert_allclose(history.history["loss"][0],
                               history.history["one_loss"][0] + history.history["two_loss"][0], rtol=1e-6)
