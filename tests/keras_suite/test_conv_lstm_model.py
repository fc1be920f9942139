"""ConvLSTM2D in models and at its boundary: a frame model trains with fit, saves and loads (rnnkit.load),
summary and explain show its shapes with Keras's parameter counts; equivalences the layer promises
(channels_first == channels_last transposed, stateful chunks == the whole sequence, a right-padded mask ==
the shorter sequence, return_sequences' last step == return_sequences=False); bad arguments and inputs
are ValueErrors that say what was expected."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import ConvLSTM2D, Dense, Flatten, Input, Sequential
from rnnkit.layers import ConvLSTM1D, ConvLSTM3D

from recurrent_checks import TOL5, close


def _frames(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def _model():
    return Sequential([Input((4, 8, 8, 1)), ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True),
                       ConvLSTM2D(2, 3), Flatten(), Dense(1)])


def test_frame_model_trains_saves_loads_and_explains(tmp_path, capsys):
    x = _frames((16, 4, 8, 8, 1))
    y = x.mean(axis=(1, 2, 3))
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    loss = model.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False).history["loss"]
    assert loss[-1] < 0.75 * loss[0]
    # Keras's counts: kernel 3*3*1*16 + recurrent 3*3*4*16 + bias 16; then 3*3*4*8 + 3*3*2*8 + 8
    assert [sum(p.numel() for p in layer.parameters()) for layer in model.layers[:2]] == [736, 440]
    path = tmp_path / "frames.rnnkit"
    model.save(path)
    loaded = rnnkit.load(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 4, 8, 8, 4)" in printed and "(None, 6, 6, 2)" in printed and "1,249" in printed
    rows = rnnkit.explain(model).rows
    assert [(r.kind, r.input_shape, r.output_shape) for r in rows[:2]] == [
        ("ConvLSTM2D", (None, 4, 8, 8, 1), (None, 4, 8, 8, 4)), ("ConvLSTM2D", (None, 4, 8, 8, 4), (None, 6, 6, 2))]


def test_stateful_states_survive_save_and_load(tmp_path):
    model = Sequential([Input((3, 5, 5, 2), batch_size=2), ConvLSTM2D(3, 3, padding="same", stateful=True)])
    model.predict(_frames((2, 3, 5, 5, 2)), batch_size=2, verbose=0)
    model.save(tmp_path / "s.rnnkit")
    loaded = rnnkit.load(tmp_path / "s.rnnkit")
    nxt = _frames((2, 3, 5, 5, 2), seed=1)
    close(loaded.predict(nxt, batch_size=2, verbose=0), model.predict(nxt, batch_size=2, verbose=0), TOL5)


def test_channels_first_equals_channels_last_transposed():
    x = _frames((2, 3, 6, 5, 2))
    last = ConvLSTM2D(3, (2, 3), strides=(2, 1), padding="same", return_sequences=True)
    first = ConvLSTM2D(3, (2, 3), strides=(2, 1), padding="same", return_sequences=True,
                       data_format="channels_first")
    last(x)
    first.set_keras_weights(last.keras_weights())
    close(first(x.transpose(0, 1, 4, 2, 3)), last(x).numpy().transpose(0, 1, 4, 2, 3), TOL5)


def test_stateful_chunks_equal_whole_sequence():
    x = _frames((2, 6, 5, 5, 1))
    whole = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    chunked = ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True)
    whole(x)
    chunked.set_keras_weights(whole.keras_weights())
    parts = [chunked(x[:, :3]), chunked(x[:, 3:])]
    close(torch.cat(parts, 1), whole(x), TOL5)


def test_right_padded_mask_equals_shorter_sequence_and_last_step():
    x = _frames((2, 5, 4, 4, 1))
    mask = np.ones((2, 5), bool)
    mask[0, 3:] = False
    layer = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    out = layer(x, mask=mask)
    close(out[0, 2:], np.repeat(layer(x[:1, :3])[:, -1:].numpy(), 3, axis=1)[0], TOL5)  # masked steps repeat h
    last = ConvLSTM2D.from_config({**layer.get_config(), "return_sequences": False, "name": "last"})
    last.set_keras_weights(layer.keras_weights())
    close(last(x), layer(x)[:, -1], TOL5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(filters=2, kernel_size=(3, 3, 3)), r"The `kernel_size` argument must be a tuple of 2 integers"),
    (dict(filters=2, kernel_size=3, strides=0), r"including values \{0\} that do not satisfy `value > 0`"),
    (dict(filters=2, kernel_size=3, padding="causal"), r"`padding` argument must be one of"),
    (dict(filters=2, kernel_size=3, data_format="channels_middle"), r"`data_format` argument must be one of"),
    (dict(filters=0, kernel_size=3), r"filters must be a positive integer"),
    (dict(filters=2, kernel_size=3, dropout=1.5), r"dropout must be in \[0, 1\)"),
    (dict(filters=2, kernel_size=3, input_shape=(4, 8, 1)), r"expects input of 5 axes .*received batch shape"),
])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvLSTM2D(**kwargs)


def test_bad_inputs_are_value_errors():
    layer = ConvLSTM2D(2, 3)
    with pytest.raises(ValueError, match=r"expected input of 5 axes \(batch, time, rows, cols, channels\), received "
                                         r"4-D input .* add the batch axis"):
        layer(np.zeros((3, 8, 8, 1), "float32"))
    layer(np.zeros((1, 3, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match=r"was built for 1 input channels, received 3"):
        layer(np.zeros((1, 3, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r"computed output size would be zero or negative"):
        ConvLSTM1D(2, 5)(np.zeros((1, 2, 3, 1), "float32"))
    with pytest.raises(ValueError, match=r"initial_state states must be feature maps of shape \(1, 6, 6, 2\)"):
        layer(np.zeros((1, 3, 8, 8, 1), "float32"), initial_state=[np.zeros((1, 8, 8, 2))] * 2)
    with pytest.raises(ValueError, match=r"expected input of 6 axes \(batch, time, channels, conv_dim1"):
        ConvLSTM3D(2, 3, data_format="channels_first")(np.zeros((1, 2, 3, 4, 4), "float32"))


def test_explain_names_a_conv_lstm_output_axis_filters():
    from rnnkit.models.shapes import axes_for, last_axis_name

    layer = Sequential([Input((4, 8, 8, 1)), ConvLSTM2D(3, 3, padding="same", return_sequences=True)]).layers[-1]
    assert last_axis_name(layer, "features") == "filters"  # not "units": its steps are feature maps
    assert axes_for((None, 4, 8, 8, 3), "filters") == ("batch", "time_steps", "rows", "cols", "filters")
