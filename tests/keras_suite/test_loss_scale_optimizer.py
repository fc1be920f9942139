"""Keras 3's LossScaleOptimizer, ported from keras/src/optimizers/loss_scale_optimizer_test.py with Keras's
numbers and tolerances.

rnnkit scales with its one loss scaler (the model's torch.amp.GradScaler, which mixed_float16 uses too):
a LossScaleOptimizer spec gives it its initial_scale and dynamic_growth_steps. Keras's tests apply the
gradients to bare variables; here `apply` gives them to the weights and calls the model's apply_gradients,
and `scale_loss` is the model's (Keras's `optimizer.scale_loss`).

Not applicable: the "stateless" half of each parametrized test (JAX's stateless_apply; rnnkit's optimizers
update in place, which is Keras's "stateful" half, ported) and test_finite_step_with_overwrite (rnnkit's
weights have no `overwrite_with_gradient`, a Keras float8 feature). test_optimizer_wrapper_goldens.py
compares LossScaleOptimizer with Keras 3.15.1 over seven steps, non-finite ones among them.
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import mixed_precision, optimizers

from optimizer_helpers import Weights, apply, lstm_data, lstm_model

VARS, GRADS = [1.0, 2.0, 3.0, 4.0], np.array([1.0, 6.0, 7.0, 2.0])


def _scale(weights) -> float:
    return float(weights.scale_loss(torch.tensor(1.0)))


def test_config():
    inner = optimizers.SGD(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004)
    spec = optimizers.LossScaleOptimizer(inner)
    config = spec.get_config()
    assert optimizers.LossScaleOptimizer.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_apply_with_no_vars():
    spec = optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5))
    weights = Weights([VARS], spec)
    apply(weights, [GRADS * spec.options["initial_scale"]])
    np.testing.assert_allclose(weights.values()[0], [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)


def test_finite_step():
    weights = Weights([VARS], optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5)))
    apply(weights, [GRADS * 2.0 ** 15])
    np.testing.assert_allclose(weights.values()[0], [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)


def test_finite_step_with_inner_loss_scale():
    inner = optimizers.SGD(learning_rate=0.5, loss_scale_factor=100)
    weights = Weights([VARS], optimizers.LossScaleOptimizer(inner))
    assert inner.loss_scale_factor is None  # as Keras: the wrapper scales instead
    apply(weights, [GRADS * 2.0 ** 15])
    np.testing.assert_allclose(weights.values()[0], [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)


def test_infinite_step():
    weights = Weights([VARS], optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5)))
    apply(weights, [[np.inf] * 4])
    np.testing.assert_allclose(weights.values()[0], [1.0, 2.0, 3.0, 4.0], rtol=1e-4, atol=1e-4)


def test_downscaling():
    weights = Weights([VARS], optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), initial_scale=400.0))
    for _ in range(4):
        apply(weights, [[np.inf] * 4])
    assert _scale(weights) == pytest.approx(25.0)


def test_upscaling():
    weights = Weights([VARS], optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), initial_scale=2.0,
                                                            dynamic_growth_steps=2))
    for _ in range(8):
        apply(weights, [GRADS])
    assert _scale(weights) == pytest.approx(32.0)


def test_iterations_update():
    weights = Weights([VARS], optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5)))
    assert weights.optimizer.iterations == 0
    for i in range(3):
        apply(weights, [GRADS])
        assert weights.optimizer.iterations == i + 1


def test_serialization():
    spec = optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), initial_scale=3.0, dynamic_growth_steps=2,
                                         name="test_opt")
    config = spec.get_config()
    assert len(config) == 4
    assert (config["name"], config["initial_scale"], config["dynamic_growth_steps"]) == ("test_opt", 3.0, 2)
    assert "inner_optimizer" in config
    optimizers.LossScaleOptimizer.from_config(config)


def test_init_dynamic_arg():
    optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), dynamic=True)
    with pytest.raises(ValueError, match="set `loss_scale_factor`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), dynamic=False)


def test_init_unsupported_arg():
    with pytest.raises(ValueError, match="arguments: `foo`, `bar`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), foo=True, bar=3)


@pytest.mark.parametrize("arg_name, arg_value", [
    ("weight_decay", 0.5), ("clipnorm", 0.5), ("global_clipnorm", 0.5), ("clipvalue", 0.5), ("use_ema", True),
    ("ema_momentum", 0.5), ("ema_overwrite_frequency", 2), ("loss_scale_factor", 0.5),
    ("gradient_accumulation_steps", 2)])
def test_init_base_optimizer_unsupported_args(arg_name, arg_value):
    with pytest.raises(ValueError, match="on the `inner_optimizer`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5), **{arg_name: arg_value})


def test_deserialization_backwards_compatibility():
    base = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
            "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
            "gradient_accumulation_steps": None}
    config = {"name": "loss_scale_optimizer", **base,
              "inner_optimizer": {"module": "keras.optimizers", "class_name": "SGD",
                                  "config": {"name": "SGD", "learning_rate": 0.5, **base, "momentum": 0.0,
                                             "nesterov": False}, "registered_name": None},
              "initial_scale": 2.0, "dynamic_growth_steps": 2}
    spec = optimizers.LossScaleOptimizer.from_config(config)
    assert (spec.options["inner_optimizer"].kind, spec.options["initial_scale"]) == ("sgd", 2.0)


# ---- rnnkit's own ------------------------------------------------------------------------------------
def test_it_scales_a_float32_model_s_loss_and_trains_as_the_inner_optimizer():
    x, y = lstm_data()
    plain, scaled = lstm_model(optimizers.Adam(0.01)), lstm_model(optimizers.LossScaleOptimizer(optimizers.Adam(0.01)))
    assert plain.loss_scaler is None and scaled.loss_scaler.get_scale() == 2.0 ** 15
    for model in (plain, scaled):
        model.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    assert scaled.optimizer.iterations == plain.optimizer.iterations == 8
    for a, b in zip(plain.parameters(), scaled.parameters()):  # a power of 2 scales and unscales exactly
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_under_mixed_float16_it_takes_the_place_of_keras_s_automatic_one():
    previous = mixed_precision.global_policy()
    mixed_precision.set_global_policy("mixed_float16")
    try:
        model = lstm_model(optimizers.LossScaleOptimizer(optimizers.Adam(), initial_scale=256.0,
                                                         dynamic_growth_steps=10))
    finally:
        mixed_precision.set_global_policy(previous)
    assert model.loss_scaler.get_scale() == 256.0 and model.loss_scaler.get_growth_interval() == 10
    assert lstm_model("adam").loss_scaler is None  # float32 without one: nothing to scale


def test_learning_rate_and_iterations_are_the_inner_optimizer_s():
    spec = optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=0.5))
    assert optimizers.get_learning_rate(spec) == 0.5
    optimizers.set_learning_rate(spec, 0.25)
    assert spec.options["inner_optimizer"].learning_rate == 0.25
    weights = Weights([VARS], spec)
    apply(weights, [GRADS * 2.0 ** 15])
    assert (weights.optimizer.learning_rate, weights.optimizer.iterations) == (0.25, 1)


def test_the_config_and_inner_state_travel_in_checkpoints(tmp_path):
    x, y = lstm_data()
    spec = optimizers.LossScaleOptimizer(optimizers.Adam(0.01, use_ema=True), initial_scale=64.0,
                                         dynamic_growth_steps=3)
    straight, saved = lstm_model(spec), lstm_model(optimizers.deserialize(optimizers.serialize(spec)))
    for model in (straight, saved):
        model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.get_config() == spec.get_config()
    assert loaded.optimizer.iterations == 4 and loaded.loss_scaler.get_growth_interval() == 3
    # Keras keeps the scale and its count of finite steps as the LossScaleOptimizer's variables: 3 finite
    # steps doubled 64 to 128, the 4th counts 1 towards the next doubling
    for model in (straight, loaded):
        assert model.loss_scaler.get_scale() == 128.0 and model.loss_scaler.state_dict()["_growth_tracker"] == 1
    for model in (straight, loaded):
        model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(inner_optimizer="adam"), TypeError, "must be an rnnkit.optimizers optimizer such as optimizers.Adam()"),
    (dict(inner_optimizer=optimizers.LossScaleOptimizer(optimizers.SGD())), ValueError, "Wrap the optimizer once"),
    (dict(inner_optimizer=optimizers.SGD(), initial_scale=0.0), ValueError,
     r"`initial_scale` must be a number in \(0.0, inf\]. Received: initial_scale=0.0"),
    (dict(inner_optimizer=optimizers.SGD(), dynamic_growth_steps=0), ValueError,
     r"`dynamic_growth_steps` must be an integer >= 1. Received: dynamic_growth_steps=0"),
], ids=["not-a-spec", "nested", "initial_scale", "dynamic_growth_steps"])
def test_arguments_are_checked(kwargs, error, message):
    with pytest.raises(error, match=message):
        optimizers.LossScaleOptimizer(**kwargs)


def test_compile_names_are_refused_with_how_to_make_one():
    with pytest.raises(ValueError, match=r"wraps another optimizer.*LossScaleOptimizer\(optimizers.Adam\(\)\)"):
        optimizers.get("LossScaleOptimizer")


def test_a_multi_optimizer_s_checkpoint_carries_the_loss_scale_too(tmp_path):
    x, y = lstm_data()
    spec = optimizers.LossScaleOptimizer(optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.1), {".*dense.*": optimizers.Adam(0.01)})), initial_scale=4.0, dynamic_growth_steps=3)
    model = lstm_model(spec)
    model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.loss_scaler.get_scale() == model.loss_scaler.get_scale() == 8.0
    assert loaded.optimizer.iterations == 4 and [o.iterations for o in loaded.optimizer.optimizers] == [4, 4]
