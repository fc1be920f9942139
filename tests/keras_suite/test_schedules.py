"""Learning-rate schedules, ported from Keras 3's
keras/src/optimizers/schedules/learning_rate_schedule_test.py (github.com/keras-team/keras): the same
schedules, steps and expected values (tolerance 1e-6 as there), the config round trips, and
TestFitLRSchedulesFlow.test_fit_lr_correctness's loss history. Beyond Keras's file: the schedule is
followed per optimizer iteration by every optimizer, by the compiled train step, and across a checkpoint.
"""

import math
import shutil

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, Sequential, load, optimizers
from rnnkit.schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay,
                              LearningRateSchedule, PiecewiseConstantDecay, PolynomialDecay, deserialize, serialize)

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="torch.compile needs a C++ compiler on CPU")


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# -- config round trips (test_config of each TestCase) ------------------------------------------------------
@pytest.mark.parametrize("schedule", [
    ExponentialDecay(initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_ed"),
    PiecewiseConstantDecay(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
    PolynomialDecay(initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.005, power=1.0, cycle=False,
                    name="my_ld"),
    InverseTimeDecay(initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_itd"),
    CosineDecay(initial_learning_rate=0.05, decay_steps=10, alpha=0.1, warmup_target=0.2, warmup_steps=2,
                name="my_cd"),
    CosineDecayRestarts(initial_learning_rate=0.05, first_decay_steps=10, alpha=0.1, t_mul=3.0, m_mul=4.0,
                        name="my_cdr"),
], ids=lambda s: type(s).__name__)
def test_config(schedule):
    config = schedule.get_config()
    again = type(schedule).from_config(config)
    assert again.get_config() == config
    rebuilt = deserialize(serialize(schedule))
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == config
    for step in (0, 1, 5, 17, 250):
        assert rebuilt(step) == schedule(step)


# -- ExponentialDecayTest ----------------------------------------------------------------------------------
def test_exponential_continuous():
    close(ExponentialDecay(0.05, 10, 0.96)(5), 0.05 * 0.96 ** (5.0 / 10.0))


def test_exponential_staircase():  # also test_variables: the step as a tensor
    decayed_lr = ExponentialDecay(0.1, 3, 0.96, staircase=True)
    close(decayed_lr(torch.tensor(1.0)), 0.1)
    close(decayed_lr(2), 0.1)
    close(decayed_lr(torch.tensor(100)), 0.1 * 0.96 ** (100 // 3))


# -- PiecewiseConstantDecayTest ----------------------------------------------------------------------------
def test_piecewise_values():
    decayed_lr = PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    for step, expected in [(-999.0, 1.0), (100, 1.0), (105, 0.1), (110, 0.1), (120, 0.01), (999, 0.001)]:
        close(decayed_lr(step), expected)


def test_piecewise_boundary_values():
    decayed_lr = PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    for step, expected in [(0, 0.4), (1, 0.4), (2, 0.5), (3, 0.6), (4, 0.7)]:
        close(decayed_lr(np.int64(step)), expected)


def test_piecewise_lengths_must_match():
    with pytest.raises(ValueError, match="length of boundaries should be 1 less"):
        PiecewiseConstantDecay([1, 2], [0.1, 0.2])


# -- LinearDecayTest and SqrtDecayTest (PolynomialDecay) ---------------------------------------------------
LR, END = 0.05, 0.001


@pytest.mark.parametrize("step, end_lr, power, cycle, expected", [
    (5, 0.0, 1.0, False, LR * 0.5),  # LinearDecayTest.test_halfway
    (10, END, 1.0, False, END),  # test_end
    (5, END, 1.0, False, (LR + END) * 0.5),  # test_halfway_with_end
    (15, END, 1.0, False, END),  # test_beyond_end
    (15, END, 1.0, True, (LR - END) * 0.25 + END),  # test_beyond_end_with_cycle
    (5, 0.0, 0.5, False, LR * 0.5 ** 0.5),  # SqrtDecayTest.test_halfway
    (10, END, 0.5, False, END),
    (5, END, 0.5, False, (LR - END) * 0.5 ** 0.5 + END),
    (15, END, 0.5, False, END),
    (15, END, 0.5, True, (LR - END) * 0.25 ** 0.5 + END),
])
def test_polynomial(step, end_lr, power, cycle, expected):
    close(PolynomialDecay(LR, 10, end_lr, power=power, cycle=cycle)(step), expected)


def test_polynomial_begin_with_cycle():
    close(PolynomialDecay(0.001, 10, cycle=True)(0), 0.001)


# -- InverseTimeDecayTest ----------------------------------------------------------------------------------
@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time(staircase):
    initial_lr, k, decay_rate = 0.1, 10, 0.96
    decayed_lr = InverseTimeDecay(initial_lr, k, decay_rate, staircase=staircase)
    for i in range(k + 1):
        expected = initial_lr / (1 + decay_rate * (i // k)) if staircase else initial_lr / (1 + i / k * decay_rate)
        close(decayed_lr(float(i)), expected)


# -- CosineDecayTest ---------------------------------------------------------------------------------------
def np_cosine_decay(step, decay_steps, alpha=0.0):
    step = min(step, decay_steps)
    decay = 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


def linear_warmup(step, warmup_steps, initial_lr, target_lr):
    return step / warmup_steps * (target_lr - initial_lr)


@pytest.mark.parametrize("alpha", [0.0, 0.1])  # test_decay, test_alpha
@pytest.mark.parametrize("initial_lr", [1.0, np.float64(1.0)])  # test_float64
def test_cosine(alpha, initial_lr):
    for step in range(0, 1500, 250):
        close(CosineDecay(initial_lr, 1000, alpha)(step), np_cosine_decay(step, 1000, alpha))


def test_cosine_warmup():
    for step in range(0, 1500, 250):
        lr = CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)
        close(lr(step), linear_warmup(step, 1500, 0.0, 10.0))


def test_cosine_warmup_decay():
    for step in range(0, 3000, 250):
        lr = CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
        if step < 2000 + 1:
            expected = linear_warmup(step, 2000, 0.0, 10.0)
        else:
            expected = 10.0 * np_cosine_decay(step - 2000, 1000)
        close(lr(step), expected)


# -- CosineDecayRestartsTest -------------------------------------------------------------------------------
def np_cosine_decay_restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    decay = fac * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
    return (1.0 - alpha) * decay + alpha


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.1}, {"m_mul": 0.9}, {"t_mul": 1.0}],
                         ids=["decay", "alpha", "mmul", "tmul"])
@pytest.mark.parametrize("initial_lr", [1.0, np.float64(1.0)])
def test_cosine_restarts(kwargs, initial_lr):
    for step in range(0, 1500, 250):
        close(CosineDecayRestarts(initial_lr, 1000, **kwargs)(step), np_cosine_decay_restarts(step, 1000, **kwargs))


def test_cosine_restarts_several_periods():  # beyond Keras's file: steps across three periods
    for step in range(0, 80, 3):
        close(CosineDecayRestarts(0.5, 10, t_mul=2.0, m_mul=0.7, alpha=0.05)(step),
              0.5 * np_cosine_decay_restarts(step, 10, 2.0, 0.7, 0.05))


@pytest.mark.parametrize("cls, arg", [(ExponentialDecay, "decay_steps"), (CosineDecay, "decay_steps"),
                                      (CosineDecayRestarts, "first_decay_steps")])
def test_steps_must_be_positive(cls, arg):
    with pytest.raises(ValueError, match=f"Argument `{arg}` must be > 0"):
        cls(0.1, 0, **({"decay_rate": 0.9} if cls is ExponentialDecay else {}))


# -- TestFitLRSchedulesFlow --------------------------------------------------------------------------------
def _fit_lr_model(jit_compile=False):
    model = Sequential([Input((2,)), Dense(2, kernel_initializer="ones", bias_initializer="ones")])
    optimizer = optimizers.Adam(learning_rate=ExponentialDecay(initial_learning_rate=0.05, decay_steps=1,
                                                               decay_rate=0.9))
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit_compile)
    return model


FIT_LR_LOSSES = [230.79457092285156, 128.30319213867188, 79.33648681640625]  # Keras's values


def test_fit_lr_correctness():
    model = _fit_lr_model()
    x = np.arange(32).reshape((16, 2))
    y = np.arange(32).reshape((16, 2))
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert model.optimizer.param_groups[0]["iterations"] == 4 * 3
    np.testing.assert_allclose(history.history["loss"], FIT_LR_LOSSES, rtol=5e-5)
    close(optimizers.get_learning_rate(model.optimizer), 0.05 * 0.9 ** 12)


@needs_compiler
def test_fit_lr_correctness_compiled():
    model = _fit_lr_model(jit_compile=True)
    x = np.arange(32).reshape((16, 2))
    history = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert model._train_function.fallback is None and model._train_function.compiled_calls == 12
    assert model.optimizer.param_groups[0]["iterations"] == 12
    np.testing.assert_allclose(history.history["loss"], FIT_LR_LOSSES, rtol=5e-5)


def _weights_after(kind, learning_rate, steps=4):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(5))
    opt = getattr(optimizers, kind)(learning_rate=learning_rate).build([w])
    for t in range(steps):
        if not isinstance(learning_rate, LearningRateSchedule):
            for group in opt.param_groups:  # the rate the schedule gives at iteration t, set by hand
                group["lr"] = 0.1 * 0.5 ** t
        w.grad = torch.linspace(-1, 1, 5) * (t + 1)
        opt.step()
    return w.detach().numpy()


@pytest.mark.parametrize("kind", ["Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"])
def test_every_optimizer_takes_the_schedule_per_iteration(kind):
    scheduled = _weights_after(kind, ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    by_hand = _weights_after(kind, 0.1)
    np.testing.assert_allclose(scheduled, by_hand, rtol=1e-6)


def test_a_checkpoint_resumes_the_schedule(tmp_path):
    x = np.arange(32, dtype=np.float32).reshape((16, 2))
    model = _fit_lr_model()
    model.fit(x, x, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    again = load(tmp_path / "m.rnnkit")
    assert again.optimizer.param_groups[0]["iterations"] == 4
    more = again.fit(x, x, epochs=2, batch_size=4, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(more, FIT_LR_LOSSES[1:], rtol=5e-5)


def test_learning_rate_must_be_a_number_or_a_schedule():
    with pytest.raises(ValueError, match="should be float, or an instance of LearningRateSchedule"):
        optimizers.Adam(learning_rate="fast")
