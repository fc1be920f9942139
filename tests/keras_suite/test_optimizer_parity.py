"""Every optimizer rnnkit names updates weights as Keras 3 does (issue 18).

The references below are NumPy transcriptions of each Keras 3 optimizer's `update_step`
(github.com/keras-team/keras, keras/src/optimizers/<name>.py; file named at each function). Both sides
run in float64 on the same weights and gradients, so any gap is the formula, not rounding. The
gradients span 1 to 1e-4 per tensor: where epsilon sits (sqrt(v + eps) against sqrt(v) + eps) only
shows once v is not >> eps, as it is not for small gradients.
"""

import numpy as np
import pytest
import torch

from rnnkit import optimizers

SHAPES = [(8, 3), (8,), (16, 4), (1,)]  # a Dense kernel and bias, an LSTM-ish kernel, a scalar bias
SCALES = [1.0, 1e-2, 1e-4, 1e-3]
STEPS = 5


def _weights():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in SHAPES]


def _grads():
    rng = np.random.default_rng(1)
    return [[rng.standard_normal(s) * k for s, k in zip(SHAPES, SCALES)] for _ in range(STEPS)]


# ---- Keras 3 update_step, transcribed. `st` is the per-variable slot dict; `t` is iterations + 1. ----

def sgd(w, g, st, t, lr, momentum=0.0, nesterov=False):  # keras/src/optimizers/sgd.py
    if momentum != 0:
        m = st["m"] = momentum * st.get("m", 0.0) - g * lr
        return w + (momentum * m - g * lr if nesterov else m)
    return w - g * lr


def rmsprop(w, g, st, t, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    # keras/src/optimizers/rmsprop.py
    v = st["v"] = rho * st.get("v", 0.0) + (1 - rho) * g ** 2
    if centered:
        a = st["a"] = rho * st.get("a", 0.0) + (1 - rho) * g
        denominator = v - a ** 2 + epsilon
    else:
        denominator = v + epsilon
    increment = lr * g / np.sqrt(denominator)
    if momentum > 0:
        m = st["m"] = momentum * st.get("m", 0.0) + increment
        return w - m
    return w - increment


def adam(w, g, st, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    # keras/src/optimizers/adam.py
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = st["m"] = st.get("m", 0.0) + (g - st.get("m", 0.0)) * (1 - beta_1)
    v = st["v"] = st.get("v", 0.0) + (g ** 2 - st.get("v", 0.0)) * (1 - beta_2)
    if amsgrad:
        v = st["v_hat"] = np.maximum(st.get("v_hat", 0.0), v)
    return w - m * alpha / (np.sqrt(v) + epsilon)


def adagrad(w, g, st, t, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    # keras/src/optimizers/adagrad.py
    acc = st["acc"] = st.get("acc", initial_accumulator_value) + g ** 2
    return w - lr * g / np.sqrt(acc + epsilon)


def adadelta(w, g, st, t, lr, rho=0.95, epsilon=1e-7):  # keras/src/optimizers/adadelta.py
    def rms(x):
        return np.sqrt(x + epsilon)
    ag = st["ag"] = rho * st.get("ag", 0.0) + (1 - rho) * g ** 2
    delta = -rms(st.get("ad", 0.0)) * g / rms(ag)
    st["ad"] = rho * st.get("ad", 0.0) + (1 - rho) * delta ** 2
    return w + lr * delta


def adamax(w, g, st, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):  # keras/src/optimizers/adamax.py
    m = st["m"] = st.get("m", 0.0) + (g - st.get("m", 0.0)) * (1 - beta_1)
    u = st["u"] = np.maximum(beta_2 * st.get("u", 0.0), np.abs(g))
    return w - lr * m / ((1 - beta_1 ** t) * (u + epsilon))


def nadam(w, g, st, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, u_product_t=None):
    # keras/src/optimizers/nadam.py; `_backend_update_step` multiplies u_product by u_t before the
    # per-variable update_step, so u_product_t already includes this step's u_t.
    u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
    u_t_1 = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product_t_1 = u_product_t * u_t_1
    m = st["m"] = st.get("m", 0.0) + (g - st.get("m", 0.0)) * (1 - beta_1)
    v = st["v"] = st.get("v", 0.0) + (g ** 2 - st.get("v", 0.0)) * (1 - beta_2)
    m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
    v_hat = v / (1 - beta_2 ** t)
    return w - m_hat * lr / (np.sqrt(v_hat) + epsilon)


def keras_reference(update, lr, **kw):
    weights, slots, u_product = _weights(), [{} for _ in SHAPES], 1.0
    for t, grads in enumerate(_grads(), start=1):
        extra = {}
        if update is nadam:
            u_product *= kw.get("beta_1", 0.9) * (1 - 0.5 * 0.96 ** t)
            extra["u_product_t"] = u_product
        weights = [update(w, g, st, t, lr, **kw, **extra) for w, g, st in zip(weights, grads, slots)]
    return weights


def rnnkit_weights(spec):
    params = [torch.tensor(w, requires_grad=True) for w in _weights()]
    opt = optimizers.build(spec, params)
    for grads in _grads():
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params], opt


# (id, rnnkit spec, Keras reference, the Keras learning rate, the Keras keyword arguments)
CASES = [
    ("sgd", optimizers.SGD(), sgd, 0.01, {}),
    ("sgd-momentum", optimizers.SGD(learning_rate=0.05, momentum=0.9), sgd, 0.05, dict(momentum=0.9)),
    ("sgd-nesterov", optimizers.SGD(momentum=0.9, nesterov=True), sgd, 0.01,
     dict(momentum=0.9, nesterov=True)),
    ("rmsprop", optimizers.RMSprop(), rmsprop, 0.001, {}),
    ("rmsprop-momentum", optimizers.RMSprop(momentum=0.9), rmsprop, 0.001, dict(momentum=0.9)),
    ("rmsprop-centered", optimizers.RMSprop(learning_rate=0.01, rho=0.8, centered=True, momentum=0.5),
     rmsprop, 0.01, dict(rho=0.8, centered=True, momentum=0.5)),
    ("adagrad", optimizers.Adagrad(), adagrad, 0.001, {}),
    ("adagrad-init", optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-5),
     adagrad, 0.1, dict(initial_accumulator_value=0.0, epsilon=1e-5)),
    ("adadelta", optimizers.Adadelta(), adadelta, 0.001, {}),
    ("adadelta-rho", optimizers.Adadelta(learning_rate=1.0, rho=0.9), adadelta, 1.0, dict(rho=0.9)),
    ("adamax", optimizers.Adamax(), adamax, 0.001, {}),
    ("adamax-betas", optimizers.Adamax(learning_rate=0.01, beta_1=0.8, beta_2=0.99), adamax, 0.01,
     dict(beta_1=0.8, beta_2=0.99)),
    ("nadam", optimizers.Nadam(), nadam, 0.001, {}),
    ("nadam-betas", optimizers.Nadam(learning_rate=0.01, beta_1=0.8), nadam, 0.01, dict(beta_1=0.8)),
]

CASES += [
    ("adam", optimizers.Adam(), adam, 0.001, {}),
    ("adam-amsgrad", optimizers.Adam(learning_rate=0.01, amsgrad=True), adam, 0.01, dict(amsgrad=True)),
]


def lion(w, g, st, t, lr, beta_1=0.9, beta_2=0.99):  # keras/src/optimizers/lion.py
    m = st.get("m", 0.0)
    st["m"] = m * beta_2 + g * (1 - beta_2)
    return w - lr * np.sign(m * beta_1 + g * (1 - beta_1))


def adamw(w, g, st, t, lr, weight_decay=0.004, **kw):
    # keras/src/optimizers/adamw.py is Adam with base_optimizer.py's `_apply_weight_decay` before the update
    return adam(w - w * weight_decay * lr, g, st, t, lr, **kw)


CASES += [
    ("adamw", optimizers.AdamW(), adamw, 0.001, {}),
    ("adamw-options", optimizers.AdamW(learning_rate=0.01, weight_decay=0.1, beta_1=0.8), adamw, 0.01,
     dict(weight_decay=0.1, beta_1=0.8)),
    ("lion", optimizers.Lion(), lion, 0.001, {}),
    ("lion-betas", optimizers.Lion(learning_rate=0.01, beta_1=0.5, beta_2=0.9), lion, 0.01,
     dict(beta_1=0.5, beta_2=0.9)),
]


def ftrl(w, g, st, t, lr, learning_rate_power=-0.5, initial_accumulator_value=0.1, l1_regularization_strength=0.0,
         l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0, beta=0.0):
    # keras/src/optimizers/ftrl.py: the weight is solved for each step, not stepped
    n, z, power = st.get("n", np.full_like(w, initial_accumulator_value)), st.get("z", 0.0), -learning_rate_power
    l1, l2 = l1_regularization_strength, l2_regularization_strength + beta / (2.0 * lr)
    new_n = n + g ** 2
    z = st["z"] = z + g + 2 * l2_shrinkage_regularization_strength * w - (new_n ** power - n ** power) / lr * w
    st["n"] = new_n
    return (np.clip(z, -l1, l1) - z) / (new_n ** power / lr + 2 * l2)


def lamb(w, g, st, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):  # keras/src/optimizers/lamb.py
    m = st["m"] = st.get("m", 0.0) + (g - st.get("m", 0.0)) * (1 - beta_1)
    v = st["v"] = st.get("v", 0.0) + (g ** 2 - st.get("v", 0.0)) * (1 - beta_2)
    update = (m / (1 - beta_1 ** t)) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    w_norm, u_norm = np.linalg.norm(w), np.linalg.norm(update)
    return w - (w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0) * lr * update


def adafactor(w, g, st, t, lr, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
              relative_step=True):  # keras/src/optimizers/adafactor.py (relative_step: lr is capped below anyway)
    def rms(x):
        return np.sqrt(np.mean(x ** 2))
    alpha = max(epsilon_2, rms(w)) * min(lr, 1 / np.sqrt(t))
    regulated, beta_2 = g ** 2 + epsilon_1, 1 - t ** beta_2_decay
    if w.ndim >= 2:  # the second moment factored over the last two axes
        r = st["r"] = beta_2 * st.get("r", 0.0) + (1 - beta_2) * regulated.mean(axis=-1)
        c = st["c"] = beta_2 * st.get("c", 0.0) + (1 - beta_2) * regulated.mean(axis=-2)
        v = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
    else:
        v = st["v"] = beta_2 * st.get("v", 0.0) + (1 - beta_2) * regulated
    u = g / np.sqrt(v)
    return w - alpha * u / max(1.0, rms(u) / clip_threshold)


FTRL_OPTIONS = dict(learning_rate_power=-0.2, initial_accumulator_value=0.4, l1_regularization_strength=0.05,
                    l2_regularization_strength=0.15, l2_shrinkage_regularization_strength=0.01, beta=0.3)
ADAFACTOR_OPTIONS = dict(beta_2_decay=-0.65, epsilon_1=1e-15, epsilon_2=1e-4, clip_threshold=0.9, relative_step=False)
CASES += [
    ("ftrl", optimizers.Ftrl(), ftrl, 0.001, {}),
    ("ftrl-options", optimizers.Ftrl(learning_rate=0.05, **FTRL_OPTIONS), ftrl, 0.05, FTRL_OPTIONS),
    ("lamb", optimizers.Lamb(), lamb, 0.001, {}),
    ("lamb-betas", optimizers.Lamb(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-5), lamb, 0.01,
     dict(beta_1=0.5, beta_2=0.9, epsilon=1e-5)),
    ("adafactor", optimizers.Adafactor(), adafactor, 0.001, {}),
    ("adafactor-options", optimizers.Adafactor(learning_rate=0.5, **ADAFACTOR_OPTIONS), adafactor, 0.5,
     ADAFACTOR_OPTIONS),
]


def muon(w, g, st, t, lr, weight_decay=0.004, adam_weight_decay=0.004, adam_beta_1=0.9, adam_beta_2=0.999,
         epsilon=1e-7, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
         nesterov=True, rms_rate=0.2):
    # keras/src/optimizers/muon.py: `_apply_weight_decay` (at the base rate) then `update_step`
    if w.ndim != 2:  # `_should_use_adamw`: `_adamw_update_step` is Adam at lr * adam_lr_ratio
        return adam(w - w * adam_weight_decay * lr, g, st, t, lr * adam_lr_ratio, adam_beta_1, adam_beta_2, epsilon)
    w = w - w * weight_decay * lr
    m = st["m"] = st.get("m", 0.0) * momentum + g
    x = g + momentum * m if nesterov else m
    tall = x.shape[0] > x.shape[1]
    x = (x.T if tall else x) / (np.linalg.norm(x) + 1e-7)  # `zeropower_via_newtonschulz5`
    for _ in range(ns_steps):
        a = x @ x.T
        x = muon_a * x + (muon_b * a + muon_c * a @ a) @ x
    step = lr * (x.T if tall else x)
    return w - (step if rms_rate is None else step * np.sqrt(max(w.shape)) * rms_rate)  # `lr_adjust`


def schedule_free_adamw(w, g, st, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0):
    # keras/src/optimizers/schedule_free_adamw.py: z (`momentum`) starts at the weights
    z = st.get("z", w)
    lr = lr * min(t / warmup_steps, 1.0) if warmup_steps > 0 else lr
    v = st["v"] = st.get("v", 0.0) + (g ** 2 - st.get("v", 0.0)) * (1 - beta_2)
    z_new = st["z"] = z - lr * g / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    x = (1 - 1 / t) * (w - (1 - beta_1) * z) / beta_1 + z_new / t
    return (1 - beta_1) * z_new + beta_1 * x


MUON_OPTIONS = dict(momentum=0.9, nesterov=False, ns_steps=3, rms_rate=None, adam_lr_ratio=0.5, weight_decay=0.1,
                    adam_weight_decay=0.05, muon_a=2.0, muon_b=-1.5, muon_c=0.5)
CASES += [
    ("muon", optimizers.Muon(), muon, 0.001, {}),
    ("muon-options", optimizers.Muon(learning_rate=0.02, **MUON_OPTIONS), muon, 0.02, MUON_OPTIONS),
    ("schedulefreeadamw", optimizers.ScheduleFreeAdamW(), schedule_free_adamw, 0.0025, {}),
    ("schedulefreeadamw-warmup", optimizers.ScheduleFreeAdamW(learning_rate=0.05, beta_1=0.8, warmup_steps=3),
     schedule_free_adamw, 0.05, dict(beta_1=0.8, warmup_steps=3)),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def _max_relative_gap(got, want, start):
    """Largest |got - want| relative to the largest step any weight of that tensor took."""
    return max(float(np.abs(a - b).max() / np.abs(b - w0).max()) for a, b, w0 in zip(got, want, start))


@pytest.mark.parametrize("name,spec,update,lr,kw", PARAMS)
def test_five_steps_match_keras(name, spec, update, lr, kw):
    want = keras_reference(update, lr, **kw)
    got, _ = rnnkit_weights(spec)
    start = _weights()
    assert min(float(np.abs(b - w0).max()) for b, w0 in zip(want, start)) > 0  # every tensor moved
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)
    # The weights' own relative tolerance hides a wrong step on weights that barely move: the
    # displacement itself must match too.
    assert _max_relative_gap(got, want, start) < 1e-6


def test_every_named_optimizer_is_covered():
    assert {c[1].kind for c in CASES} == set(optimizers._BY_NAME)


@pytest.mark.parametrize("spec", [optimizers.RMSprop(momentum=0.9, centered=True), optimizers.Adamax(),
                                  optimizers.Ftrl(beta=0.1), optimizers.Lamb(), optimizers.Adafactor(),
                                  optimizers.Muon(), optimizers.ScheduleFreeAdamW(weight_decay=0.1)],
                         ids=["rmsprop", "adamax", "ftrl", "lamb", "adafactor", "muon", "schedulefreeadamw"])
def test_keras_optimizer_state_round_trips(spec):
    """Stopping after 2 steps, saving the state and loading it into a fresh optimizer carries on exactly."""
    full, _ = rnnkit_weights(spec)
    params = [torch.tensor(w, requires_grad=True) for w in _weights()]
    opt = optimizers.build(spec, params)
    grads = _grads()
    for gs in grads[:2]:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g)
        opt.step()
    saved = opt.state_dict()
    opt = optimizers.build(spec, params)
    opt.load_state_dict(saved)
    for gs in grads[2:]:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g)
        opt.step()
    for a, b in zip([p.detach().numpy() for p in params], full):
        np.testing.assert_array_equal(a, b)
