"""rnnkit.utils.plot_model: Keras's call runs (keras-io's timeseries_classification_from_scratch calls
`keras.utils.plot_model(model, show_shapes=True)`) and writes a picture of the model's summary table to
`to_file` (Keras draws the layer graph with pydot/Graphviz instead)."""

import matplotlib.image

import rnnkit
from rnnkit import Conv1D, Dense, GlobalAveragePooling1D, Input, ReLU


def test_plot_model_writes_the_picture(tmp_path, monkeypatch):
    inputs = Input((16, 1))
    x = ReLU()(Conv1D(filters=4, kernel_size=3, padding="same")(inputs))
    model = rnnkit.Model(inputs, Dense(2, activation="softmax")(GlobalAveragePooling1D()(x)))
    monkeypatch.chdir(tmp_path)
    assert rnnkit.utils.plot_model(model, show_shapes=True) is None  # Keras's default file: model.png
    picture = matplotlib.image.imread(tmp_path / "model.png")
    assert picture.ndim == 3 and picture.shape[0] > 50 and picture.shape[1] > 200
    rnnkit.utils.plot_model(model, to_file=str(tmp_path / "m.png"), show_shapes=True, show_layer_names=True,
                            rankdir="LR", expand_nested=True, dpi=96, show_layer_activations=True)
    assert (tmp_path / "m.png").stat().st_size > 0
