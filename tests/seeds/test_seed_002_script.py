"""Seed 002's whole sine-wave encoder-decoder script, ported: only the imports differ from the Keras
original, and the sizes are reduced (latent 40 -> 8, 150 decoder steps -> 12, 1000 sequences -> 16,
30 steps per epoch -> 3, 2000 epochs -> 4, 470 test waves -> 6)."""

import os

import numpy as np
import pytest
import torch

HORIZON = 12  # the script's literal 150


def run_script(workdir):
    # --- the seed's script from here on; `150` is HORIZON, `149` is HORIZON - 1 ---------------------
    from rnnkit.models import Model
    from rnnkit.layers import Input, LSTM, Dense, TimeDistributed, Lambda, Dropout, Activation, RepeatVector
    from rnnkit.callbacks import ModelCheckpoint
    import numpy as np

    from rnnkit.layers import Lambda
    from rnnkit import backend as K

    from rnnkit.models import load_model

    features_num = 5
    latent_dim = 8

    ##
    encoder_inputs = Input(shape=(None, features_num))
    encoded = LSTM(latent_dim, return_state=False, return_sequences=True)(encoder_inputs)
    encoded = LSTM(latent_dim, return_state=False, return_sequences=True)(encoded)
    encoded = LSTM(latent_dim, return_state=False, return_sequences=True)(encoded)
    encoded = LSTM(latent_dim, return_state=True)(encoded)

    encoder = Model(input=encoder_inputs, output=encoded)
    ##

    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = Input(shape=(1, features_num))
    decoder_lstm_1 = LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_lstm_2 = LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_lstm_3 = LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_lstm_4 = LSTM(latent_dim, return_sequences=True, return_state=True)

    decoder_dense = Dense(features_num)

    all_outputs = []
    inputs = decoder_inputs

    # Place holder values:
    states_1 = encoder_states
    states_2 = states_1; states_3 = states_1; states_4 = states_1

    for _ in range(1):
        # Run the decoder on one timestep
        outputs_1, state_h_1, state_c_1 = decoder_lstm_1(inputs, initial_state=states_1)
        outputs_2, state_h_2, state_c_2 = decoder_lstm_2(outputs_1)
        outputs_3, state_h_3, state_c_3 = decoder_lstm_3(outputs_2)
        outputs_4, state_h_4, state_c_4 = decoder_lstm_4(outputs_3)

        # Store the current prediction (we will concatenate all predictions later)
        outputs = decoder_dense(outputs_4)
        all_outputs.append(outputs)
        # Reinject the outputs as inputs for the next loop iteration
        # as well as update the states
        inputs = outputs
        states_1 = [state_h_1, state_c_1]
        states_2 = [state_h_2, state_c_2]
        states_3 = [state_h_3, state_c_3]
        states_4 = [state_h_4, state_c_4]

    for _ in range(HORIZON - 1):
        # Run the decoder on one timestep
        outputs_1, state_h_1, state_c_1 = decoder_lstm_1(inputs, initial_state=states_1)
        outputs_2, state_h_2, state_c_2 = decoder_lstm_2(outputs_1, initial_state=states_2)
        outputs_3, state_h_3, state_c_3 = decoder_lstm_3(outputs_2, initial_state=states_3)
        outputs_4, state_h_4, state_c_4 = decoder_lstm_4(outputs_3, initial_state=states_4)

        # Store the current prediction (we will concatenate all predictions later)
        outputs = decoder_dense(outputs_4)
        all_outputs.append(outputs)
        # Reinject the outputs as inputs for the next loop iteration
        # as well as update the states
        inputs = outputs
        states_1 = [state_h_1, state_c_1]
        states_2 = [state_h_2, state_c_2]
        states_3 = [state_h_3, state_c_3]
        states_4 = [state_h_4, state_c_4]

    # Concatenate all predictions
    decoder_outputs = Lambda(lambda x: K.concatenate(x, axis=1))(all_outputs)

    model = Model([encoder_inputs, decoder_inputs], decoder_outputs)

    #model = load_model('pre_model.h5')

    print(model.summary())

    model.compile(loss='mean_squared_error', optimizer='adam')

    def create_wavelength(min_wavelength, max_wavelength, fluxes_in_wavelength, category):
        #category :: 0 - train ; 2 - validate ; 4- test. 1;3;5 - dead space
        c = (category + np.random.random()) / 6
        k = fluxes_in_wavelength
        #
        base = (np.trunc(k * np.random.random() * (max_wavelength - min_wavelength)) + k * min_wavelength) / k
        answer = base + c / k
        return (answer)

    def make_line(length, category):
        shift = np.random.random()
        wavelength = create_wavelength(30, 10, 1, category)
        a = np.arange(length)
        answer = np.sin(a / wavelength + shift)
        return answer

    def make_data(seq_num, seq_len, dim, category):
        data = np.array([]).reshape(0, seq_len, dim)
        for i in range(seq_num):
            mini_data = np.array([]).reshape(0, seq_len)
            for j in range(dim):
                line = make_line(seq_len, category)
                line = line.reshape(1, seq_len)
                mini_data = np.append(mini_data, line, axis=0)
            mini_data = np.swapaxes(mini_data, 1, 0)
            mini_data = mini_data.reshape(1, seq_len, dim)
            data = np.append(data, mini_data, axis=0)
        return (data)

    def train_generator():
        while True:
            sequence_length = np.random.randint(15, 30) + HORIZON
            data = make_data(16, sequence_length, features_num, 0)  # category=0 in train

            #   decoder_target_data is the same as decoder_input_data but offset by one timestep

            encoder_input_data = data[:, :-HORIZON, :]  # all but last 150

            decoder_input_data = data[:, -(HORIZON + 1), :]  # the one before the last 150.
            decoder_input_data = decoder_input_data.reshape((decoder_input_data.shape[0], 1, decoder_input_data.shape[1]))

            decoder_target_data = (data[:, -HORIZON:, :])  # last 150
            yield [encoder_input_data, decoder_input_data], decoder_target_data

    def val_generator():
        while True:

            sequence_length = np.random.randint(15, 30) + HORIZON
            data = make_data(16, sequence_length, features_num, 2)  # category=2 in val

            encoder_input_data = data[:, :-HORIZON, :]  # all but last 150

            decoder_input_data = data[:, -(HORIZON + 1), :]  # the one before the last 150.
            decoder_input_data = decoder_input_data.reshape((decoder_input_data.shape[0], 1, decoder_input_data.shape[1]))

            decoder_target_data = (data[:, -HORIZON:, :])  # last 150
            yield [encoder_input_data, decoder_input_data], decoder_target_data

    filepath_for_w = os.path.join(workdir, 'flux_p2p_s2s_model.h5')
    checkpointer = ModelCheckpoint(filepath_for_w, monitor='val_loss', verbose=0, save_best_only=True, mode='auto', period=1)
    history = model.fit_generator(train_generator(), callbacks=[checkpointer], steps_per_epoch=3, epochs=4, verbose=1, validation_data=val_generator(), validation_steps=2)
    model.save(filepath_for_w)

    def predict_wave(input_wave, input_for_decoder):
        pred = model.predict([input_wave, input_for_decoder])

        return pred

    def predict_many_waves_from_input(x):
        x, x2 = x  # x == encoder_input_data ; x==2 decoder_input_data

        instance_num = x.shape[0]

        multi_predict_collection = np.zeros((x.shape[0], HORIZON, x.shape[2]))

        for n in range(instance_num):
            input_wave = x[n, :, :].reshape(1, x.shape[1], x.shape[2])
            input_for_decoder = x2[n, :, :].reshape(1, x2.shape[1], x2.shape[2])
            wave_prediction = predict_wave(input_wave, input_for_decoder)
            multi_predict_collection[n, :, :] = wave_prediction
        return (multi_predict_collection)

    def test_maker():
        if True:
            sequence_length = np.random.randint(15, 30) + HORIZON
            data = make_data(6, sequence_length, features_num, 4)  # category=4 in test

            encoder_input_data = data[:, :-HORIZON, :]  # all but last 150

            decoder_input_data = data[:, -(HORIZON + 1), :]  # the one before the last 150.
            decoder_input_data = decoder_input_data.reshape((decoder_input_data.shape[0], 1, decoder_input_data.shape[1]))

            decoder_target_data = (data[:, -HORIZON:, :])  # last 150
            return [encoder_input_data, decoder_input_data], decoder_target_data

    x, y = test_maker()

    a = predict_many_waves_from_input(x)  # is that right..?
    x_all = x
    x = x[0]  # keep the wave (generated data except last 150 time points)
    maes = [np.mean(np.absolute(y[:, :, k] - a[:, :, k])) for k in range(features_num)]
    # --- end of the seed's script ----------------------------------------------------------------------
    return dict(model=model, encoder=encoder, history=history, a=a, y=y, x=x_all, maes=maes,
                checkpointer=checkpointer, path=filepath_for_w, lstms=[decoder_lstm_1, decoder_lstm_2,
                decoder_lstm_3, decoder_lstm_4], dense=decoder_dense, load_model=load_model)


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    np.random.seed(0)
    torch.manual_seed(0)
    return run_script(str(tmp_path_factory.mktemp("seed002")))


def test_script_trains_and_predicts_the_stated_shapes(script):
    loss = script["history"].history["loss"]
    assert len(loss) == 4 and loss[-1] < loss[0]
    assert script["a"].shape == script["y"].shape == (6, HORIZON, 5)
    assert len(script["maes"]) == 5 and all(np.isfinite(script["maes"]))


def test_graph_shares_one_set_of_weights_per_decoder_layer(script):
    model = script["model"]
    # the 2 Inputs (listed first, as Keras lists its InputLayers) + encoder (4 LSTMs) + 4 decoder LSTMs + Dense +
    # Lambda, however many times the loop called them
    assert len(model.inputs) == 2 and len(model.layers) == 2 + 1 + 4 + 1 + 1
    assert len(model._nodes) == 1 + HORIZON * 5 + 1
    expected = script["encoder"].count_params() + sum(l.count_params() if hasattr(l, "count_params") else
                                                      sum(p.numel() for p in l.parameters())
                                                      for l in [*script["lstms"], script["dense"]])
    assert model.count_params() == expected


def test_graph_equals_the_decoding_loop_written_by_hand(script):
    # Equivalence: the recorded graph computes exactly the seed's loop run eagerly with the same layers.
    model, (enc_in, dec_in) = script["model"], [torch.as_tensor(v, dtype=torch.float32) for v in script["x"]]
    with torch.no_grad():
        _, h, c = script["encoder"](enc_in)
        lstms, dense = script["lstms"], script["dense"]
        inputs, states, outs = dec_in, [[h, c], None, None, None], []
        for step in range(HORIZON):
            x = inputs
            for k, layer in enumerate(lstms):
                init = states[k] if (k == 0 or step > 0) else None
                x, hk, ck = layer(x, initial_state=init)
                states[k] = [hk, ck]
            inputs = dense(x)
            outs.append(inputs)
        by_hand = torch.cat(outs, dim=1).numpy()
    np.testing.assert_allclose(model.predict(script["x"]), by_hand, atol=1e-6)


def test_checkpoint_and_saved_model_reload(script):
    assert script["checkpointer"].saved  # the best epoch was written
    name = [m.name for m in script["model"].layers if type(m).__name__ == "Lambda"][0]
    with pytest.raises(ValueError, match="custom_objects"):
        script["load_model"](script["path"])
    loaded = script["load_model"](script["path"], custom_objects={name: script["model"].get_layer(name).function})
    np.testing.assert_allclose(loaded.predict(script["x"]), script["model"].predict(script["x"]), atol=1e-6)
