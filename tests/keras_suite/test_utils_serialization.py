"""Keras's custom-object registry and serialize_keras_object / deserialize_keras_object in rnnkit.utils.

Ported from Keras 3.15.1: keras/src/saving/object_registration_test.py (all 5 cases) and
keras/src/saving/serialization_lib_test.py (test_simple_objects, test_builtin_layers, test_serialize_ellipsis,
test_tensors_and_shapes, test_custom_fn, test_custom_layer, test_lambda_fn's safe-mode half, test_lambda_layer's,
test_deserialize_invalid_type_config, test_deserialize_invalid_function_config, test_layer_sharing,
test_keras36_custom_function_reloading, test_layer_string_as_activation, test_malformed_layer_for_sequential_model,
the registered_name cases and test_registered_custom_object_still_resolves), with Keras's expected values;
then rnnkit's own cases (each family's round trip through JSON, Keras-written configs, scopes, rnnkit's
registry, clear_session).

Adapted: test_custom_object_scope checks the scope with rnnkit.regularizers.get (as Keras) and, for the
function, deserialize_keras_object (Keras uses keras.activations.get); Keras layers' get_weights/set_weights
are state_dict copies (rnnkit layers are torch modules; models have get_weights).
Not applicable: test_lambda_fn's and test_lambda_layer's safe_mode=False halves and test_safe_mode_scope
(rnnkit never runs code from a config, so a lambda never loads); test_deserialize_invalid_typespec_config
(TensorFlow TypeSpecs); test_numpy_get_item_layer (Keras ops on symbolic tensors: rnnkit's symbols refuse
arithmetic and indexing, a Lambda layer does it); test_dict_inputs_outputs (dict inputs and outputs of a
functional model); test_shared_inner_layer and test_shared_object (Keras's ObjectSharingScope /
shared_object_id); test_functional_subclass (subclasses of the functional Model rebuilt from Keras's
functional config); test_layer_instance_as_activation and test_layer_instance_with_config_as_activation
(a layer as another layer's activation: rnnkit saves activations by name); test_missing_name_for_sequential_model
(rnnkit names a Sequential whose config has no name instead of refusing it).
"""

import json
import threading

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import losses, metrics, optimizers, regularizers, schedules
from rnnkit.layers import GRU, LSTM, Bidirectional, Dense, Input, Lambda, Layer
from rnnkit.models import Model, Sequential
from rnnkit.utils import (CustomObjectScope, clear_session, custom_object_scope, deserialize_keras_object,
                          get_custom_objects, get_registered_name, get_registered_object, register_keras_serializable,
                          serialize_keras_object)


def roundtrip(obj, custom_objects=None, safe_mode=True):
    serialized = serialize_keras_object(obj)
    json_data = json.loads(json.dumps(serialized))
    deserialized = deserialize_keras_object(json_data, custom_objects=custom_objects, safe_mode=safe_mode)
    return serialized, deserialized, serialize_keras_object(deserialized)


def _same_output(layer_1, layer_2, x):
    layer_2.load_state_dict(layer_1.state_dict())
    np.testing.assert_allclose(layer_1(x).detach().numpy(), layer_2(x).detach().numpy(), atol=1e-5)


def custom_fn(x):
    return x ** 2


class CustomLayer(Layer):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


class NestedCustomLayer(Layer):
    def __init__(self, factor, dense=None, activation=None):
        super().__init__()
        self.factor = factor
        if dense is None:
            self.dense = Dense(1, activation=custom_fn)
        else:
            self.dense = deserialize_keras_object(dense)
        self.activation = deserialize_keras_object(activation)

    def forward(self, x):
        return self.dense(x * self.factor)

    def get_config(self):
        return {"factor": self.factor, "dense": self.dense, "activation": self.activation}


# -- object_registration_test.py -----------------------------------------------------------------------------------
def test_custom_object_scope():
    def custom_fn():
        pass

    class CustomClass:
        pass

    def check_get():
        with custom_object_scope({"CustomClass": CustomClass, "custom_fn": custom_fn}):
            actual_custom_fn = deserialize_keras_object({"class_name": "function", "config": "custom_fn"})
            assert actual_custom_fn is custom_fn
            actual_custom_class = regularizers.get("CustomClass")
            assert actual_custom_class.__class__ is CustomClass

    check_get()
    errors = []

    def in_thread():
        try:
            check_get()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    with custom_object_scope({"CustomClass": CustomClass, "custom_fn": custom_fn}):
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
    assert not errors


def test_serialize_custom_class_with_default_name():
    @register_keras_serializable()
    class TestClass:
        def __init__(self, value):
            self._value = value

        def get_config(self):
            return {"value": self._value}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    inst = TestClass(value=10)
    assert get_registered_name(TestClass) == "Custom>TestClass"
    config = serialize_keras_object(inst)
    assert config["class_name"] == "TestClass"
    new_inst = deserialize_keras_object(config)
    assert new_inst is not inst and isinstance(new_inst, TestClass) and new_inst._value == 10


def test_serialize_custom_class_with_custom_name():
    @register_keras_serializable("TestPackage", "CustomName")
    class OtherTestClass:
        def __init__(self, val):
            self._val = val

        def get_config(self):
            return {"val": self._val}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    inst = OtherTestClass(val=5)
    class_name = get_registered_name(OtherTestClass)
    assert class_name == "TestPackage>CustomName"
    assert get_registered_object(class_name) is OtherTestClass
    config = serialize_keras_object(inst)
    assert config["class_name"] == "OtherTestClass"
    new_inst = deserialize_keras_object(config)
    assert new_inst is not inst and isinstance(new_inst, OtherTestClass) and new_inst._val == 5


def test_serialize_custom_function():
    @register_keras_serializable()
    def my_fn():
        return 42

    assert get_registered_name(my_fn) == "Custom>my_fn"
    fn = deserialize_keras_object(serialize_keras_object(my_fn))
    assert fn() == 42
    assert get_registered_object("Custom>my_fn")() == 42


def test_serialize_custom_class_without_get_config_fails():
    with pytest.raises(ValueError, match="Cannot register a class that does not have a get_config.*"):
        @register_keras_serializable("TestPackage", "TestClass")
        class TestClass:
            def __init__(self, value):
                self._value = value


# -- serialization_lib_test.py -------------------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [
    "hello", b"hello", np.array([0, 1]), np.array([0.0, 1.0]), np.float32(1.0), ["hello", 0, "world", 1.0, True],
    {"1": "hello", "2": 0, "3": True}, {"1": "hello", "2": [True, False]}, slice(None, 20, 1),
    slice(None, np.array([0, 1]), 1)])
def test_simple_objects(obj):
    serialized, _, reserialized = roundtrip(obj)
    assert serialized == reserialized


def test_builtin_layers():
    # Keras's Dense(3, name="foo", trainable=False, dtype="float16"): rnnkit layers take neither trainable nor
    # dtype (models hold the dtype policy), so the layer's own arguments instead
    layer = Dense(3, name="foo", activation="tanh", use_bias=False)
    serialized, restored, reserialized = roundtrip(layer)
    assert serialized == reserialized
    assert restored.name == layer.name and restored.get_config() == layer.get_config()
    assert restored is not layer


def test_serialize_ellipsis():
    _, deserialized, _ = roundtrip(Ellipsis)
    assert deserialized is ...


def test_tensors_and_shapes():
    x = torch.randn((2, 2), dtype=torch.float64)
    _, new_obj, _ = roundtrip({"x": x})
    assert new_obj["x"].dtype == torch.float64
    np.testing.assert_allclose(x.numpy(), new_obj["x"].numpy(), atol=1e-5)
    _, new_obj, _ = roundtrip({"x.shape": x.shape})
    assert tuple(x.shape) == tuple(new_obj["x.shape"])


def test_custom_fn():
    serialized, _, reserialized = roundtrip({"activation": custom_fn}, custom_objects={"custom_fn": custom_fn})
    assert serialized == reserialized
    dense = Dense(1, activation=custom_fn, input_size=2)
    _, new_dense, _ = roundtrip(dense, custom_objects={"custom_fn": custom_fn})
    _same_output(dense, new_dense, torch.randn(2, 2))


def test_custom_layer():
    layer = CustomLayer(factor=2)
    x = torch.randn(2, 2)
    _, new_layer, _ = roundtrip(layer, custom_objects={"CustomLayer": CustomLayer})
    np.testing.assert_allclose(layer(x).numpy(), new_layer(x).numpy(), atol=1e-5)

    layer = NestedCustomLayer(factor=2)
    layer(x)  # builds the inner Dense
    _, new_layer, _ = roundtrip(layer, custom_objects={"NestedCustomLayer": NestedCustomLayer, "custom_fn": custom_fn})
    new_layer(x)
    _same_output(layer, new_layer, x)


def test_lambda_fn():
    obj = {"activation": lambda x: x ** 2}
    with pytest.warns(UserWarning, match="lambda"), pytest.raises(ValueError, match="arbitrary code execution"):
        roundtrip(obj, safe_mode=True)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="arbitrary code execution"):
        roundtrip(obj, safe_mode=False)  # Keras loads it; rnnkit never runs code from a config


def test_lambda_layer():
    lmbda = Lambda(lambda x: x ** 2)
    with pytest.raises(ValueError, match="whose code is not stored"):
        roundtrip(lmbda, safe_mode=True)


def test_deserialize_invalid_type_config():
    with pytest.raises(TypeError, match="Expected 'config' to be a dict"):
        deserialize_keras_object({"class_name": "Dense", "config": [1, 2, 3]})


def test_deserialize_invalid_function_config():
    with pytest.raises(TypeError, match="Expected 'config' to be a non-null str"):
        deserialize_keras_object({"class_name": "function", "config": ["not", "a", "string"]})


def test_layer_sharing():
    inputs = Input(shape=(3,))
    seq = Sequential([inputs, Dense(5), rnnkit.layers.Activation("softmax")])
    func = Model(inputs=inputs, outputs=seq(inputs))
    _, deserialized, _ = roundtrip(func)
    assert len(deserialized.layers) == 2  # Keras: 3 (the InputLayer, Dense, Softmax); here: the Input, the Sequential


def test_keras36_custom_function_reloading():
    @register_keras_serializable(package="serial_test")
    def custom_registered_fn(x):
        return x ** 2

    config36 = {"module": "builtins", "class_name": "function", "config": "custom_registered_fn",
                "registered_name": "function"}
    assert deserialize_keras_object(config36) is custom_registered_fn
    config = {"module": "builtins", "class_name": "function", "config": "serial_test>custom_registered_fn",
              "registered_name": "function"}
    assert deserialize_keras_object(config) is custom_registered_fn


def test_layer_string_as_activation():
    layer = Dense(units=4, activation="relu", input_size=8)
    _, restored, _ = roundtrip(layer)
    assert callable(restored.activation) and restored.activation is layer.activation


def test_malformed_layer_for_sequential_model():
    serialized = {"class_name": "Sequential", "module": "keras",
                  "config": {"name": "sequential_model",
                             "layers": [{"class_name": "Dense", "module": "keras.layers", "config": {"units": 4}}, {}]}}
    with pytest.raises(ValueError, match="Unknown layer None"):  # Keras: "Expected a dictionary containing a 'config' key."
        deserialize_keras_object(serialized)


@pytest.mark.parametrize("bad_name", ["builtins.eval", "subprocess.Popen", "not.a.real.name", "my_pkg>MyDense"])
def test_registered_name_for_keras_builtin_raises(bad_name):
    with pytest.raises(ValueError, match="resolved to a Keras built-in"):
        deserialize_keras_object({"class_name": "Dense", "module": "keras.layers", "registered_name": bad_name,
                                  "config": {"units": 1}})


@pytest.mark.parametrize("config", [
    {"class_name": "Dense", "module": "keras.layers", "registered_name": "Dense", "config": {"units": 1}},
    {"class_name": "Dense", "module": "keras.layers", "registered_name": None, "config": {"units": 1}},
    {"class_name": "Dense", "module": "keras.layers", "config": {"units": 1}},
    {"class_name": "Dense", "module": "keras.layers", "registered_name": "", "config": {"units": 1}},
], ids=["matching", "none", "missing", "empty_string"])
def test_registered_name_passes_through(config):
    assert isinstance(deserialize_keras_object(config), Dense)


def test_registered_name_for_keras_builtin_function_raises():
    with pytest.raises(ValueError, match="resolved to a Keras built-in"):
        deserialize_keras_object({"class_name": "function", "module": "builtins", "registered_name": "some_other_name",
                                  "config": "relu"})


@pytest.mark.parametrize("registered_name", ["function", "kl_divergence"])
def test_registered_name_matching_function_name_passes_through(registered_name):
    obj = deserialize_keras_object({"class_name": "function", "module": "builtins", "registered_name": registered_name,
                                    "config": "kl_divergence"})
    assert obj is losses.kl_divergence


@register_keras_serializable()
class MyDense(Layer):
    def __init__(self, units, *, kernel_regularizer=None, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self._units = units
        self._kernel_regularizer = kernel_regularizer
        self._kernel_initializer = kernel_initializer

    def get_config(self):
        return dict(units=self._units, kernel_initializer=self._kernel_initializer,
                    kernel_regularizer=self._kernel_regularizer, **super().get_config())


def test_registered_custom_object_still_resolves():
    config = serialize_keras_object(MyDense(units=4))
    assert config["registered_name"] == "Custom>MyDense" and config["class_name"] == "MyDense"
    assert isinstance(deserialize_keras_object(config), MyDense)


# -- rnnkit's own ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [
    losses.MeanSquaredError(), losses.Huber(delta=2.0), losses.BinaryCrossentropy(from_logits=True),
    losses.LossFunctionWrapper(losses.mean_absolute_error, reduction="sum"),
    metrics.MeanSquaredError(), metrics.AUC(num_thresholds=50), metrics.TopKCategoricalAccuracy(k=3),
    schedules.ExponentialDecay(0.1, 10, 0.9), schedules.CosineDecay(0.1, 100),
    regularizers.L1L2(0.01, 0.02), rnnkit.constraints.MaxNorm(2.0),
], ids=lambda o: type(o).__name__)
def test_each_family_round_trips_through_json(obj):
    serialized, restored, reserialized = roundtrip(obj)
    assert type(restored) is type(obj) and restored is not obj
    assert serialized == json.loads(json.dumps(reserialized))
    assert restored.get_config() == obj.get_config()


def test_loss_and_metric_of_the_same_name_are_told_apart_by_module():
    as_loss = roundtrip(losses.MeanSquaredError())[1]
    as_metric = roundtrip(metrics.MeanSquaredError())[1]
    assert isinstance(as_loss, losses.Loss) and isinstance(as_metric, metrics.Metric)


def test_optimizers_round_trip_with_a_schedule():
    adam = optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9), beta_1=0.8)
    serialized, restored, _ = roundtrip(adam)
    assert serialized["class_name"] == "Adam"
    assert restored.get_config() == adam.get_config()


def test_keras_written_configs_of_compatible_families():
    # as Keras 3.15.1 (torch backend) serializes them
    adam = deserialize_keras_object({
        "module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam",
        "config": {"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None, "clipnorm": None,
                   "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                   "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
                   "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}, "registered_name": "Adam"})
    assert adam.kind == "adam" and adam.learning_rate == pytest.approx(1e-3)
    loss = deserialize_keras_object({"module": "keras.losses", "class_name": "MeanSquaredError",
                                     "config": {"name": "mean_squared_error", "reduction": "sum_over_batch_size"},
                                     "registered_name": None})
    assert isinstance(loss, losses.MeanSquaredError)
    metric = deserialize_keras_object({"module": "keras.metrics", "class_name": "MeanSquaredError",
                                       "config": {"name": "mean_squared_error", "dtype": "float32"},
                                       "registered_name": None})
    assert isinstance(metric, metrics.MeanSquaredError)
    decay = deserialize_keras_object({"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                                      "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9,
                                                 "staircase": False, "name": "ExponentialDecay"},
                                      "registered_name": None})
    assert isinstance(decay, schedules.ExponentialDecay)
    assert isinstance(deserialize_keras_object({"module": "keras.regularizers", "class_name": "L2",
                                                "config": {"l2": 0.1}, "registered_name": None}), regularizers.L2)
    relu = deserialize_keras_object({"module": "builtins", "class_name": "function", "config": "relu",
                                     "registered_name": "function"})
    assert relu is rnnkit.activations.get("relu")


@pytest.mark.parametrize("make", [
    lambda: LSTM(4, return_sequences=True, name="enc"), lambda: GRU(3, go_backwards=True),
    lambda: Bidirectional(LSTM(2)), lambda: rnnkit.layers.TimeDistributed(Dense(2)),
], ids=["LSTM", "GRU", "Bidirectional", "TimeDistributed"])
def test_recurrent_layers_round_trip_and_from_config(make):
    layer = make()
    _, restored, reserialized = roundtrip(layer)
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()
    clone = type(layer).from_config(layer.get_config())  # Keras's idiom, what clone_model does
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_models_round_trip():
    inputs = Input((5, 2))
    outputs = Dense(1)(LSTM(3)(inputs))
    model = Model(inputs, outputs, name="m")
    _, restored, _ = roundtrip(model)
    assert isinstance(restored, Model) and restored.name == "m"
    restored.set_weights(model.get_weights())
    x = np.random.rand(2, 5, 2).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0), rtol=1e-6)


def test_unknown_class_and_function_are_typeerrors_naming_the_fix():
    with pytest.raises(TypeError, match="Could not locate class 'Nope'.*register_keras_serializable"):
        deserialize_keras_object({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="Could not locate function 'nope'"):
        deserialize_keras_object({"class_name": "function", "config": "nope", "module": "__main__"})


def test_get_custom_objects_is_live_and_scopes_do_not_enter_it():
    class Thing:
        def get_config(self):
            return {}

    try:
        get_custom_objects()["Thing"] = Thing
        assert deserialize_keras_object({"class_name": "Thing", "config": {}}).__class__ is Thing
        assert get_registered_object("Thing") is Thing
    finally:
        del get_custom_objects()["Thing"]
    assert get_registered_object("Thing") is None
    with custom_object_scope({"Scoped": Thing}):
        assert get_registered_object("Scoped") is Thing and "Scoped" not in get_custom_objects()
    assert get_registered_object("Scoped") is None
    assert CustomObjectScope is custom_object_scope


def test_load_finds_a_custom_activation_in_a_scope(tmp_path):
    def my_act(x):
        return torch.tanh(x) * 2

    model = Sequential([Input((3,)), Dense(2, activation=my_act)])
    path = tmp_path / "m.rnnkit"
    model.save(path)
    with pytest.raises(Exception, match="my_act"):
        rnnkit.load(path)  # the function's code is not in the file
    x = np.ones((2, 3), "float32")
    with custom_object_scope({"my_act": my_act}):
        np.testing.assert_allclose(rnnkit.load(path).predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(rnnkit.load(path, custom_objects={"my_act": my_act}).predict(x, verbose=0),
                               model.predict(x, verbose=0))


def test_get_registered_name_of_an_unregistered_object_is_its_name():
    assert get_registered_name(Dense) == "Dense" and get_registered_name(custom_fn) == "custom_fn"


def test_clear_session_restarts_names_and_leaves_the_registry():
    @register_keras_serializable("session_test")
    def kept(x):
        return x

    Dense(1), Dense(1)
    with custom_object_scope({"scoped": kept}):
        rnnkit.mixed_precision.set_global_policy("mixed_bfloat16")
        clear_session()
        assert get_registered_object("scoped") is None  # the scope is reset, as Keras's global state
    assert rnnkit.mixed_precision.global_policy().name == "float32"
    assert Dense(1).name == "dense" and Dense(1).name == "dense_1" and LSTM(2).name == "lstm"
    assert Sequential().name == "sequential"
    assert get_registered_object("session_test>kept") is kept
    assert rnnkit.backend.clear_session is clear_session
