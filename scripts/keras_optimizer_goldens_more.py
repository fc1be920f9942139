"""The optimizer goldens added with Muon, ScheduleFreeAdamW, LossScaleOptimizer and MultiOptimizer (run by
scripts/make_keras_optimizer_loss_goldens.py, `optimizer_goldens`, after the earlier cases, whose arrays
this leaves as they were).

On the five tensors and seven batches of gradients of the EXTRA cases:

- MORE_CASES: Muon and ScheduleFreeAdamW with their options, schedules, clipping, weight decay, EMA and
  accumulation, and `loss_scale_factor`; appended to the fixture's "cases" (read as the others are).
- NAMED_CASES: the same with the tensors given Keras paths (NAMED_PATHS, `keras.name_scope`): Muon's
  exclude_embeddings / exclude_layers, and `exclude_from_weight_decay` by names and by variables ("paths",
  "exclude" in the case). Appended to "cases" too.
- WRAPPER_CASES ("wrapper_cases"): LossScaleOptimizer on gradients multiplied by `grad_scale`, with
  infinite gradients at `inf_steps` (its scale: `{case}/scale`), and MultiOptimizer (each inner optimizer's
  iterations and the MultiOptimizer's: `{case}/iterations`).
- MUON_JOINT ("muon_joint"): Keras's Muon on a GRU's (2, 6) bias, which rnnkit keeps as two (6,) tensors.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np

SCHEDULE = {"class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.05, "decay_steps": 2, "decay_rate": 0.7, "staircase": False,
                       "name": "ExponentialDecay"}}
MORE_CASES = [
    ("muon", "Muon", {}),
    ("muon-options", "Muon", dict(learning_rate=0.02, momentum=0.9, nesterov=False, ns_steps=3, rms_rate=None,
                                  adam_lr_ratio=0.5, adam_beta_1=0.8, adam_beta_2=0.99, epsilon=1e-5, weight_decay=0.1,
                                  adam_weight_decay=0.05)),
    ("muon-coefficients", "Muon", dict(learning_rate=0.01, muon_a=2.0, muon_b=-1.5, muon_c=0.5, weight_decay=None,
                                       adam_weight_decay=None, clipnorm=0.5)),
    ("muon-schedule", "Muon", dict(learning_rate=SCHEDULE, global_clipnorm=1.0, rms_rate=0.3)),
    ("muon-accumulation", "Muon", dict(learning_rate=0.01, gradient_accumulation_steps=2)),
    ("muon-ema", "Muon", dict(learning_rate=0.01, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=3)),
    ("schedulefreeadamw", "ScheduleFreeAdamW", {}),
    ("schedulefreeadamw-options", "ScheduleFreeAdamW", dict(learning_rate=0.05, beta_1=0.8, beta_2=0.95,
                                                            epsilon=1e-6, warmup_steps=3)),
    ("schedulefreeadamw-weight_decay", "ScheduleFreeAdamW", dict(learning_rate=0.01, weight_decay=0.1, clipvalue=0.5)),
    ("schedulefreeadamw-schedule", "ScheduleFreeAdamW", dict(learning_rate=SCHEDULE, warmup_steps=2)),
    ("schedulefreeadamw-accumulation", "ScheduleFreeAdamW", dict(learning_rate=0.01, gradient_accumulation_steps=3)),
    ("schedulefreeadamw-ema", "ScheduleFreeAdamW", dict(learning_rate=0.01, use_ema=True, ema_overwrite_frequency=2)),
    ("sgd-loss_scale_factor", "SGD", dict(learning_rate=0.1, momentum=0.9, loss_scale_factor=4.0)),
    ("adam-loss_scale_factor-accumulation", "Adam", dict(learning_rate=0.01, loss_scale_factor=3.0,
                                                         gradient_accumulation_steps=2, clipnorm=0.1)),
]
NAMED_PATHS = ["dense/kernel", "dense/bias", "embedding/embeddings", "output/bias", "conv/kernel"]
# (case id, class, kwargs, exclude_from_weight_decay's var_names, and its var_list as tensor indices)
NAMED_CASES = [
    ("muon-named", "Muon", dict(learning_rate=0.01), None, None),
    ("muon-exclude_layers", "Muon", dict(learning_rate=0.01, exclude_layers=["^dense/"], exclude_embeddings=False),
     None, None),
    ("muon-exclude_from_weight_decay", "Muon", dict(learning_rate=0.05, weight_decay=0.2, adam_weight_decay=0.1),
     ["kernel"], None),
    ("adamw-exclude_from_weight_decay", "AdamW", dict(learning_rate=0.01, weight_decay=0.1), ["bias", "embed"], None),
    ("sgd-exclude_var_list", "SGD", dict(learning_rate=0.1, momentum=0.5, weight_decay=0.3), None, [0, 4]),
    ("schedulefreeadamw-exclude_from_weight_decay", "ScheduleFreeAdamW", dict(learning_rate=0.05, weight_decay=0.2),
     ["bias"], [2]),
]
# Wrappers: an inner optimizer is [class, kwargs]; a MultiOptimizer's "map" is {pattern: [class, kwargs]}
WRAPPER_CASES = [
    {"id": "loss_scale_optimizer-adam", "class": "LossScaleOptimizer", "inner": ["Adam", dict(learning_rate=0.01)],
     "kwargs": dict(initial_scale=64.0, dynamic_growth_steps=2), "grad_scale": 64.0, "inf_steps": [3]},
    {"id": "loss_scale_optimizer-sgd", "class": "LossScaleOptimizer",
     "inner": ["SGD", dict(learning_rate=0.1, momentum=0.9, loss_scale_factor=10.0)], "kwargs": {},
     "grad_scale": 2.0 ** 15, "inf_steps": []},
    {"id": "loss_scale_optimizer-muon-ema", "class": "LossScaleOptimizer",
     "inner": ["Muon", dict(learning_rate=0.01, use_ema=True, gradient_accumulation_steps=2)],
     "kwargs": dict(initial_scale=1000.0, dynamic_growth_steps=3), "grad_scale": 1000.0, "inf_steps": [2]},
    {"id": "multi_optimizer", "class": "MultiOptimizer", "default": ["RMSprop", dict(learning_rate=0.01)],
     "map": {"dense/.*": ["Adam", dict(learning_rate=0.01, clipnorm=0.5)],
             "embedding/.*": ["SGD", dict(learning_rate=0.1, momentum=0.9, weight_decay=0.1)]}, "kwargs": {}},
    {"id": "multi_optimizer-slots", "class": "MultiOptimizer",
     "default": ["Lamb", dict(learning_rate=0.01, use_ema=True, ema_momentum=0.8)],
     "map": {"dense/kernel": ["Muon", dict(learning_rate=0.02)],
             "conv/.*": ["Adam", dict(learning_rate=0.01, gradient_accumulation_steps=2, global_clipnorm=0.5)]},
     "kwargs": dict(loss_scale_factor=2.0)},
    {"id": "loss_scale_optimizer-multi", "class": "LossScaleOptimizer",
     "inner": ["MultiOptimizer", {"default": ["SGD", dict(learning_rate=0.05)],
                                  "map": {".*bias": ["Adam", dict(learning_rate=0.01)]},
                                  "kwargs": dict(loss_scale_factor=5.0)}],
     "kwargs": dict(initial_scale=8.0, dynamic_growth_steps=3), "grad_scale": 8.0, "inf_steps": [1, 2]},
]
MUON_JOINT = {"id": "muon-joint", "class": "Muon", "kwargs": dict(learning_rate=0.05, weight_decay=0.1),
              "paths": ["gru/gru_cell/kernel", "gru/gru_cell/bias"], "shapes": [(8, 3), (2, 6)], "steps": 4}


def _schedule(kwargs):
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = keras.optimizers.schedules.deserialize(kwargs["learning_rate"])
    return kwargs


def keras_optimizer(cls, kwargs):
    """Keras's optimizer `cls` with `kwargs` (a schedule as its serialized dict; a MultiOptimizer as
    {"default": [cls, kwargs], "map": {pattern: [cls, kwargs]}, "kwargs": {...}})."""
    if cls == "MultiOptimizer":
        chosen = {pattern: keras_optimizer(*inner) for pattern, inner in kwargs["map"].items()}
        mapping = keras.optimizers.OptimizerMap(keras_optimizer(*kwargs["default"]), chosen)
        return keras.optimizers.MultiOptimizer(mapping, **kwargs["kwargs"])
    return getattr(keras.optimizers, cls)(**_schedule(kwargs))


def _variables(weights, paths):
    variables = []
    for w, path in zip(weights, paths):
        *scopes, name = path.split("/")
        with contextlib.ExitStack() as stack:
            for scope in scopes:
                stack.enter_context(keras.name_scope(scope))
            variables.append(keras.Variable(w, name=name))
            assert variables[-1].path == path
    return variables


def record(case, opt, variables, arrays, kwargs):
    """The weights after the steps, and where Keras keeps them its accumulators and EMA (and the weights
    after finalize_variable_values)."""
    for i, v in enumerate(variables):
        arrays[f"{case}/{i}"] = np.asarray(v.numpy(), dtype="float32")
    if kwargs.get("gradient_accumulation_steps"):
        for i, a in enumerate(opt._accumulated_gradients):
            arrays[f"{case}/accumulator/{i}"] = np.asarray(a.numpy(), dtype="float32")
    if kwargs.get("use_ema"):
        for i, a in enumerate(opt._model_variables_moving_average):
            arrays[f"{case}/average/{i}"] = np.asarray(a.numpy(), dtype="float32")
        opt.finalize_variable_values(variables)
        for i, v in enumerate(variables):
            arrays[f"{case}/finalized/{i}"] = np.asarray(v.numpy(), dtype="float32")


def more_optimizer_goldens(arrays, configs, cases, meta, tensors, steps):
    """Append the cases above; `arrays` already holds the weights `w0/<i>` and gradients `grad/<t>/<i>`."""
    weights = [arrays[f"w0/{i}"] for i in range(tensors)]
    grads = [[arrays[f"grad/{t}/{i}"] for i in range(tensors)] for t in range(steps)]
    plain = [(c, k, kw, None, None, None) for c, k, kw in MORE_CASES]
    named = [(c, k, kw, NAMED_PATHS, names, indices) for c, k, kw, names, indices in NAMED_CASES]
    for case, cls, kwargs, paths, names, indices in plain + named:
        variables = [keras.Variable(w) for w in weights] if paths is None else _variables(weights, paths)
        opt = keras_optimizer(cls, kwargs)
        if names or indices:
            opt.exclude_from_weight_decay(var_list=[variables[i] for i in indices or []], var_names=names)
        for gs in grads:
            opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], variables))
        record(case, opt, variables, arrays, kwargs)
        configs[case] = opt.get_config()
        entry = {"id": case, "class": cls, "kwargs": kwargs, "steps": steps, "tensors": tensors}
        if paths is not None:
            entry.update(paths=paths, exclude={"var_names": names, "tensors": indices})
        cases.append(entry)
    meta["wrapper_cases"] = [_wrapper_case(case, weights, grads, arrays, configs) for case in WRAPPER_CASES]
    meta["muon_joint"] = _muon_joint(arrays, configs)


def _wrapper_case(case, weights, grads, arrays, configs):
    case = dict(case, paths=NAMED_PATHS, steps=len(grads), tensors=len(weights))
    variables = _variables(weights, NAMED_PATHS)
    if case["class"] == "LossScaleOptimizer":
        opt = keras.optimizers.LossScaleOptimizer(keras_optimizer(*case["inner"]), **case["kwargs"])
    else:
        opt = keras_optimizer("MultiOptimizer", case)
    scale = case.get("grad_scale", 1.0)
    opt.build(variables)  # JAX: the wrappers apply through stateless_apply (as their Keras tests do)
    values, state = [v.value for v in variables], [v.value for v in opt.variables]
    for t, gs in enumerate(grads):
        gs = [g * np.float32(scale) for g in gs]
        if t in case.get("inf_steps", []):
            gs[1] = gs[1].copy()
            gs[1][0] = np.inf
        values, state = opt.stateless_apply(state, [keras.ops.convert_to_tensor(g) for g in gs], values)
    for v, value in zip([*variables, *opt.variables], [*values, *state]):
        v.assign(value)
    for i, v in enumerate(variables):
        arrays[f"{case['id']}/{i}"] = np.asarray(v.numpy(), dtype="float32")
    configs[case["id"]] = opt.get_config()
    if case["class"] == "LossScaleOptimizer":
        arrays[f"{case['id']}/scale"] = np.asarray(opt.dynamic_scale.numpy(), dtype="float32")
        opt = opt.inner_optimizer
    counts = [int(np.asarray(o.iterations)) for o in [*getattr(opt, "optimizers", []), opt]]
    arrays[f"{case['id']}/iterations"] = np.asarray(counts, dtype="int64")
    return case


def _muon_joint(arrays, configs):
    case = dict(MUON_JOINT)
    rng = np.random.default_rng(4)
    weights = [rng.standard_normal(s).astype("float32") for s in case["shapes"]]
    grads = [[rng.standard_normal(s).astype("float32") for s in case["shapes"]] for _ in range(case["steps"])]
    variables = _variables(weights, case["paths"])
    opt = keras_optimizer(case["class"], case["kwargs"])
    for t, gs in enumerate(grads):
        for i, g in enumerate(gs):
            arrays[f"{case['id']}/grad/{t}/{i}"] = g
        opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], variables))
    for i, (w, v) in enumerate(zip(weights, variables)):
        arrays[f"{case['id']}/w0/{i}"] = w
        arrays[f"{case['id']}/{i}"] = np.asarray(v.numpy(), dtype="float32")
    configs[case["id"]] = opt.get_config()
    return case
