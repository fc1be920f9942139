"""The fused optimizer step rnnkit picks must do the same arithmetic as torch's per-tensor step."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, optimizers


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, requires_grad=True) for s in [(8, 3), (8,), (16, 4), (1,)]]


def _run(spec, fused: bool, steps=5):
    params = _params()
    opt = spec.build(params)
    if not fused:  # the same optimizer built the per-tensor way
        opt = type(opt)(params, **{k: v for k, v in opt.defaults.items() if k not in ("fused", "foreach")},
                        foreach=False)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()
    return opt, [p.detach().clone() for p in params]


@pytest.mark.parametrize("spec", [optimizers.Adam(), optimizers.Adam(amsgrad=True), optimizers.SGD(momentum=0.9),
                                  optimizers.SGD(momentum=0.9, nesterov=True), optimizers.Adagrad()],
                         ids=["adam", "amsgrad", "momentum", "nesterov", "adagrad"])
def test_fused_step_equals_per_tensor_step(spec):
    fused_opt, fused = _run(spec, fused=True)
    plain_opt, plain = _run(spec, fused=False)
    assert fused_opt.defaults.get("fused") is True and not plain_opt.defaults.get("fused")
    moved = max(float((a - b).abs().max()) for a, b in zip(plain, [p.detach() for p in _params()]))
    assert moved > 1e-3  # the steps did change the weights
    for a, b in zip(fused, plain):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_compiled_model_trains_with_the_fused_step():
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 4, 1), np.float32), np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert model.optimizer.defaults["fused"] is True


def test_no_fusion_for_mixed_or_empty_parameter_lists():
    assert not optimizers.can_fuse([])
    assert not optimizers.can_fuse([torch.zeros(2, dtype=torch.long)])
    assert optimizers.can_fuse([torch.zeros(2), torch.zeros(3, dtype=torch.float64)])


# ---- AdamW, Lion, weight_decay, global_clipnorm (Keras's base optimizer arguments) -------------------------
@pytest.mark.parametrize("name, kind", [("adamw", "adamw"), ("AdamW", "adamw"), ("lion", "lion")])
def test_compile_names_adamw_and_lion(name, kind):
    spec = optimizers.get(name)
    assert spec.kind == kind
    assert spec.weight_decay == (0.004 if kind == "adamw" else None)


@pytest.mark.parametrize("name, kind", [("ftrl", "ftrl"), ("FTRL", "ftrl"), ("adafactor", "adafactor"),
                                        ("Lamb", "lamb")])
def test_compile_names_ftrl_adafactor_and_lamb(name, kind):
    # Keras 3.15.1's optimizers.get refuses "lamb" (Lamb is missing from its ALL_OBJECTS); rnnkit takes it
    assert optimizers.get(name).kind == kind
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile(name, "mse")
    model.fit(np.zeros((4, 4, 1), np.float32), np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert model.optimizer.iterations == 1 and model.optimizer.state  # it stepped and keeps its state


def test_a_keras_config_dict_names_an_optimizer():
    spec = optimizers.get({"class_name": "Adafactor", "config": {"learning_rate": 0.01, "clip_threshold": 2.0}})
    assert (spec.kind, spec.learning_rate, spec.options["clip_threshold"]) == ("adafactor", 0.01, 2.0)
    assert optimizers.get({"class_name": "Muon", "config": {"ns_steps": 3}}).options["ns_steps"] == 3
    with pytest.raises(ValueError, match="Could not interpret optimizer config.*expected .*'Ftrl'"):
        optimizers.get({"class_name": "Shampoo", "config": {}})


def test_loss_scale_factor_scales_the_loss_and_divides_the_gradients():
    spec = optimizers.Adam(loss_scale_factor=128.0)
    assert spec.get_config()["loss_scale_factor"] == 128.0
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile(spec, "mse")
    assert float(model.scale_loss(torch.tensor(2.0))) == 256.0
    with pytest.raises(ValueError, match=r"Adam: `loss_scale_factor` must be a number in \(0.0, inf\].*Received: "
                                         r"loss_scale_factor=-1.0.*LossScaleOptimizer"):
        optimizers.Adam(loss_scale_factor=-1.0)


def test_keras_base_arguments_at_their_defaults_and_name_are_accepted():
    spec = optimizers.SGD(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                          gradient_accumulation_steps=None, loss_scale_factor=None, name="my_sgd")
    assert (spec.use_ema, spec.gradient_accumulation_steps, spec.name) == (False, None, "my_sgd")
    params = [torch.nn.Parameter(torch.ones(2))]
    assert not hasattr(spec.build(params), "keras_slots")  # nothing to keep beside the update rule


def test_unknown_argument_is_named():
    with pytest.raises(TypeError, match="not recognized.*bogus"):
        optimizers.Lion(bogus=1)


def test_clipnorm_and_global_clipnorm_together_is_an_error():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)


def test_lion_beta_1_range():
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)


def test_weight_decay_uses_the_scheduled_rate_of_the_step():
    from rnnkit.optimizers import schedules
    p = torch.nn.Parameter(torch.ones(3))
    opt = optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5), weight_decay=1.0).build([p])
    for lr in (0.1, 0.05):
        before = p.detach().clone()
        p.grad = torch.zeros(3)
        opt.step()
        torch.testing.assert_close(p.detach(), before - before * lr)


def test_weight_decay_and_global_clipnorm_survive_save_and_reload(tmp_path):
    import warnings

    from rnnkit.models import load_model
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile(optimizers.AdamW(weight_decay=0.01, global_clipnorm=1.0), "mse")
    model.fit(np.zeros((4, 4, 1), np.float32), np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert model.optimizer.param_groups[0]["keras_weight_decay"] == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "m.keras")
        back = load_model(tmp_path / "m.keras")
    assert back.optimizer_config.kind == "adamw"
    assert (back.optimizer_config.weight_decay, back.optimizer_config.global_clipnorm) == (0.01, 1.0)


@pytest.mark.parametrize("spec", [optimizers.AdamW(), optimizers.Adam(weight_decay=0.01),
                                  optimizers.Adam(global_clipnorm=1.0), optimizers.Lion(),
                                  optimizers.Adam(use_ema=True), optimizers.Adam(gradient_accumulation_steps=2),
                                  optimizers.Adam(loss_scale_factor=4.0), optimizers.Muon(),
                                  optimizers.ScheduleFreeAdamW(), optimizers.LossScaleOptimizer(optimizers.Adam()),
                                  optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.Adam()))],
                         ids=["adamw", "adam-weight_decay", "adam-global_clipnorm", "lion", "adam-ema",
                              "adam-accumulation", "adam-loss_scale_factor", "muon", "schedulefreeadamw",
                              "loss_scale_optimizer", "multi_optimizer"])
def test_compiled_step_falls_back_to_eager_for_what_it_does_not_do(spec):
    from rnnkit.training.compiled import _adam_state
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile(spec, "mse")
    model(torch.zeros(1, 4, 1))
    params = [p for p in model.parameters() if p.requires_grad]
    assert _adam_state(model, params) is None
