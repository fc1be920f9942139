"""Generate tests/fixtures/keras_optimizers.npz/.json and keras_losses.npz/.json with Keras 3 (issue 18).

Optimizers: from the same float32 weights, every case applies the same five batches of gradients with
Keras's `apply_gradients` and records the weights (the cases added later: seven batches on five tensors, and
Keras's EMA and gradient accumulators; Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer and
exclude_from_weight_decay are scripts/keras_optimizer_goldens_more.py's), and each case's `get_config()`. Losses: Keras's loss objects on fixed inputs, with
and without sample_weight. The tests (tests/keras_suite/test_optimizer_loss_goldens.py) only read the
files. Run: KERAS_BACKEND=jax python scripts/make_keras_optimizer_loss_goldens.py
(`... losses` or `... optimizers` writes only that half; each half's numbers do not depend on the other's)
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras_optimizer_goldens_more import keras_optimizer, more_optimizer_goldens, record  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")

# ---- optimizers ---------------------------------------------------------------------------------------
SHAPES = [(8, 3), (8,), (16, 4), (1,)]  # a Dense kernel and bias, an LSTM-ish kernel, a scalar bias
SCALES = [1.0, 1e-2, 1e-4, 1e-3]  # small gradients show where epsilon sits
STEPS = 5

# (case id, Keras class name, keyword arguments): the same names and arguments rnnkit's specs take
OPTIMIZER_CASES = [
    ("sgd", "SGD", {}),
    ("sgd-momentum", "SGD", dict(learning_rate=0.05, momentum=0.9)),
    ("sgd-nesterov", "SGD", dict(momentum=0.9, nesterov=True)),
    ("rmsprop", "RMSprop", {}),
    ("rmsprop-momentum", "RMSprop", dict(momentum=0.9)),
    ("rmsprop-centered", "RMSprop", dict(learning_rate=0.01, rho=0.8, centered=True, momentum=0.5)),
    ("adam", "Adam", {}),
    ("adam-betas", "Adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-5)),
    ("adam-amsgrad", "Adam", dict(learning_rate=0.01, amsgrad=True)),
    ("adagrad", "Adagrad", {}),
    ("adagrad-init", "Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-5)),
    ("adadelta", "Adadelta", {}),
    ("adadelta-rho", "Adadelta", dict(learning_rate=1.0, rho=0.9)),
    ("adamax", "Adamax", {}),
    ("adamax-betas", "Adamax", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99)),
    ("nadam", "Nadam", {}),
    ("nadam-betas", "Nadam", dict(learning_rate=0.01, beta_1=0.8)),
    ("sgd-clipvalue", "SGD", dict(learning_rate=0.1, clipvalue=0.5)),
    ("adam-clipvalue", "Adam", dict(learning_rate=0.01, clipvalue=0.5)),
    ("sgd-clipnorm", "SGD", dict(learning_rate=0.1, clipnorm=0.5)),  # Keras clips each tensor by its own norm
    ("sgd-clipnorm-large", "SGD", dict(learning_rate=0.1, clipnorm=100.0)),  # no tensor reaches it
    ("sgd-global_clipnorm", "SGD", dict(learning_rate=0.1, global_clipnorm=0.5)),  # one norm over all tensors
    ("sgd-global_clipnorm-large", "SGD", dict(learning_rate=0.1, global_clipnorm=100.0)),
    ("adam-global_clipnorm", "Adam", dict(learning_rate=0.01, global_clipnorm=1.0)),
    ("adamw", "AdamW", {}),
    ("adamw-options", "AdamW", dict(learning_rate=0.05, weight_decay=0.1, beta_1=0.8, amsgrad=True)),
    ("adamw-global_clipnorm", "AdamW", dict(learning_rate=0.01, weight_decay=0.05, global_clipnorm=0.5)),
    ("lion", "Lion", {}),
    ("lion-betas", "Lion", dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9)),
    ("lion-weight_decay", "Lion", dict(learning_rate=0.01, weight_decay=0.5, clipvalue=0.5)),
    ("sgd-weight_decay", "SGD", dict(learning_rate=0.1, momentum=0.9, weight_decay=0.2)),
    ("adam-weight_decay", "Adam", dict(learning_rate=0.01, weight_decay=0.1)),
    ("rmsprop-weight_decay", "RMSprop", dict(learning_rate=0.01, weight_decay=0.1, global_clipnorm=1.0)),
    ("adagrad-weight_decay", "Adagrad", dict(learning_rate=0.1, weight_decay=0.1)),
    ("adadelta-weight_decay", "Adadelta", dict(learning_rate=1.0, weight_decay=0.1)),
    ("adamax-weight_decay", "Adamax", dict(learning_rate=0.01, weight_decay=0.1)),
    ("nadam-weight_decay", "Nadam", dict(learning_rate=0.01, weight_decay=0.1, clipnorm=0.5)),
]


# Cases added later (Ftrl, Adafactor, Lamb, use_ema, gradient_accumulation_steps) run longer on one more
# tensor; their arrays are appended, so everything above reads as it did. A fifth, 3-axis tensor (Adafactor
# factors the last two axes of weights with two or more) and two more batches of gradients (accumulation over
# 2 and 3 batches then ends mid-way; an EMA overwriting every 3rd step overwrites twice).
EXTRA_SHAPE, EXTRA_SCALE, EXTRA_STEPS = (2, 3, 4), 0.1, 7
SCHEDULE = {"class_name": "ExponentialDecay",  # Keras's serialized form; the tests deserialize it with rnnkit's
            "config": {"initial_learning_rate": 0.05, "decay_steps": 2, "decay_rate": 0.7, "staircase": False,
                       "name": "ExponentialDecay"}}
EXTRA_CASES = [
    ("ftrl", "Ftrl", {}),
    ("ftrl-options", "Ftrl", dict(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
                                  l1_regularization_strength=0.05, l2_regularization_strength=0.15,
                                  l2_shrinkage_regularization_strength=0.01, beta=0.3)),  # Keras's golden test
    ("ftrl-schedule", "Ftrl", dict(learning_rate=SCHEDULE, beta=0.5, learning_rate_power=0.0)),
    ("ftrl-weight_decay", "Ftrl", dict(learning_rate=0.1, weight_decay=0.1, clipvalue=0.5,
                                       l1_regularization_strength=0.01)),
    ("adafactor", "Adafactor", {}),
    ("adafactor-options", "Adafactor", dict(learning_rate=0.5, beta_2_decay=-0.65, epsilon_1=1e-15, epsilon_2=1e-4,
                                            clip_threshold=0.9, relative_step=False)),  # Keras's golden test
    ("adafactor-schedule", "Adafactor", dict(learning_rate=SCHEDULE, weight_decay=0.1)),
    ("adafactor-global_clipnorm", "Adafactor", dict(learning_rate=0.1, global_clipnorm=0.5)),
    ("lamb", "Lamb", {}),
    ("lamb-betas", "Lamb", dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-5)),
    ("lamb-weight_decay", "Lamb", dict(learning_rate=0.01, weight_decay=0.1, clipnorm=0.5)),
    ("lamb-schedule", "Lamb", dict(learning_rate=SCHEDULE)),
    ("sgd-ema", "SGD", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.9)),
    ("adam-ema-overwrite", "Adam", dict(learning_rate=0.01, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=3)),
    ("rmsprop-ema-overwrite_every_step", "RMSprop", dict(learning_rate=0.01, use_ema=True, ema_momentum=0.5,
                                                         ema_overwrite_frequency=1)),
    ("lamb-ema", "Lamb", dict(learning_rate=0.01, use_ema=True)),
    ("adam-ema-schedule", "Adam", dict(learning_rate=SCHEDULE, use_ema=True, ema_momentum=0.7, weight_decay=0.05)),
    *[(f"{kind.lower()}-accumulation", kind, dict(gradient_accumulation_steps=steps, **kw)) for kind, steps, kw in [
        ("SGD", 3, dict(learning_rate=0.1, momentum=0.9)), ("RMSprop", 2, {}), ("Adam", 2, dict(learning_rate=0.01)),
        ("AdamW", 3, dict(learning_rate=0.01)), ("Adagrad", 2, dict(learning_rate=0.1)), ("Adadelta", 2, {}),
        ("Adamax", 3, dict(learning_rate=0.01)), ("Nadam", 2, dict(learning_rate=0.01)), ("Lion", 2, {}),
        ("Ftrl", 3, {}), ("Adafactor", 2, {}), ("Lamb", 3, dict(learning_rate=0.01))]],
    ("adam-accumulation-schedule", "Adam", dict(learning_rate=SCHEDULE, gradient_accumulation_steps=2,
                                                weight_decay=0.1, global_clipnorm=0.5)),
    ("sgd-accumulation-clipnorm", "SGD", dict(learning_rate=0.1, gradient_accumulation_steps=2, clipnorm=0.05)),
    ("nadam-accumulation-ema", "Nadam", dict(learning_rate=0.01, gradient_accumulation_steps=2, use_ema=True,
                                             ema_overwrite_frequency=2)),
    ("adafactor-accumulation-ema-schedule", "Adafactor", dict(learning_rate=SCHEDULE, gradient_accumulation_steps=3,
                                                              use_ema=True, ema_momentum=0.5)),
]
# The names keras.optimizers.get is asked to resolve (the fixture records which it does)
OPTIMIZER_NAMES = ["adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "adamw", "lion", "ftrl",
                   "adafactor", "lamb", "Ftrl", "FTRL", "Adafactor", "Lamb", "muon", "Muon", "schedulefreeadamw",
                   "ScheduleFreeAdamW"]


def optimizer_goldens():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    rng = np.random.default_rng(1)
    grads = [[(rng.standard_normal(s) * k).astype("float32") for s, k in zip(SHAPES, SCALES)]
             for _ in range(STEPS)]
    arrays = {f"w0/{i}": w for i, w in enumerate(weights)}
    arrays.update({f"grad/{t}/{i}": g for t, gs in enumerate(grads) for i, g in enumerate(gs)})
    configs = {}
    for case, cls, kwargs in OPTIMIZER_CASES:
        variables = [keras.Variable(w) for w in weights]
        opt = getattr(keras.optimizers, cls)(**kwargs)
        for gs in grads:
            opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], variables))
        for i, v in enumerate(variables):
            arrays[f"{case}/{i}"] = np.asarray(v.numpy(), dtype="float32")
        configs[case] = opt.get_config()
    cases = [{"id": c, "class": k, "kwargs": kw} for c, k, kw in OPTIMIZER_CASES]
    extra_optimizer_goldens(weights, grads, arrays, configs, cases)
    more = {}  # Muon, ScheduleFreeAdamW, the wrappers, exclude_from_weight_decay (keras_optimizer_goldens_more)
    more_optimizer_goldens(arrays, configs, cases, more, len(SHAPES) + 1, EXTRA_STEPS)
    names = {}
    for name in OPTIMIZER_NAMES:
        try:
            names[name] = type(keras.optimizers.get(name)).__name__
        except ValueError:
            names[name] = None
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(), "shapes": SHAPES,
            "steps": STEPS, "cases": cases, "extra_shape": EXTRA_SHAPE, "extra_steps": EXTRA_STEPS,
            "configs": configs, "names": names, **more}
    np.savez(os.path.join(OUT, "keras_optimizers.npz"), **arrays)
    with open(os.path.join(OUT, "keras_optimizers.json"), "w") as f:
        json.dump(meta, f, indent=1)


def extra_optimizer_goldens(weights, grads, arrays, configs, cases):
    """EXTRA_CASES on five tensors for EXTRA_STEPS batches: the weights, and where Keras keeps them the EMA
    (`{case}/average/{i}`, and the weights after finalize_variable_values, `{case}/finalized/{i}`) and the
    gradient accumulators (`{case}/accumulator/{i}`)."""
    rng = np.random.default_rng(2)
    grads = [list(gs) for gs in grads] + [[(rng.standard_normal(s) * k).astype("float32") for s, k in zip(SHAPES, SCALES)]
                     for _ in range(STEPS, EXTRA_STEPS)]
    rng = np.random.default_rng(3)
    weights = weights + [rng.standard_normal(EXTRA_SHAPE).astype("float32")]
    for t, gs in enumerate(grads):
        gs.append((rng.standard_normal(EXTRA_SHAPE) * EXTRA_SCALE).astype("float32"))
    arrays[f"w0/{len(SHAPES)}"] = weights[-1]
    arrays.update({f"grad/{t}/{i}": g for t, gs in enumerate(grads) for i, g in enumerate(gs)
                   if f"grad/{t}/{i}" not in arrays})
    for case, cls, kwargs in EXTRA_CASES:
        variables = [keras.Variable(w) for w in weights]
        opt = keras_optimizer(cls, kwargs)
        for gs in grads:
            opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], variables))
        record(case, opt, variables, arrays, kwargs)
        configs[case] = opt.get_config()
        cases.append({"id": case, "class": cls, "kwargs": kwargs, "steps": EXTRA_STEPS, "tensors": len(weights)})


# ---- losses -------------------------------------------------------------------------------------------
# (case id, Keras class name, keyword arguments, input kind). Input kinds name the fixed arrays below.
LOSS_CASES = [
    ("mean_squared_error", "MeanSquaredError", {}, "regression"),
    ("mean_absolute_error", "MeanAbsoluteError", {}, "regression"),
    ("mean_absolute_percentage_error", "MeanAbsolutePercentageError", {}, "regression"),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", {}, "regression"),
    ("huber", "Huber", {}, "regression"),
    ("huber-delta", "Huber", dict(delta=0.3), "regression"),
    ("log_cosh", "LogCosh", {}, "regression"),
    ("poisson", "Poisson", {}, "positive"),
    ("kl_divergence", "KLDivergence", {}, "probabilities"),
    ("cosine_similarity", "CosineSimilarity", {}, "regression"),
    ("hinge", "Hinge", {}, "binary"),
    ("squared_hinge", "SquaredHinge", {}, "binary"),
    ("hinge-signed", "Hinge", {}, "signed"),
    ("categorical_hinge", "CategoricalHinge", {}, "onehot"),
    ("binary_crossentropy", "BinaryCrossentropy", {}, "binary"),
    ("binary_crossentropy-logits", "BinaryCrossentropy", dict(from_logits=True), "binary_logits"),
    ("binary_crossentropy-smoothing", "BinaryCrossentropy", dict(label_smoothing=0.1), "binary"),
    ("binary_crossentropy-logits-smoothing", "BinaryCrossentropy", dict(from_logits=True, label_smoothing=0.2),
     "binary_logits"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {}, "onehot"),
    ("categorical_crossentropy-soft", "CategoricalCrossentropy", {}, "probabilities"),
    ("categorical_crossentropy-logits", "CategoricalCrossentropy", dict(from_logits=True), "onehot_logits"),
    ("categorical_crossentropy-smoothing", "CategoricalCrossentropy", dict(label_smoothing=0.1), "onehot"),
    ("categorical_crossentropy-logits-smoothing", "CategoricalCrossentropy",
     dict(from_logits=True, label_smoothing=0.2), "onehot_logits"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy-logits", "SparseCategoricalCrossentropy", dict(from_logits=True),
     "sparse_logits"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", {}, "binary"),
    ("binary_focal_crossentropy-options", "BinaryFocalCrossentropy",
     dict(apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True, label_smoothing=0.1), "binary_logits"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", {}, "onehot"),
    ("categorical_focal_crossentropy-logits", "CategoricalFocalCrossentropy",
     dict(alpha=0.5, gamma=1.0, from_logits=True, label_smoothing=0.1), "onehot_logits"),
    # added later: Keras's overlap losses and LossFunctionWrapper ("fn" names the function of keras.losses,
    # and of rnnkit.losses in the tests)
    ("dice", "Dice", {}, "binary"),
    ("dice-soft", "Dice", {}, "probabilities"),
    ("dice-axis", "Dice", dict(axis=-1), "binary"),
    ("tversky", "Tversky", {}, "binary"),
    ("tversky-options", "Tversky", dict(alpha=0.3, beta=0.7, axis=-1), "binary"),
    ("wrapper-mean_squared_error", "LossFunctionWrapper", dict(fn="mean_squared_error"), "regression"),
    ("wrapper-tversky", "LossFunctionWrapper", dict(fn="tversky", alpha=0.2, beta=0.8, axis=-1), "probabilities"),
    ("wrapper-huber", "LossFunctionWrapper", dict(fn="huber", delta=0.5), "regression"),
]
# Keras's losses whose inputs are not one shape for y_true and y_pred, each on its own batch ("own/<kind>"):
# CTC (labels padded with 0 against (batch, time, classes) logits; a softmax output taken as logits, as Keras
# does) and Circle (integer labels against unit-norm embeddings, a singleton class giving a masked 0)
OWN_INPUT_LOSS_CASES = [
    ("ctc", "CTC", {}, "ctc"),
    ("ctc-softmax", "CTC", {}, "ctc_softmax"),
    ("ctc-long", "CTC", {}, "ctc_long"),
    ("circle", "Circle", {}, "circle"),
    ("circle-options", "Circle", dict(gamma=32.0, margin=0.25, remove_diagonal=False), "circle"),
    ("wrapper-circle", "LossFunctionWrapper", dict(fn="circle", gamma=64.0), "circle"),
    ("wrapper-ctc", "LossFunctionWrapper", dict(fn="ctc"), "ctc"),
]
OWN_REDUCTIONS = ["sum", None, "mean_with_sample_weight"]


def loss_inputs():
    """(y_true, y_pred) per input kind, each in a 2-D (B, C) and a 3-D (B, T, C) version."""
    rng = np.random.default_rng(7)
    out = {}
    for rank, shape in (("2d", (4, 5)), ("3d", (3, 4, 5))):
        f = lambda *s: rng.standard_normal(s).astype("float32")  # noqa: E731
        u = lambda *s: rng.uniform(0.05, 0.95, s).astype("float32")  # noqa: E731
        classes = shape[-1]
        ids = rng.integers(0, classes, shape[:-1])
        onehot = np.eye(classes, dtype="float32")[ids]
        probs = np.exp(f(*shape))
        probs = (probs / probs.sum(-1, keepdims=True)).astype("float32")
        out[rank] = {
            "regression": (f(*shape), f(*shape)),
            "positive": (rng.poisson(2.0, shape).astype("float32"), u(*shape) * 3),
            "probabilities": (probs, u(*shape)),
            "binary": ((rng.random(shape) > 0.5).astype("float32"), u(*shape)),
            "signed": (np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype("float32"), f(*shape)),
            "binary_logits": ((rng.random(shape) > 0.5).astype("float32"), f(*shape) * 3),
            "onehot": (onehot, probs),
            "onehot_logits": (onehot, f(*shape) * 2),
            "sparse": (ids.astype("int64"), probs),
            "sparse_logits": (ids.astype("int64"), f(*shape) * 2),
        }
    return out


def own_loss_inputs():
    """(y_true, y_pred, sample_weight) per kind of OWN_INPUT_LOSS_CASES."""
    rng = np.random.default_rng(9)

    def softmax(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True)).astype("float32")

    # label sequences of length 3, 1, 0 and 2 (a repeat, which needs a blank between) over 6 steps, 5 classes
    labels = np.array([[1, 2, 3, 0], [4, 0, 0, 0], [0, 0, 0, 0], [2, 2, 0, 0]], dtype="int64")
    logits = (rng.standard_normal((4, 6, 5)) * 2).astype("float32")
    long_labels = rng.integers(1, 8, (3, 9)).astype("int64")  # 20 steps, 8 classes, labels of 9, 6 and 3
    long_labels[1, 6:], long_labels[2, 3:] = 0, 0
    embeddings = rng.standard_normal((7, 4))
    embeddings = (embeddings / np.linalg.norm(embeddings, axis=-1, keepdims=True)).astype("float32")
    return {
        "ctc": (labels, logits, rng.uniform(0, 2, 4).astype("float32")),
        "ctc_softmax": (labels, softmax(logits), rng.uniform(0, 2, 4).astype("float32")),
        "ctc_long": (long_labels, (rng.standard_normal((3, 20, 8)) * 3).astype("float32"),
                     rng.uniform(0, 2, 3).astype("float32")),
        "circle": (np.array([0, 1, 0, 2, 1, 1, 3], dtype="int64"), embeddings, rng.uniform(0, 2, 7).astype("float32")),
    }


def keras_loss(cls, kwargs, **extra):
    kwargs = dict(kwargs, **extra)
    if "fn" in kwargs:
        kwargs["fn"] = getattr(keras.losses, kwargs["fn"])
    if cls == "LossFunctionWrapper":  # Keras 3.15.1 keeps it out of keras.losses (Loss classes subclass it)
        from keras.src.losses import LossFunctionWrapper
        return LossFunctionWrapper(**kwargs)
    return getattr(keras.losses, cls)(**kwargs)


def own_loss_goldens(arrays):
    """OWN_INPUT_LOSS_CASES: `{case}/own/value`, `/weighted`, and one array per reduction of OWN_REDUCTIONS."""
    for kind, (y_true, y_pred, weight) in own_loss_inputs().items():
        arrays[f"own/{kind}/y_true"], arrays[f"own/{kind}/y_pred"], arrays[f"own/{kind}/sample_weight"] = \
            y_true, y_pred, weight
    for case, cls, kwargs, kind in OWN_INPUT_LOSS_CASES:
        y_true, y_pred, weight = (arrays[f"own/{kind}/{k}"] for k in ("y_true", "y_pred", "sample_weight"))
        loss = keras_loss(cls, kwargs)
        arrays[f"{case}/own/value"] = np.asarray(loss(y_true, y_pred), dtype="float32")
        arrays[f"{case}/own/weighted"] = np.asarray(loss(y_true, y_pred, sample_weight=weight), dtype="float32")
        for reduction in OWN_REDUCTIONS:
            reduced = keras_loss(cls, kwargs, reduction=reduction)(y_true, y_pred, sample_weight=weight)
            arrays[f"{case}/own/{reduction or 'none'}"] = np.asarray(reduced, dtype="float32")
    return [{"id": c, "class": k, "kwargs": kw, "inputs": f"own/{i}"} for c, k, kw, i in OWN_INPUT_LOSS_CASES]


def loss_goldens():
    inputs = loss_inputs()
    rng = np.random.default_rng(8)
    arrays = {}
    for rank, kinds in inputs.items():
        for kind, (y_true, y_pred) in kinds.items():
            arrays[f"{rank}/{kind}/y_true"], arrays[f"{rank}/{kind}/y_pred"] = y_true, y_pred
        batch = kinds["regression"][0].shape[:-1]
        # one weight per sample (2-D) or per sample and step (3-D: Keras 3 broadcasts (B,) against time)
        arrays[f"{rank}/sample_weight"] = rng.uniform(0, 2, batch).astype("float32")
    for case, cls, kwargs, kind in LOSS_CASES:
        loss = keras_loss(cls, kwargs)
        for rank in inputs:
            y_true, y_pred = arrays[f"{rank}/{kind}/y_true"], arrays[f"{rank}/{kind}/y_pred"]
            arrays[f"{case}/{rank}/value"] = np.asarray(loss(y_true, y_pred), dtype="float32")
            arrays[f"{case}/{rank}/weighted"] = np.asarray(
                loss(y_true, y_pred, sample_weight=arrays[f"{rank}/sample_weight"]), dtype="float32")
            per_sample = keras_loss(cls, kwargs, reduction=None)
            arrays[f"{case}/{rank}/none"] = np.asarray(per_sample(y_true, y_pred), dtype="float32")
            summed = keras_loss(cls, kwargs, reduction="sum")
            arrays[f"{case}/{rank}/sum"] = np.asarray(summed(y_true, y_pred), dtype="float32")
    own_cases = own_loss_goldens(arrays)
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(),
            "cases": [{"id": c, "class": k, "kwargs": kw, "inputs": i} for c, k, kw, i in LOSS_CASES],
            "own_input_cases": own_cases, "own_reductions": [r or "none" for r in OWN_REDUCTIONS],
            # the names keras.losses.get resolves, with the function each is
            "names": {n: keras.losses.get(n).__name__ for n in LOSS_NAMES if _resolves(n)}}
    np.savez(os.path.join(OUT, "keras_losses.npz"), **arrays)
    with open(os.path.join(OUT, "keras_losses.json"), "w") as f:
        json.dump(meta, f, indent=1)


LOSS_NAMES = ["mse", "mae", "mape", "msle", "MSE", "MAE", "MAPE", "MSLE", "mean_squared_error", "mean_absolute_error",
              "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber", "log_cosh", "logcosh",
              "kl_divergence", "kld", "KLD", "kullback_leibler_divergence", "poisson", "hinge", "squared_hinge",
              "categorical_hinge", "cosine_similarity", "binary_crossentropy", "categorical_crossentropy",
              "sparse_categorical_crossentropy", "binary_focal_crossentropy", "categorical_focal_crossentropy",
              "huber_loss", "ctc", "dice", "tversky", "circle"]


def _resolves(name):
    try:
        keras.losses.get(name)
        return True
    except (ValueError, TypeError):
        return False


if __name__ == "__main__":
    halves = sys.argv[1:] or ["optimizers", "losses"]
    if "optimizers" in halves:
        optimizer_goldens()
    if "losses" in halves:
        loss_goldens()
