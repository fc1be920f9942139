"""Keras's functional-graph attributes, found missing by porting keras-io's lstm_seq2seq (issue 18), which builds its
inference models from a trained, reloaded model:

    encoder_inputs = model.input[0]
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output
    decoder_lstm = model.layers[3]

Keras 3 (checked with 3.15.1): a functional model's `layers` lists its InputLayers first, then each layer once, in
graph order; `model.input` / `model.output` are the input / output tensors (a list when several); `layer.output` is
the output of the layer's FIRST call (a list for return_state=True), also after the layer was called again; an
InputLayer's output is the input tensor; a layer never called on a symbolic tensor has no output."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import LSTM, Dense, Input, Model


def seq2seq():
    enc_in, dec_in = Input((None, 5)), Input((None, 6))
    _, h, c = LSTM(4, return_state=True)(enc_in)
    out, _, _ = LSTM(4, return_sequences=True, return_state=True)(dec_in, initial_state=[h, c])
    return Model([enc_in, dec_in], Dense(6, activation="softmax")(out)), enc_in, dec_in, h, c


def test_layers_list_the_inputs_first_then_each_layer_in_graph_order():
    model, enc_in, dec_in, *_ = seq2seq()
    layers = model.layers
    assert layers[0] is enc_in and layers[1] is dec_in
    assert [type(l).__name__ for l in layers[2:]] == ["LSTM", "LSTM", "Dense"]
    assert layers[0].output is enc_in and layers[0].get_weights() == [] and layers[0].count_params() == 0
    assert model.get_layer(layers[3].name) is layers[3]
    lines = []
    model.summary(print_fn=lines.append)  # the inputs are summary rows once, not twice
    assert lines[0].count("(Input)") == 2


def test_model_input_and_output_are_keras_structures():
    model, enc_in, dec_in, *_ = seq2seq()
    assert model.input == [enc_in, dec_in]
    assert model.output is model.outputs[0]
    single = Model(enc_in, model.layers[2].output[1:])
    assert single.input is enc_in and single.output == model.layers[2].output[1:]


def test_layer_output_is_the_first_calls_output_also_after_a_second_call():
    model, enc_in, dec_in, h, c = seq2seq()
    encoder, decoder = model.layers[2], model.layers[3]
    out, h2, c2 = encoder.output
    assert h2 is h and c2 is c and encoder.input is enc_in
    first = decoder.output
    decoder(Input((None, 6)), initial_state=[Input((4,)), Input((4,))])  # the inference decoder's call
    assert decoder.output[0] is first[0] and decoder.input is dec_in
    assert model.layers[4].output is model.output


def test_a_layer_never_called_symbolically_has_no_output():
    layer = LSTM(3)
    layer(np.zeros((2, 4, 1), "float32"))  # an eager call records nothing
    with pytest.raises(ValueError, match="never been called"):
        layer.output


def test_inference_models_from_a_reloaded_model_reproduce_the_training_model(tmp_path):
    """The example's recipe end to end, on rnnkit's save/load."""
    model, *_ = seq2seq()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    xe, xd = np.random.rand(3, 7, 5).astype("float32"), np.random.rand(3, 4, 6).astype("float32")
    want = model.predict([xe, xd], verbose=0)
    path = tmp_path / "s2s.rnnkit"
    model.save(path)
    model = rnnkit.models.load_model(path)
    _, state_h_enc, state_c_enc = model.layers[2].output
    encoder_model = Model(model.input[0], [state_h_enc, state_c_enc])
    state_inputs = [Input((4,)), Input((4,))]
    out, h, c = model.layers[3](model.input[1], initial_state=state_inputs)
    decoder_model = Model([model.input[1]] + state_inputs, [model.layers[4](out), h, c])
    states = encoder_model.predict(xe, verbose=0)
    steps = []
    for t in range(xd.shape[1]):
        y, *states = decoder_model.predict([xd[:, t:t + 1]] + states, verbose=0)
        steps.append(y[:, 0])
    np.testing.assert_allclose(np.stack(steps, 1), want, atol=1e-5)
