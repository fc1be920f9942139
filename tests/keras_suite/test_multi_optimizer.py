"""Keras 3's MultiOptimizer and OptimizerMap, ported from keras/src/optimizers/multi_optimizer_test.py with
Keras's numbers and tolerances.

Keras's tests make variables under name scopes ("dense_1/kernel"); here the weights get those paths
(`Weights(..., paths)`), and in models rnnkit gives each weight its Keras-style path (`training.variable_paths`).
`multi.optimizers` are Keras's inner optimizers as built (torch optimizers, with `iterations` and
`learning_rate`); `multi.specs` are the optimizer objects the map was given.

Not applicable: test_stateless_apply (JAX's stateless_apply; test_stateful_apply, ported, checks the same
numbers), test_swap_ema_weights_with_multi_optimizer (rnnkit has no SwapEMAWeights callback).
test_tensorboard_logging_with_multi_optimizer reads TensorBoard's `_collect_learning_rate`, a Keras
internal: ported as the logs rnnkit's TensorBoard writes. test_optimizer_wrapper_goldens.py compares
MultiOptimizer with Keras 3.15.1 over seven steps.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Dense, Input, LearningRateScheduler, ReduceLROnPlateau, Sequential, optimizers
from rnnkit.callbacks.core import log_learning_rates
from rnnkit.optimizers import KerasVariable, OptimizerMap

from optimizer_helpers import Weights, apply, lstm_data, lstm_model


def _variable(path):
    return KerasVariable(torch.ones(1, 1), path)


def test_optimizer_map_matching():
    w_dense, w_conv, w_other = _variable("dense/kernel"), _variable("conv/kernel"), _variable("bias")
    opt_adam, opt_sgd, default_opt = optimizers.Adam(learning_rate=1e-3), optimizers.SGD(learning_rate=1e-2), \
        optimizers.RMSprop()
    opt_map = OptimizerMap(default_optimizer=default_opt)
    opt_map["^dense/.*"] = opt_adam
    opt_map["^conv/.*"] = opt_sgd
    assert opt_map(w_dense) is opt_adam and opt_map(w_conv) is opt_sgd and opt_map(w_other) is default_opt
    conflict = OptimizerMap(default_optimizer=default_opt)
    conflict[".*kernel.*"] = opt_adam
    conflict[".*dense.*"] = opt_sgd
    with pytest.raises(ValueError):
        conflict(w_dense)


def _three():
    opt_adam, opt_sgd = optimizers.Adam(learning_rate=1e-3), optimizers.SGD(learning_rate=1e-2)
    default_opt = optimizers.RMSprop(learning_rate=1e-4)
    opt_map = OptimizerMap(default_optimizer=default_opt)
    opt_map["^dense_1/.*"] = opt_adam
    opt_map["^dense_2/.*"] = opt_sgd
    return opt_map, opt_adam, opt_sgd, default_opt


def test_multi_optimizer_initialization():
    opt_map, opt_adam, opt_sgd, default_opt = _three()
    weights = Weights([[[1.0]]] * 3, optimizers.MultiOptimizer(opt_map), ["dense_1/kernel", "dense_2/kernel",
                                                                          "other/kernel"])
    multi = weights.optimizer
    assert len(multi.optimizers) == 3
    assert multi.specs[0] is opt_adam and multi.specs[1] is opt_sgd and multi.specs[2] is default_opt
    assert [optimizers.torch_class(o).__name__ for o in multi.optimizers] == ["Adam", "SGD", "RMSprop"]


def test_default_fallback():
    opt_adam, default_opt = optimizers.Adam(learning_rate=1e-3), optimizers.SGD(learning_rate=1e-2)
    opt_map = OptimizerMap(default_optimizer=default_opt)
    opt_map["^dense_1/.*"] = opt_adam
    weights = Weights([[[1.0]], [[1.0]]], optimizers.MultiOptimizer(opt_map), ["dense_1/kernel", "other/kernel"])
    w_mapped, w_unmapped = weights.weights
    owners = {id(p): spec for spec, o in zip(weights.optimizer.specs, weights.optimizer.optimizers)
              for g in o.param_groups for p in g["params"]}
    assert owners[id(w_mapped)] is opt_adam and owners[id(w_unmapped)] is default_opt


def test_stateful_apply():
    opt_map = OptimizerMap(default_optimizer=optimizers.SGD(learning_rate=0.0))
    opt_map["^dense_1/.*"] = optimizers.SGD(learning_rate=0.1)
    opt_map["^dense_2/.*"] = optimizers.SGD(learning_rate=1.0)
    weights = Weights([[[2.0, 2.0]], [[3.0, 3.0]], [[4.0, 4.0]]], optimizers.MultiOptimizer(opt_map),
                      ["dense_1/kernel", "dense_2/kernel", "other/kernel"])
    apply(weights, [[[1.0, 1.0]]] * 3)
    w1, w2, w_fallback = weights.values()
    np.testing.assert_allclose(w1, [[1.9, 1.9]], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(w2, [[2.0, 2.0]], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(w_fallback, [[4.0, 4.0]], rtol=1e-6, atol=1e-6)
    assert weights.optimizer.iterations == 1
    assert all(o.iterations == 1 for o in weights.optimizer.optimizers)


def test_serialization():
    opt_map, *_ = _three()
    config = optimizers.serialize(optimizers.MultiOptimizer(opt_map))
    reconstructed = optimizers.deserialize(config)
    weights = Weights([[[1.0]]] * 3, reconstructed, ["dense_1/kernel", "dense_2/kernel", "other/kernel"])
    built = weights.optimizer
    assert [optimizers.torch_class(o).__name__ for o in built.optimizers] == ["Adam", "SGD", "RMSprop"]
    assert [s.kind for s in built.specs] == ["adam", "sgd", "rmsprop"]
    first = weights.weights[0]
    assert any(first is p for g in built.optimizers[0].param_groups for p in g["params"])  # dense_1 -> Adam


def test_loss_scaling():
    opt_map = OptimizerMap(default_optimizer=optimizers.RMSprop(learning_rate=1e-4, loss_scale_factor=8.0))
    opt_map["^dense_1/.*"] = optimizers.Adam(learning_rate=1e-3, loss_scale_factor=3.0)
    opt_map["^dense_2/.*"] = optimizers.SGD(learning_rate=1e-2, loss_scale_factor=4.0)
    weights = Weights([[[1.0]]], optimizers.MultiOptimizer(opt_map, loss_scale_factor=5.0), ["dense_1/kernel"])
    assert float(weights.scale_loss(torch.tensor(2.0))) == pytest.approx(10.0)
    assert all(s.loss_scale_factor == 5.0 for s in optimizers.wrappers.inner_specs(opt_map))


def test_gradient_unscaling():
    opt_sgd = optimizers.SGD(learning_rate=0.1, loss_scale_factor=2.0)
    opt_map = OptimizerMap(default_optimizer=opt_sgd)
    opt_map["^dense_1/.*"] = opt_sgd
    weights = Weights([[[2.0, 2.0]]], optimizers.MultiOptimizer(opt_map, loss_scale_factor=5.0), ["dense_1/kernel"])
    apply(weights, [[[10.0, 10.0]]])  # scaled by 5: the update uses 10 / 5 = 2
    np.testing.assert_allclose(weights.values()[0], [[1.8, 1.8]], rtol=1e-6, atol=1e-6)


def test_custom_callable_function():
    opt_adam, opt_sgd = optimizers.Adam(learning_rate=1e-3), optimizers.SGD(learning_rate=1e-2)

    def optimizer_selector(variable):
        return opt_adam if "dense_1" in getattr(variable, "path", "") else opt_sgd

    weights = Weights([[[1.0]], [[1.0]]], optimizers.MultiOptimizer(optimizer_selector),
                      ["dense_1/kernel", "dense_2/kernel"])
    multi = weights.optimizer
    assert len(multi.optimizers) == 2 and multi.specs[0] is opt_adam and multi.specs[1] is opt_sgd
    apply(weights, [[[1.0]], [[1.0]]])
    np.testing.assert_allclose(weights.values()[1], [[0.99]], rtol=1e-6, atol=1e-6)


def _dense_model(optimizer):
    model = Sequential([Input((1,)), Dense(2, kernel_initializer="ones", use_bias=False, name="dense_1"),
                        Dense(1, kernel_initializer="ones", use_bias=False, name="dense_2")])
    model.compile(loss="mse", optimizer=optimizer)
    return model


def test_multi_optimizer_with_model_fit():
    optimizer = optimizers.MultiOptimizer(OptimizerMap(
        default_optimizer=optimizers.SGD(learning_rate=0.1),
        optimizer_map={".*dense_1/.*": optimizers.SGD(learning_rate=1e-3),
                       ".*dense_2/.*": optimizers.SGD(learning_rate=1e-2)}))
    model = _dense_model(optimizer)
    model.fit(np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32), batch_size=1, epochs=1, verbose=0)
    np.testing.assert_allclose(model.layers[0].weight.detach().numpy().T, [[0.996, 0.996]], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.layers[1].weight.detach().numpy().T, [[0.96], [0.96]], rtol=1e-6, atol=1e-6)
    assert model.optimizer.iterations == 1
    assert model.optimizer.optimizers[2].iterations == 0  # the default has no weights
    assert model.optimizer.optimizers[0].iterations == model.optimizer.optimizers[1].iterations == 1


def _two_sgd():
    opt_1, opt_2 = optimizers.SGD(learning_rate=0.1), optimizers.SGD(learning_rate=0.01)
    multi = optimizers.MultiOptimizer(OptimizerMap(default_optimizer=opt_2, optimizer_map={".*dense_1/.*": opt_1}))
    return _dense_model(multi), opt_1, opt_2


def test_learning_rate_scheduler_with_multi_optimizer():
    model, opt_1, opt_2 = _two_sgd()
    lr_scheduler = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    lr_scheduler.set_model(model)
    lr_scheduler.on_epoch_begin(epoch=1)
    assert opt_1.learning_rate == pytest.approx(0.05) and opt_2.learning_rate == pytest.approx(0.005)


def test_reduce_lr_on_plateau_with_multi_optimizer():
    model, opt_1, opt_2 = _two_sgd()
    reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    reduce_lr.set_model(model)
    reduce_lr.on_train_begin()
    reduce_lr.on_epoch_end(epoch=0, logs={"val_loss": 1.0})
    assert opt_1.learning_rate == pytest.approx(0.1) and opt_2.learning_rate == pytest.approx(0.01)
    reduce_lr.on_epoch_end(epoch=1, logs={"val_loss": 1.0})
    assert opt_1.learning_rate == pytest.approx(0.05) and opt_2.learning_rate == pytest.approx(0.005)


def test_tensorboard_logging_with_multi_optimizer():
    opt_1, opt_2 = optimizers.SGD(learning_rate=0.1, name="SGD"), optimizers.SGD(learning_rate=0.01, name="SGD_1")
    model = _dense_model(optimizers.MultiOptimizer(OptimizerMap(default_optimizer=opt_2,
                                                                optimizer_map={".*dense_1/.*": opt_1})))
    logs = {}
    log_learning_rates(model, logs)
    assert logs == {"learning_rate_SGD": pytest.approx(0.1), "learning_rate_SGD_1": pytest.approx(0.01)}


def test_multi_optimizer_wrapped_in_loss_scale_optimizer():
    opt_1, opt_2 = optimizers.SGD(learning_rate=0.1), optimizers.SGD(learning_rate=0.1)
    multi_opt = optimizers.MultiOptimizer(OptimizerMap(default_optimizer=opt_2, optimizer_map={".*dense_1/.*": opt_1}),
                                          loss_scale_factor=5.0)
    lso_opt = optimizers.LossScaleOptimizer(multi_opt, initial_scale=10.0, dynamic_growth_steps=1000)
    weights = Weights([[[2.0, 2.0]], [[2.0, 2.0]]], lso_opt, ["dense_1/kernel", "dense_2/kernel"])
    assert multi_opt.loss_scale_factor is None and opt_1.loss_scale_factor is None and opt_2.loss_scale_factor is None
    assert float(weights.scale_loss(torch.tensor(2.0))) == pytest.approx(20.0)
    apply(weights, [[[10.0, 10.0]], [[10.0, 10.0]]])
    np.testing.assert_allclose(weights.values()[0], [[1.9, 1.9]], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(weights.values()[1], [[1.9, 1.9]], rtol=1e-6, atol=1e-6)


def test_multi_optimizer_blocks_nested_optimizers():
    opt_sgd = optimizers.SGD(learning_rate=0.1)
    opt_lso, opt_multi = optimizers.LossScaleOptimizer(opt_sgd), optimizers.MultiOptimizer(OptimizerMap(opt_sgd))
    opt_map = OptimizerMap(default_optimizer=opt_sgd)
    with pytest.raises(ValueError, match="optimizer cannot be LossScaleOptimizer."):
        opt_map[".*"] = opt_lso
    with pytest.raises(ValueError, match="optimizer cannot be MultiOptimizer."):
        opt_map[".*"] = opt_multi
    direct = OptimizerMap(default_optimizer=opt_sgd)
    direct.optimizer_map = {".*dense_1/.*": opt_lso, ".*dense_2/.*": opt_multi}  # around __setitem__'s checks
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside an MultiOptimizer."):
        Weights([[[1.0]]], optimizers.MultiOptimizer(direct), ["dense_1/kernel"]).optimizer
    with pytest.raises(ValueError, match="MultiOptimizer cannot be used inside an MultiOptimizer."):
        Weights([[[1.0]]], optimizers.MultiOptimizer(direct), ["dense_2/kernel"]).optimizer


# ---- rnnkit's own ------------------------------------------------------------------------------------
def test_optimizer_map_s_keras_errors():
    with pytest.raises(TypeError, match="default_optimizer must be a Keras Optimizer instance"):
        OptimizerMap("sgd")
    with pytest.raises(TypeError, match="optimizer_map must be a dictionary"):
        OptimizerMap(optimizers.SGD(), [("a", optimizers.Adam())])
    opt_map = OptimizerMap(optimizers.SGD(), {"a": optimizers.Adam()})
    with pytest.raises(ValueError, match="'a' already exists in the OptimizerMap"):
        opt_map["a"] = optimizers.Adam()
    with pytest.raises(ValueError, match="optimizer must be a Keras Optimizer instance"):
        opt_map["b"] = "adam"


def test_it_has_no_learning_rate_of_its_own():
    model, *_ = _two_sgd()
    for optimizer in (model.optimizer_config, model.optimizer):  # before and after it is built
        with pytest.raises(AttributeError, match="Learning rate cannot be accessed on a MultiOptimizer"):
            optimizers.get_learning_rate(optimizer)


def test_training_carries_on_after_save_and_load(tmp_path):
    x, y = lstm_data()

    def multi():
        return optimizers.MultiOptimizer(OptimizerMap(
            optimizers.Adam(0.01, use_ema=True), {".*lstm.*kernel": optimizers.Muon(0.02),
                                                  ".*dense.*": optimizers.SGD(0.1, momentum=0.9,
                                                                              gradient_accumulation_steps=2)}))
    straight, saved = lstm_model(multi()), lstm_model(multi())
    for model in (straight, saved):
        model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.get_config() == multi().get_config()
    assert [o.iterations for o in loaded.optimizer.optimizers] == [4, 2, 4] and loaded.optimizer.iterations == 4
    for model in (straight, loaded):
        model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_selector_function_is_not_saved(tmp_path):
    model = lstm_model(optimizers.MultiOptimizer(lambda variable: optimizers.SGD(0.1)))
    x, y = lstm_data()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert len(model.optimizer.optimizers) == 5  # a new spec each call: one inner optimizer per weight
    model.save(tmp_path / "m.rnnkit")
    assert not rnnkit.load(tmp_path / "m.rnnkit").compiled  # as a torch optimizer's model: compile it again
