"""Mixed precision (`rnnkit.mixed_precision`): Keras's policy names and dtypes, float32 unchanged bit for
bit, float16/bfloat16 training as good as float32 on a fixed task, the loss scaled only for float16,
weights and kept states float32, the policy kept by save/load. The TF32 switch (`rnnkit.config`)."""

import shutil
import warnings

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Dense, Input, LSTM, Model, Sequential, config, mixed_precision
from rnnkit.models.topologies import ManyToOne

# What Keras 3.15.1 answers: keras.mixed_precision.Policy(name) -> (compute_dtype, variable_dtype)
KERAS_POLICIES = {"float32": ("float32", "float32"), "mixed_float16": ("float16", "float32"),
                  "mixed_bfloat16": ("bfloat16", "float32")}
MIXED = ["mixed_bfloat16", "mixed_float16"]


@pytest.fixture(autouse=True)
def _float32_policy_after():
    yield
    mixed_precision.set_global_policy("float32")


def _sine_task():
    """The fixed task of the module docstring: 512 windows of 20 steps of shifted sines -> the next value."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, (512, 1)) + np.arange(21) * 0.3
    s = np.sin(t).astype("float32")[..., None]
    return s[:, :20], s[:, 20]


def _trained(policy: str | None, epochs: int = 3, **compile_args):
    rnnkit.utils.set_random_seed(0)
    model = Sequential([Input((20, 1)), LSTM(32), Dense(1)], dtype=policy)
    model.compile(rnnkit.optimizers.Adam(learning_rate=0.01), "mse", **compile_args)
    x, y = _sine_task()
    history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0)
    return model, history.history["loss"]


# -- policies ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(KERAS_POLICIES))
def test_policy_dtypes_are_keras_s(name):
    policy = mixed_precision.Policy(name)
    assert (policy.compute_dtype, policy.variable_dtype) == KERAS_POLICIES[name]
    assert policy.name == name and repr(policy) == f'<DTypePolicy "{name}">'
    assert mixed_precision.Policy.from_config(policy.get_config()) == policy


def test_global_policy_is_float32_until_set_and_new_models_take_it():
    assert mixed_precision.global_policy().name == "float32"
    before = Sequential([Input((3, 1)), LSTM(2)])
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.global_policy() == mixed_precision.Policy("mixed_bfloat16")
    assert Sequential([Input((3, 1)), LSTM(2)]).dtype_policy.name == "mixed_bfloat16"
    assert ManyToOne(features=1, units=2).dtype_policy.name == "mixed_bfloat16"
    assert Sequential([Input((3, 1)), LSTM(2)], dtype="float32").dtype_policy.name == "float32"
    assert before.dtype_policy.name == "float32"  # fixed when built, as a Keras layer's
    mixed_precision.set_global_policy(mixed_precision.Policy("mixed_float16"))  # a Policy works too
    assert mixed_precision.dtype_policy().name == "mixed_float16"  # Keras 3's other spelling


@pytest.mark.parametrize("bad", ["mixed_float32", "float64", "fp16", ""])
def test_unknown_policy_names_are_refused_with_the_valid_ones(bad):
    with pytest.raises(ValueError, match=rf"Unknown dtype policy '{bad}'\. Valid policies: float32, "
                                         r"mixed_float16, mixed_bfloat16\."):
        mixed_precision.set_global_policy(bad)
    with pytest.raises(ValueError, match="Valid policies: float32, mixed_float16, mixed_bfloat16"):
        Sequential([Input((3, 1)), LSTM(2)], dtype=bad)
    assert mixed_precision.global_policy().name == "float32"


def test_pure_low_precision_names_point_to_the_mixed_ones():
    with pytest.raises(ValueError, match="keeps weights in float32: use 'mixed_bfloat16'"):
        mixed_precision.Policy("bfloat16")


@pytest.mark.parametrize("bad", [16, 3.5, torch.float16])
def test_a_policy_that_is_not_a_name_is_a_type_error(bad):
    with pytest.raises(TypeError, match="set_global_policy takes a policy name .* received"):
        mixed_precision.set_global_policy(bad)


def test_auto_scale_loss_must_be_a_bool():
    model = Sequential([Input((3, 1)), LSTM(2)])
    with pytest.raises(TypeError, match="auto_scale_loss must be True or False, received 'yes'"):
        model.compile("adam", "mse", auto_scale_loss="yes")


# -- training ---------------------------------------------------------------------------------------------
def test_float32_policy_trains_bit_for_bit_as_the_default():
    default, default_losses = _trained(None)
    explicit, explicit_losses = _trained("float32")
    assert default.dtype_policy.name == "float32"
    assert default_losses == explicit_losses
    for a, b in zip(default.parameters(), explicit.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_training_reaches_float32_s_loss(policy):
    # Measured: float32 ends epoch 3 at 1.75e-3, mixed_bfloat16 at 1.78e-3, mixed_float16 at 1.74e-3;
    # the loss falls 75x over the three epochs, so 10% is a tight bound for "trains as well".
    _, reference = _trained("float32")
    model, losses = _trained(policy)
    assert losses[-1] == pytest.approx(reference[-1], rel=0.10)
    assert losses[0] > 50 * losses[-1]
    # and the arithmetic really was in low precision: the same weights predict differently
    x, _ = _sine_task()
    full = Sequential([Input((20, 1)), LSTM(32), Dense(1)], dtype="float32")
    full.load_state_dict(model.state_dict())
    mixed, exact = model.predict(x), full.predict(x)
    assert mixed.dtype == np.float32
    difference = np.abs(mixed - exact).max()
    assert 1e-5 < difference < 5e-2


@pytest.mark.parametrize("policy", MIXED)
def test_weights_optimizer_state_and_outputs_stay_float32(policy):
    model, _ = _trained(policy, epochs=1)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {v.dtype for state in model.optimizer.state.values() for k, v in state.items() if k != "step"} == \
        {torch.float32}
    x, y = _sine_task()
    assert model(torch.as_tensor(x[:4])).dtype is torch.float32
    assert isinstance(model.evaluate(x, y), float)


def test_the_loss_is_scaled_for_float16_and_not_for_bfloat16():
    half, _ = _trained("mixed_float16", epochs=1)
    scaler = half.loss_scaler
    assert isinstance(scaler, torch.amp.GradScaler)
    assert scaler.get_scale() in (2.0 ** 15, 2.0 ** 14, 2.0 ** 13)  # Keras's initial 2**15, halved on an inf
    assert float(half.scale_loss(torch.tensor(1.0))) == scaler.get_scale()
    bf16, _ = _trained("mixed_bfloat16", epochs=1)
    assert bf16.loss_scaler is None and float(bf16.scale_loss(torch.tensor(1.0))) == 1.0
    unscaled, _ = _trained("mixed_float16", epochs=1, auto_scale_loss=False)  # Keras's switch
    assert unscaled.loss_scaler is None


def test_a_non_finite_scaled_gradient_skips_the_step_and_halves_the_scale():
    rnnkit.utils.set_random_seed(0)
    model = Sequential([Input((20, 1)), LSTM(4), Dense(1)], dtype="mixed_float16")
    model.compile("adam", "mse")
    x = np.full((4, 20, 1), 100.0, "float32")
    model.predict(x[:1])
    before = [p.detach().clone() for p in model.parameters()]
    model.train_on_batch(x, np.full((4, 1), 1e4, "float32"))  # (1e4)^2 * 2**15 overflows float16's 65504
    assert model.loss_scaler.get_scale() == 2.0 ** 14
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("policy", MIXED)
def test_kept_states_stay_float32_and_carry_as_in_float32(policy):
    rnnkit.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(8, 5, 1)).astype("float32")
    model = Sequential([Input((5, 1), batch_size=4), LSTM(8, stateful=True), Dense(1)], dtype=policy)
    model.compile("adam", "mse")
    model.fit(x, x.sum(1), batch_size=4, epochs=2, shuffle=False, verbose=0)
    model.predict(x, batch_size=4)
    kept = model.get_states()[model.layers[0].name]
    assert [s.dtype for s in kept] == [torch.float32, torch.float32]
    # the states a mixed model keeps are the float32 model's within low-precision rounding
    full = Sequential([Input((5, 1), batch_size=4), LSTM(8, stateful=True), Dense(1)], dtype="float32")
    full.load_state_dict(model.state_dict())
    model.reset_states()
    full.predict(x, batch_size=4)
    model.predict(x, batch_size=4)
    for a, b in zip(model.get_states()[model.layers[0].name], full.get_states()[full.layers[0].name]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=3e-2)


def test_the_policy_can_be_switched_on_a_built_model():
    model, _ = _trained("float32", epochs=1)
    x, _ = _sine_task()
    exact = model.predict(x[:8])
    model.dtype_policy = "mixed_bfloat16"
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert not np.array_equal(model.predict(x[:8]), exact)
    model.dtype_policy = mixed_precision.Policy("float32")
    np.testing.assert_array_equal(model.predict(x[:8]), exact)


# -- files ------------------------------------------------------------------------------------------------
def test_save_and_load_keep_a_sequential_or_functional_model_s_policy(tmp_path):
    model, _ = _trained("mixed_bfloat16", epochs=1)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")  # the global policy is float32 here
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    x, _ = _sine_task()
    np.testing.assert_array_equal(loaded.predict(x[:8]), model.predict(x[:8]))
    inputs = Input((20, 1))
    functional = Model(inputs, Dense(1)(LSTM(4)(inputs)), dtype="mixed_float16")
    functional.save(tmp_path / "f.rnnkit")
    assert rnnkit.load(tmp_path / "f.rnnkit").dtype_policy.name == "mixed_float16"
    # a float32 model stays float32 when loaded under a mixed global policy (its config says float32)
    Sequential([Input((3, 1)), LSTM(2)]).save(tmp_path / "full.rnnkit")
    mixed_precision.set_global_policy("mixed_float16")
    assert rnnkit.load(tmp_path / "full.rnnkit").dtype_policy.name == "float32"


def test_topologies_take_the_global_policy_at_load(tmp_path):
    # documented: a topology saves its constructor's arguments, which hold no policy
    model = ManyToOne(features=1, units=4)
    model.dtype_policy = "mixed_bfloat16"
    model.save(tmp_path / "t.rnnkit")
    assert rnnkit.load(tmp_path / "t.rnnkit").dtype_policy.name == "float32"


# -- TF32 -------------------------------------------------------------------------------------------------
@pytest.fixture
def _tf32_flags():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_the_tf32_default_is_pytorch_s_cudnn_on_cublas_off(_tf32_flags):
    # rnnkit changes no global setting on import: PyTorch lets cuDNN (fused RNN kernels) use TF32
    assert torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert config.tensor_float_32_execution_enabled() is True


@pytest.mark.parametrize("enabled", [False, True])
def test_tf32_switch_sets_both_pytorch_flags(_tf32_flags, enabled):
    config.enable_tensor_float_32_execution(enabled)
    assert torch.backends.cuda.matmul.allow_tf32 is enabled
    assert torch.backends.cudnn.allow_tf32 is enabled
    assert (torch.backends.cudnn.rnn.fp32_precision == "tf32") is enabled  # what cuDNN's RNN reads
    assert config.tensor_float_32_execution_enabled() is enabled


def test_tf32_switch_refuses_what_is_not_a_bool(_tf32_flags):
    with pytest.raises(TypeError, match=r"takes True \(allow TF32, faster\) or False \(exact float32\), "
                                        r"received 'off'"):
        config.enable_tensor_float_32_execution("off")
    assert torch.backends.cudnn.allow_tf32  # unchanged


# -- the compiled step ------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="torch.compile needs a C++ compiler")
@pytest.mark.parametrize("policy", MIXED)
def test_the_compiled_step_trains_a_stateful_model_as_the_eager_step_under_a_policy(policy):
    x = np.random.default_rng(1).normal(size=(8, 5, 1)).astype("float32")
    y = x.sum(1)
    runs = {}
    for jit in (False, True):
        rnnkit.utils.set_random_seed(0)
        model = Sequential([Input((5, 1), batch_size=4), LSTM(8, stateful=True), Dense(1)], dtype=policy)
        model.compile("adam", "mse", jit_compile=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a fallback to the eager step warns
            losses = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history["loss"]
        runs[jit] = model, losses
    model, losses = runs[True]
    assert model.make_train_function().compiled_calls == 6 and model.make_train_function().fallback is None
    np.testing.assert_allclose(losses, runs[False][1], rtol=2e-2)  # inductor rounds its fused kernels its own way
    for a, b in zip(model.parameters(), runs[False][0].parameters()):
        assert a.dtype is torch.float32
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-2)
    assert [s.dtype for s in model.get_states()[model.layers[0].name]] == [torch.float32, torch.float32]
    assert (model.loss_scaler is not None) is (policy == "mixed_float16")
