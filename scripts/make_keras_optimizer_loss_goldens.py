"""Generate tests/fixtures/keras_optimizers.npz/.json and keras_losses.npz/.json with Keras 3 (issue 18).

Optimizers: from the same float32 weights, every case applies the same five batches of gradients with
Keras's `apply_gradients` and records the weights. Losses: Keras's loss objects on fixed inputs, with
and without sample_weight. The tests (tests/keras_suite/test_optimizer_loss_goldens.py) only read the
files. Run: KERAS_BACKEND=jax python scripts/make_keras_optimizer_loss_goldens.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

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


def optimizer_goldens():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    rng = np.random.default_rng(1)
    grads = [[(rng.standard_normal(s) * k).astype("float32") for s, k in zip(SHAPES, SCALES)]
             for _ in range(STEPS)]
    arrays = {f"w0/{i}": w for i, w in enumerate(weights)}
    arrays.update({f"grad/{t}/{i}": g for t, gs in enumerate(grads) for i, g in enumerate(gs)})
    for case, cls, kwargs in OPTIMIZER_CASES:
        variables = [keras.Variable(w) for w in weights]
        opt = getattr(keras.optimizers, cls)(**kwargs)
        for gs in grads:
            opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], variables))
        for i, v in enumerate(variables):
            arrays[f"{case}/{i}"] = np.asarray(v.numpy(), dtype="float32")
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(), "shapes": SHAPES,
            "steps": STEPS, "cases": [{"id": c, "class": k, "kwargs": kw} for c, k, kw in OPTIMIZER_CASES]}
    np.savez(os.path.join(OUT, "keras_optimizers.npz"), **arrays)
    with open(os.path.join(OUT, "keras_optimizers.json"), "w") as f:
        json.dump(meta, f, indent=1)


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
]


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
        loss = getattr(keras.losses, cls)(**kwargs)
        for rank in inputs:
            y_true, y_pred = arrays[f"{rank}/{kind}/y_true"], arrays[f"{rank}/{kind}/y_pred"]
            arrays[f"{case}/{rank}/value"] = np.asarray(loss(y_true, y_pred), dtype="float32")
            arrays[f"{case}/{rank}/weighted"] = np.asarray(
                loss(y_true, y_pred, sample_weight=arrays[f"{rank}/sample_weight"]), dtype="float32")
            per_sample = getattr(keras.losses, cls)(**kwargs, reduction=None)
            arrays[f"{case}/{rank}/none"] = np.asarray(per_sample(y_true, y_pred), dtype="float32")
            summed = getattr(keras.losses, cls)(**kwargs, reduction="sum")
            arrays[f"{case}/{rank}/sum"] = np.asarray(summed(y_true, y_pred), dtype="float32")
    meta = {"keras": keras.__version__, "backend": keras.backend.backend(),
            "cases": [{"id": c, "class": k, "kwargs": kw, "inputs": i} for c, k, kw, i in LOSS_CASES],
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
              "huber_loss"]


def _resolves(name):
    try:
        keras.losses.get(name)
        return True
    except (ValueError, TypeError):
        return False


if __name__ == "__main__":
    optimizer_goldens()
    loss_goldens()
