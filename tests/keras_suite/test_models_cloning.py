"""rnnkit.models.clone_model, model.to_json / rnnkit.models.model_from_json and rnnkit.models.save_model.

Ported from Keras 3.15.1's keras/src/models/cloning_test.py: test_cloning_correctness (mlp_functional,
cnn_functional, sequential, deferred_sequential), test_custom_clone_function (3), test_input_tensors (3),
test_shared_layers_cloning, test_call_fn, test_recursive, test_recursive_multi_level and
test_compiled_model_cloning, with Keras's expected values. Keras's `model._flatten_layers()` is the model's
Dense modules in order here; rnnkit's Sequential has no `inputs`, so test_input_tensors checks the
Sequential's input spec.

Not applicable: test_cloning_correctness's "subclassed" case (Keras records a subclassed model's
constructor arguments by itself; an rnnkit BaseModel subclass is cloned from its registered config) and
test_structured_io_cloning (dict inputs/outputs and `x + y` on symbolic tensors).

The JSON fixtures in tests/fixtures/keras_json were written by Keras 3.15.1 (torch backend) with
`model.to_json()`; their parameter counts (185, 135) are Keras's `count_params()`.
"""

from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit import layers
from rnnkit.models import ManyToOne, Model, OneToMany, Sequential, clone_model, model_from_json, save_model
from rnnkit.utils import set_random_seed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras_json"


def get_mlp_functional_model(shared_layers=False):
    inputs = layers.Input(shape=(3,))
    x = layers.Dense(2)(inputs)
    if shared_layers:
        layer = layers.Dense(2, name="shared")
        x = layer(x)
        x = layer(x)
    outputs = layers.Dense(2)(x)
    return Model(inputs, outputs)


def get_nested_functional_model():
    inputs = layers.Input(shape=(4,))
    x = layers.Dense(3)(inputs)
    x = get_mlp_functional_model()(x)
    outputs = layers.Dense(2)(x)
    return Model(inputs, outputs)


def get_sequential_model(explicit_input=True):
    model = Sequential()
    if explicit_input:
        model.add(layers.Input(shape=(3,)))
    model.add(layers.Dense(2))
    model.add(layers.Dense(2))
    return model


def get_nested_sequential_model():
    model = Sequential()
    model.add(layers.Dense(2))
    model.add(get_sequential_model(explicit_input=False))
    model.add(layers.Dense(2))
    return model


def get_doubly_nested_functional_model():
    inputs = layers.Input(shape=(5,))
    x = layers.Dense(4)(inputs)
    x = get_nested_functional_model()(x)
    outputs = layers.Dense(2)(x)
    return Model(inputs, outputs)


def get_doubly_nested_sequential_model():
    model = Sequential()
    model.add(layers.Dense(3))
    model.add(get_nested_sequential_model())
    model.add(layers.Dense(2))
    return model


def get_cnn_functional_model(shared_layers=False):
    inputs = layers.Input(shape=(7, 3))
    x = layers.Conv1D(2, 2, padding="same")(inputs)
    if shared_layers:
        layer = layers.Conv1D(2, 2, padding="same", name="shared")
        x = layer(x)
        x = layer(x)
    outputs = layers.Conv1D(2, 2, padding="same")(x)
    return Model(inputs, outputs)


def get_cnn_sequential_model(explicit_input=True):
    model = Sequential()
    if explicit_input:
        model.add(layers.Input(shape=(7, 3)))
    model.add(layers.Conv1D(2, 2, padding="same"))
    model.add(layers.Conv1D(2, 2, padding="same"))
    return model


def assert_models_equal(model1, model2, ref_input):
    out1, out2 = model1.predict(ref_input, verbose=0), model2.predict(ref_input, verbose=0)
    for r1, r2 in zip(out1 if isinstance(out1, list) else [out1], out2 if isinstance(out2, list) else [out2]):
        np.testing.assert_allclose(r1, r2, rtol=1e-6, atol=1e-6)


def flatten_layers(model) -> list:
    """Keras's model._flatten_layers() for these models: their Dense layers in order, nested models included."""
    return [m for m in model.modules() if isinstance(m, layers.Dense)]


# -- cloning_test.py -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_fn, is_conv", [
    (get_mlp_functional_model, False), (lambda: get_cnn_functional_model(True), True), (get_sequential_model, False),
    (lambda: get_sequential_model(explicit_input=False), False)],
    ids=["mlp_functional", "cnn_functional", "sequential", "deferred_sequential"])
def test_cloning_correctness(model_fn, is_conv):
    ref_input = np.random.random((2, 7, 3) if is_conv else (2, 3)).astype("float32")
    model = model_fn()
    new_model = clone_model(model)
    model(ref_input)  # maybe needed to build the model
    new_model(ref_input)
    new_model.set_weights(model.get_weights())
    assert_models_equal(model, new_model, ref_input)


@pytest.mark.parametrize("model_fn", [get_mlp_functional_model, get_cnn_functional_model, get_sequential_model],
                         ids=["mlp_functional", "cnn_functional", "sequential"])
def test_custom_clone_function(model_fn):
    def clone_function(layer):
        config = layer.get_config()
        config["name"] = f"{config['name']}_custom"
        return layer.__class__.from_config(config)

    model = model_fn()
    new_model = clone_model(model, clone_function=clone_function)
    for l1, l2 in zip(model.layers, new_model.layers):
        if not isinstance(l1, layers.InputLayer):
            assert l2.name == f"{l1.name}_custom"


@pytest.mark.parametrize("model_fn", [get_cnn_functional_model, get_cnn_sequential_model,
                                      lambda: get_cnn_sequential_model(explicit_input=False)],
                         ids=["cnn_functional", "cnn_sequential", "cnn_sequential_noinputlayer"])
def test_input_tensors(model_fn):
    ref_input = np.random.random((2, 7, 3)).astype("float32")
    model = model_fn()
    model(ref_input)
    if isinstance(model, Model):
        input_tensor = model.inputs[0]
        new_model = clone_model(model, input_tensors=input_tensor)
        assert len(new_model.inputs) == len(model.inputs) and new_model.inputs[0] is input_tensor
        assert len(new_model.outputs) == len(model.outputs)
    else:
        input_tensor = model.input_spec or layers.Input((7, 3))
        new_model = clone_model(model, input_tensors=input_tensor)
        assert new_model.input_spec is input_tensor
    assert new_model.predict(ref_input, verbose=0).shape == (2, 7, 2)


def test_shared_layers_cloning():
    new_model = clone_model(get_mlp_functional_model(shared_layers=True))
    assert len(new_model.layers) == 4
    assert new_model.layers[2].name == "shared"


def test_call_fn():
    model = get_mlp_functional_model(shared_layers=False)

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if isinstance(layer, layers.Dense):
            out = layers.Dropout(0.5)(out)
        return out

    new_model = clone_model(model, clone_function=lambda x: x, call_function=call_function)  # the same layers
    assert len(model.layers) == 3 and len(new_model.layers) == 5
    assert isinstance(new_model.layers[2], layers.Dropout) and isinstance(new_model.layers[4], layers.Dropout)
    assert_models_equal(model, new_model, np.random.random((2, 3)).astype("float32"))


def test_recursive():
    model = get_nested_functional_model()

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if isinstance(layer, layers.Dense):
            out = layers.Dropout(0.5)(out)
        return out

    new_model = clone_model(model, clone_function=lambda x: x, call_function=call_function, recursive=True)
    assert isinstance(new_model.layers[3].layers[2], layers.Dropout)
    assert isinstance(new_model.layers[3].layers[4], layers.Dropout)
    assert_models_equal(model, new_model, np.random.random((2, 4)).astype("float32"))

    def clone_function(layer):
        layer = layer.__class__.from_config(layer.get_config())
        layer.flag = True
        return layer

    model = get_nested_sequential_model()
    new_model = clone_model(model, clone_function=clone_function, recursive=True)
    ref_input = np.random.random((2, 3)).astype("float32")
    model(ref_input)
    new_model(ref_input)
    new_model.set_weights(model.get_weights())
    assert_models_equal(model, new_model, ref_input)
    for l1, l2 in zip(flatten_layers(model), flatten_layers(new_model)):
        assert not hasattr(l1, "flag") and hasattr(l2, "flag")


def test_recursive_multi_level():
    def clone_function(layer):
        layer = layer.__class__.from_config(layer.get_config())
        layer.flag = True
        return layer

    for model, width in ((get_doubly_nested_functional_model(), 5), (get_doubly_nested_sequential_model(), 5)):
        new_model = clone_model(model, clone_function=clone_function, recursive=True)
        ref_input = np.random.random((2, width)).astype("float32")
        model(ref_input)
        new_model(ref_input)
        new_model.set_weights(model.get_weights())
        assert_models_equal(model, new_model, ref_input)
        # every Dense down to the deepest level was cloned (clone_function applied), not shared
        assert len(flatten_layers(model)) == len(flatten_layers(new_model)) > 4
        for l1, l2 in zip(flatten_layers(model), flatten_layers(new_model)):
            assert not hasattr(l1, "flag") and hasattr(l2, "flag")


def test_compiled_model_cloning():
    model = Sequential()
    model.add(layers.Input((3,)))
    model.add(layers.Dense(5, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    cloned_model = clone_model(model)
    assert model.compiled == cloned_model.compiled


# -- rnnkit's own: clone_model ---------------------------------------------------------------------------------------
def test_clone_has_new_weights_and_the_same_config():
    set_random_seed(0)
    model = Sequential([layers.Input((6, 2)), layers.LSTM(4, return_sequences=True), layers.GRU(3), layers.Dense(1)])
    clone = clone_model(model)
    assert clone.get_config() == model.get_config()
    assert all(a.shape == b.shape for a, b in zip(clone.get_weights(), model.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()))
    assert all(a is not b for a, b in zip(clone.parameters(), model.parameters()))


def test_compiled_clone_trains_with_its_own_optimizer():
    model = Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=rnnkit.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    clone = clone_model(model)
    assert clone.compiled and clone.optimizer_config.learning_rate == 0.01
    before = [w.copy() for w in model.get_weights()]
    history = clone.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the original is untouched


def test_clone_keeps_a_lambda_and_a_stateful_layer():
    model = Sequential([layers.Input(batch_shape=(2, 4, 1)), layers.LSTM(3, stateful=True),
                        layers.Lambda(lambda t: t * 2), layers.Dense(1)])
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    x = np.random.rand(2, 4, 1).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert clone.layers[0].stateful and clone.layers[1].function is model.layers[1].function


def test_clone_of_a_topology_and_refusals():
    sequential = ManyToOne(units=4, features=2)
    clone = clone_model(sequential)  # a Sequential subclass is cloned as a Sequential, as Keras's
    assert type(clone) is Sequential and clone.get_config()["layers"] == sequential.get_config()["layers"]
    model = OneToMany(features=2, horizon=3, units=4)  # another BaseModel: rebuilt from its arguments
    clone = clone_model(model)
    assert type(clone) is OneToMany and clone.init_config == model.init_config
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional models"):
        clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="`call_function` argument is not supported with Sequential"):
        clone_model(get_sequential_model(), call_function=lambda layer, *a, **k: layer(*a, **k))
    with pytest.raises(ValueError, match="`input_tensors` must have the same structure as model.input"):
        clone_model(get_mlp_functional_model(), input_tensors=[layers.Input((3,)), layers.Input((3,))])
    with pytest.raises(ValueError, match="Unexpected keyword argument"):
        clone_model(model, bogus=1)
    with pytest.raises(TypeError, match="clone_model takes an rnnkit model"):
        clone_model(layers.Dense(2))


def test_clone_of_a_multi_input_functional_model_with_a_nested_model():
    a, b = layers.Input((5, 2), name="a"), layers.Input((3,), name="b")
    inner = Sequential([layers.Input((3,)), layers.Dense(2)])
    out = layers.Dense(1)(layers.Concatenate()([layers.LSTM(4)(a), inner(b)]))
    model = Model([a, b], out)
    clone = clone_model(model)
    assert [s.name for s in clone.inputs] == ["a", "b"] and clone.layers[0] is not a
    clone.set_weights(model.get_weights())
    x = [np.random.rand(2, 5, 2).astype("float32"), np.random.rand(2, 3).astype("float32")]
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


# -- to_json / model_from_json / save_model -------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Sequential([layers.Input((5, 2)), layers.LSTM(3), layers.Dense(1)], name="s"),
    get_nested_functional_model,
    lambda: Sequential([layers.Embedding(10, 4), layers.Bidirectional(layers.GRU(3)), layers.Dense(2)]),
], ids=["sequential", "nested_functional", "deferred_sequential"])
def test_to_json_and_model_from_json(make):
    model = make()
    json_string = model.to_json()
    assert '"class_name"' in json_string
    rebuilt = model_from_json(json_string)
    assert type(rebuilt) is type(model) and rebuilt.name == model.name
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.to_json() == json_string


def test_model_from_json_with_a_custom_layer():
    @rnnkit.utils.register_keras_serializable("json_test")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, x, training=None):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = Sequential([layers.Input((3,)), Scale(3.0), layers.Dense(1)])
    rebuilt = model_from_json(model.to_json())
    assert isinstance(rebuilt.layers[0], Scale) and rebuilt.layers[0].factor == 3.0


def test_model_from_json_reads_keras_written_json():
    seq = model_from_json((FIXTURES / "sequential.json").read_text())
    assert isinstance(seq, Sequential) and seq.name == "seq_json"
    assert [type(layer).__name__ for layer in seq.layers] == ["LSTM", "GRU", "Dense"]
    assert seq.count_params() == 185  # Keras's count_params()
    assert seq.predict(np.zeros((2, 5, 2), "float32"), verbose=0).shape == (2, 1)
    fun = model_from_json((FIXTURES / "functional.json").read_text())
    assert isinstance(fun, Model) and fun.name == "fun_json" and fun.count_params() == 135
    assert [s.name for s in fun.inputs] == ["series", "static"]
    out = fun.predict([np.zeros((2, 6, 3), "float32"), np.zeros((2, 2), "float32")], verbose=0)
    assert out.shape == (2, 1)


def test_model_from_json_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match="not a model"):
        model_from_json('{"module": "rnnkit.layers", "class_name": "Dense", "config": {"units": 2}, '
                        '"registered_name": null}')


@pytest.mark.parametrize("suffix", [".keras", ".rnnkit"])
def test_save_model_is_model_save(tmp_path, suffix):
    model = Sequential([layers.Input((4, 1)), layers.LSTM(2), layers.Dense(1)])
    path = tmp_path / f"m{suffix}"
    save_model(model, path)
    x = np.random.rand(3, 4, 1).astype("float32")
    np.testing.assert_allclose(rnnkit.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        save_model(model, path, overwrite=False)
