"""compile's loss, loss_weights, metrics and weighted_metrics for one and several outputs, ported from
Keras 3's keras/src/trainers/compile_utils_test.py and the multi-output cases of trainer_test.py
(github.com/keras-team/keras), with Keras's numbers.

Keras's CompileLoss / CompileMetrics tests feed y_pred directly. rnnkit resolves compile's arguments
inside the model (rnnkit.training.compile_utils), so here y_pred comes out of a model whose outputs are
its inputs (identity Lambdas named as Keras's outputs), evaluated in batches of 3: two batches are
Keras's two update_state calls, the loss of one batch is Keras's compile_loss(y_true, y_pred).
"""

import numpy as np
import pytest

from rnnkit import metrics as metrics_module
from rnnkit import optimizers
from rnnkit.layers import Dense, Input, Lambda
from rnnkit.models import Model, Sequential


def identity_model(shapes, output_names=None):
    """Outputs equal to the inputs: evaluate(x=y_pred, y=y_true) sees exactly these predictions."""
    output_names = output_names or [None] * len(shapes)
    inputs = [Input(shape) for shape in shapes]
    outputs = [Lambda(lambda t: t, name=name)(i) for i, name in zip(inputs, output_names)]
    return Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0])


Y_TRUE_1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
Y_TRUE_2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
Y_PRED_1 = [np.array([[0.4, 0.1], [0.2, 0.6], [0.6, 0.1]]), np.array([[0.3, 0.2], [0.1, 0.4], [0.2, 0.3]])]
Y_PRED_2 = [np.array([[0.4, 0.1, 0.3], [0.2, 0.6, 0.4], [0.6, 0.1, 0.8]]),
            np.array([[0.3, 0.2, 0.1], [0.5, 0.4, 0.6], [0.1, 0.8, 0.7]])]
SAMPLE_WEIGHT = np.array([1, 0.0, 1])


def _twice(a):  # the same y_true (or weights) for both update_state calls
    return np.concatenate([a, a])


# -- TestCompileMetrics -----------------------------------------------------------------------------------
def test_single_output_case():
    model = identity_model([(2,)])
    model.compile(loss="mse", metrics=[metrics_module.MeanSquaredError()],
                  weighted_metrics=[metrics_module.MeanSquaredError()])
    result = model.evaluate(np.concatenate(Y_PRED_1), _twice(Y_TRUE_1), sample_weight=_twice(SAMPLE_WEIGHT),
                            batch_size=3, return_dict=True)
    result.pop("loss")
    assert len(result) == 2
    np.testing.assert_allclose(result["mean_squared_error"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["weighted_mean_squared_error"], 0.0725, rtol=1e-6)


def test_dict_output_case():
    model = identity_model([(2,), (3,)], ["output_1", "output_2"])
    both = lambda: [metrics_module.MeanSquaredError(), metrics_module.MeanSquaredError(name="mse")]
    model.compile(loss="mse", metrics={"output_1": both(), "output_2": both()},
                  weighted_metrics={"output_1": both(), "output_2": both()})
    result = model.evaluate([np.concatenate(Y_PRED_1), np.concatenate(Y_PRED_2)],
                            {"output_1": _twice(Y_TRUE_1), "output_2": _twice(Y_TRUE_2)},
                            sample_weight=_twice(SAMPLE_WEIGHT), batch_size=3, return_dict=True)
    for key in ("loss", "output_1_loss", "output_2_loss"):
        result.pop(key)
    assert len(result) == 8
    # Result values obtained from `tf.keras` (Keras's comment)
    np.testing.assert_allclose(result["output_1_mean_squared_error"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_mean_squared_error"], 0.066666667, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_mse"], 0.055833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_mse"], 0.066666667, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_weighted_mean_squared_error"], 0.0725, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_weighted_mean_squared_error"], 0.090833336, rtol=1e-6)
    np.testing.assert_allclose(result["output_1_weighted_mse"], 0.0725, rtol=1e-6)
    np.testing.assert_allclose(result["output_2_weighted_mse"], 0.090833336, rtol=1e-6)


def test_name_conversions():
    model = identity_model([(2,)])
    model.compile(loss="mse", metrics=["acc", "accuracy", "mse"], weighted_metrics=[])
    result = model.evaluate(Y_PRED_1[0], Y_TRUE_1, return_dict=True)
    result.pop("loss")
    assert len(result) == 3
    np.testing.assert_allclose(result["acc"], 0.333333, rtol=1e-5)
    np.testing.assert_allclose(result["accuracy"], 0.333333, rtol=1e-5)
    assert "mse" in result


def test_custom_metric_function():
    def my_custom_metric(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(-1)

    model = identity_model([(2,)])
    model.compile(loss="mse", metrics=[my_custom_metric], weighted_metrics=[])
    result = model.evaluate(Y_PRED_1[0], Y_TRUE_1, return_dict=True)
    result.pop("loss")
    assert list(result.keys()) == ["my_custom_metric"]


# -- TestCompileLoss --------------------------------------------------------------------------------------
Y_TRUE_A = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
Y_TRUE_B = np.array([[0.7, 0.8], [0.9, 1.0], [1.1, 1.2]])
Y_PRED_A = np.array([[1.2, 1.1], [1.0, 0.9], [0.8, 0.7]])
Y_PRED_B = np.array([[0.6, 0.5], [0.4, 0.3], [0.2, 0.1]])


def test_compile_loss_single_output_case():  # Keras: TestCompileLoss.test_single_output_case
    model = identity_model([(2,)])
    model.compile(loss="mean_squared_error")
    np.testing.assert_allclose(model.evaluate(Y_PRED_1[0], Y_TRUE_1), 0.068333, atol=1e-5)


def test_single_output_case_with_crossentropy_loss():  # Keras: test_single_output_case_with_crossentropy_loss
    model = identity_model([(2,)])
    model.compile(loss="crossentropy")
    np.testing.assert_allclose(model.evaluate(Y_PRED_1[0], Y_TRUE_1), 0.706595, atol=1e-5)


@pytest.mark.parametrize("name", ["crossentropy", "ce", "CE"])
@pytest.mark.parametrize("units,y,picked", [
    (1, np.array([[1.0], [0.0], [1.0]]), "binary_crossentropy"),
    (3, np.array([0, 2, 1]), "sparse_categorical_crossentropy"),
    (3, np.array([[0], [2], [1]]), "sparse_categorical_crossentropy"),
    (3, np.eye(3)[[0, 2, 1]], "categorical_crossentropy"),
])
def test_crossentropy_picks_the_loss_keras_picks_from_the_shapes(name, units, y, picked):
    # Keras's compile_utils.get_loss: "crossentropy"/"ce" (any case) is binary for one output unit, sparse
    # for labels of lower rank or one label against several units, categorical otherwise.
    pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])[:, :units]
    pred = pred if units > 1 else np.array([[0.8], [0.3], [0.6]])
    model = identity_model([(units,)])
    model.compile(loss=name)
    other = identity_model([(units,)])
    other.compile(loss=picked)
    assert model.evaluate(pred, y, verbose=0) == pytest.approx(other.evaluate(pred, y, verbose=0), rel=1e-6)
    assert model.evaluate(pred, y, verbose=0) > 0.1


@pytest.mark.parametrize("broadcast", [True, False])
def test_list_output_case(broadcast):
    model = identity_model([(2,), (2,)])
    model.compile(loss="mse" if broadcast else ["mse", "mse"])
    value = model.evaluate([Y_PRED_A, Y_PRED_B], [Y_TRUE_A, Y_TRUE_B], return_dict=True)["loss"]
    np.testing.assert_allclose(value, 0.953333, atol=1e-5)


@pytest.mark.parametrize("broadcast", [True, False])
def test_dict_output_case(broadcast):  # Keras: TestCompileLoss.test_dict_output_case
    model = identity_model([(2,), (2,)], ["a", "b"])
    model.compile(loss="mse" if broadcast else {"a": "mse", "b": "mse"})
    sample_weight = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([3.0, 2.0, 1.0])}
    value = model.evaluate([Y_PRED_A, Y_PRED_B], {"a": Y_TRUE_A, "b": Y_TRUE_B}, sample_weight=sample_weight,
                           return_dict=True)["loss"]
    np.testing.assert_allclose(value, 1.266666, atol=1e-5)


def test_list_loss_dict_data():
    model = identity_model([(2,), (2,)], ["b", "a"])
    model.compile(loss=["mse", "mae"])
    value = model.evaluate([Y_PRED_B, Y_PRED_A], {"a": Y_TRUE_A, "b": Y_TRUE_B}, return_dict=True)["loss"]
    np.testing.assert_allclose(value, 1.07666, atol=1e-5)


# -- trainer_test.py -------------------------------------------------------------------------------------
def test_loss_weights():
    epochs, batch_size = 3, 20
    dataset_size = batch_size * 2
    ones = lambda: Dense(3, use_bias=False, kernel_initializer="ones")

    # Single output case.
    model = Sequential([ones()])
    model.compile(optimizer=optimizers.SGD(), loss="mean_squared_error", metrics=["mean_squared_error"],
                  loss_weights=0.2)
    history = model.fit(np.ones((dataset_size, 4)), np.zeros((dataset_size, 3)), batch_size=batch_size,
                        epochs=epochs, verbose=0).history
    assert "loss" in history
    np.testing.assert_allclose(history["loss"], [3.182979, 3.115617, 3.049681], atol=1e-3)

    # Dict output case: Keras's StructModel (dict in, dict out) as a functional model with named inputs and
    # outputs, fed dicts by those names.
    x_one, x_two = Input((4,), name="x_one"), Input((4,), name="x_two")
    dense_1, dense_2 = ones(), ones()
    model = Model([x_one, x_two], [Lambda(lambda t: t, name="y_one")(dense_1(x_one)),
                                   Lambda(lambda t: t, name="y_two")(dense_2(x_two))])
    model.compile(optimizer=optimizers.SGD(), loss={"y_one": "mean_squared_error", "y_two": "mean_squared_error"},
                  metrics={"y_one": metrics_module.MeanSquaredError(), "y_two": metrics_module.MeanSquaredError()},
                  loss_weights={"y_one": 0.1, "y_two": 0.2})
    history = model.fit({"x_one": np.ones((dataset_size, 4)), "x_two": np.ones((dataset_size, 4))},
                        {"y_one": np.zeros((dataset_size, 3)), "y_two": np.zeros((dataset_size, 3))},
                        batch_size=batch_size, epochs=epochs, verbose=0).history
    assert "loss" in history
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)

    # List output case.
    inputs = Input((4,))
    model = Model(inputs, [ones()(inputs), ones()(inputs)])
    model.compile(optimizer=optimizers.SGD(), loss=["mean_squared_error", "mean_squared_error"],
                  metrics=[metrics_module.MeanSquaredError(), metrics_module.MeanSquaredError()],
                  loss_weights=[0.1, 0.2])
    history = model.fit(np.ones((dataset_size, 4)), [np.zeros((dataset_size, 3)), np.zeros((dataset_size, 3))],
                        batch_size=batch_size, epochs=epochs, verbose=0).history
    assert "loss" in history
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)


def test_partial_loss_partial_label():
    inputs = Input((2,))
    x = Dense(3, kernel_initializer="ones")(inputs)
    partial_model = Model(inputs, [x, x, x])
    partial_model.compile(loss=["mse", None, None])
    full_model = Model(inputs, [x, x, x])
    full_model.compile(loss=["mse", "mse", "mse"])
    eval_x, eval_y = np.ones((32, 2)), np.ones((32, 3))
    partial_logs = partial_model.evaluate(eval_x, eval_y, return_dict=True)
    logs = full_model.evaluate(eval_x, [eval_y] * 3, return_dict=True)
    np.testing.assert_allclose(partial_logs["loss"] * 3, logs["loss"], rtol=1e-6)


# -- beyond Keras's files: the logs Keras 3.15.1 writes for a model with two outputs ----------------------
def test_multi_output_logs_as_keras():
    # golden values: the same model, data and compile in Keras 3.15.1 (jax backend), evaluate after the same fit
    # (Keras shuffled, with its default shuffle=True; every row of x is the same, so only which weights share
    # a batch differs, which moves these values by less than 1e-6)
    inputs = Input((4,))
    model = Model(inputs, [Dense(3, use_bias=False, kernel_initializer="ones", name="dense")(inputs),
                           Dense(3, use_bias=False, kernel_initializer="ones", name="dense_1")(inputs)])
    model.compile(optimizer=optimizers.SGD(), loss=["mse", "mse"], metrics=["mse", ["mae", "mse"]],
                  loss_weights=[0.1, 0.2], weighted_metrics=["mse", None])
    x, y, sw = np.ones((40, 4)), [np.zeros((40, 3)), np.zeros((40, 3))], np.linspace(0, 1, 40)
    model.fit(x, y, batch_size=20, epochs=2, verbose=0, sample_weight=sw, shuffle=False)
    logs = model.evaluate(x, y, return_dict=True)
    assert sorted(logs) == ["dense_1_loss", "dense_1_mae", "dense_1_mse", "dense_loss", "dense_mse",
                            "dense_weighted_mse", "loss"]
    np.testing.assert_allclose(model.evaluate(x, y), [4.715379238128662, 15.83012580871582, 15.661834716796875,
                                                      3.9575035572052, 15.661834716796875, 15.83012580871582,
                                                      15.83012580871582], rtol=1e-5)
    weighted = model.evaluate(x, y, sample_weight=sw, return_dict=True, batch_size=16)
    expected = {"dense_1_loss": 7.8309173583984375, "dense_1_mae": 3.9575037956237793, "dense_1_mse": 15.661834716796875,
                "dense_loss": 7.915063381195068, "dense_mse": 15.83012580871582, "dense_weighted_mse": 15.830126762390137,
                "loss": 2.35768985748291}
    for key, value in expected.items():
        np.testing.assert_allclose(weighted[key], value, rtol=1e-5, err_msg=key)


def test_bad_loss_structures_are_refused():
    inputs = Input((4,))
    model = Model(inputs, [Dense(1, name="a")(inputs), Dense(1, name="b")(inputs)])
    with pytest.raises(ValueError, match=r"Expected keys \['a', 'b'\] in loss dict, but found loss.keys\(\)=\['a'\]"):
        model.compile(loss={"a": "mse"})
    with pytest.raises(ValueError, match="`loss` must have one entry per output: the model has 2 outputs"):
        model.compile(loss=["mse"])
    with pytest.raises(ValueError, match="`loss_weights` must match the number of losses, got 2 losses and 1"):
        model.compile(loss="mse", loss_weights=0.5)
    with pytest.raises(ValueError, match=r"Expected `metrics` argument to be a list, tuple, or dict"):
        model.compile(loss="mse", metrics="mse")
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"so y must be a list with one array per output"):
        model.fit(np.ones((4, 4)), np.ones((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="class_weight` is only supported for models with a single output"):
        model.fit(np.ones((4, 4)), [np.ones((4, 1))] * 2, class_weight={0: 1.0}, verbose=0)
