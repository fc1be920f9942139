"""Keras's optimizers that wrap others: LossScaleOptimizer, MultiOptimizer and its OptimizerMap
(keras/src/optimizers/loss_scale_optimizer.py, multi_optimizer.py).

Each is an OptimizerSpec whose `options` hold the inner specs, so that compile, `get_config`,
`serialize` and checkpoints treat it as any other optimizer:

- LossScaleOptimizer(inner): the model scales the loss dynamically, with rnnkit's one loss scaler (the
  torch.amp.GradScaler mixed_float16 uses, `training.optimizer_step`): loss * scale before backward,
  gradients / scale before the inner optimizer's update, which is skipped (and the scale halved) when a
  gradient is not finite; after `dynamic_growth_steps` finite steps in a row the scale doubles. It scales
  under any dtype policy, as Keras's does when given explicitly. The built optimizer is the inner one, so
  `learning_rate` and `iterations` are the inner optimizer's, as in Keras.
- MultiOptimizer(OptimizerMap(default, {pattern: spec}) or a function): each weight is updated by the
  optimizer its Keras-style path (`training.variable_paths`) selects (an exact key, else the one pattern that
  `re.fullmatch`es it, else the default); each inner optimizer clips, decays, accumulates and averages its
  own weights (`optimizers.multi`).

As in Keras, wrapping sets the inner optimizers' `loss_scale_factor`: LossScaleOptimizer to None (it
scales instead), MultiOptimizer to its own.
"""

from __future__ import annotations

from . import validation
from .multi import build_multi
from .optimizer_map import OptimizerMap, inner_specs
from .serialization import deserialize, register, serialize
from .spec import KERAS_CLASSES, OptimizerSpec, snake_case

WRAPPERS = ("loss_scale_optimizer", "multi_optimizer")  # the kinds of WrapperSpec

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                  "loss_scale_factor": None, "gradient_accumulation_steps": None}


class WrapperSpec(OptimizerSpec):
    """The spec of a LossScaleOptimizer or MultiOptimizer: `options` hold the inner specs (revived from a
    checkpoint's dicts on creation), `build` makes the inner optimizers, `get_config` is Keras's."""

    def __post_init__(self):
        revive_inner(self)

    def rate_spec(self) -> OptimizerSpec:
        """A LossScaleOptimizer's inner optimizer; a MultiOptimizer has no learning rate (Keras's AttributeError)."""
        if self.kind == "loss_scale_optimizer":
            return self.options["inner_optimizer"].rate_spec()
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the "
                             "individual sub-optimizers instead.")

    def _make(self, params: list, paths: dict):
        """A LossScaleOptimizer's inner optimizer (the model scales the loss); a MultiOptimizer's
        `optimizers.multi.MultiOptimizer`."""
        if self.kind == "loss_scale_optimizer":
            return self.options["inner_optimizer"].build(params, paths)
        return build_multi(self, params, paths)

    def get_config(self) -> dict:
        return wrapper_config(self)

    def uses_rate_function(self) -> bool:
        inner = ([self.options["inner_optimizer"]] if self.kind == "loss_scale_optimizer"
                 else inner_specs(self.options["optimizer_map"]))
        return any(spec.uses_rate_function() for spec in inner)


def revive(fields: dict) -> OptimizerSpec:
    """The spec `dataclasses.asdict(spec)` (what a checkpoint holds) was made from, a wrapper's included."""
    return (WrapperSpec if fields.get("kind") in WRAPPERS else OptimizerSpec)(**fields)


def _optimizer_spec(value, what: str) -> OptimizerSpec:
    if not isinstance(value, OptimizerSpec):
        raise TypeError(f"{what} must be an rnnkit.optimizers optimizer such as optimizers.Adam(). Received: "
                        f"{value!r}")
    return value


def LossScaleOptimizer(inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
    """Keras's LossScaleOptimizer: dynamic loss scaling around `inner_optimizer` (see the module docstring).
    `initial_scale` is the first scale, `dynamic_growth_steps` the finite steps after which it doubles."""
    if not kwargs.pop("dynamic", True):
        raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                         "`loss_scale_factor` directly on the `inner_optimizer`.")
    for arg, default in _BASE_DEFAULTS.items():  # Keras's old configs carry them at their defaults
        if arg in kwargs and kwargs.pop(arg) != default:
            raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the "
                             "`inner_optimizer`.")
    if kwargs:
        raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs.keys())}`.")
    inner = _optimizer_spec(inner_optimizer, "LossScaleOptimizer's `inner_optimizer`")
    if inner.kind == "loss_scale_optimizer":
        raise ValueError("LossScaleOptimizer's `inner_optimizer` is a LossScaleOptimizer already: its gradients "
                         "would be divided by two scales. Wrap the optimizer once.")
    validation.number("LossScaleOptimizer", "initial_scale", initial_scale, 0.0, low_open=True,
                      fix="It is the first loss scale, e.g. 2.0 ** 15 (Keras's default).")
    validation.integer("LossScaleOptimizer", "dynamic_growth_steps", dynamic_growth_steps, 1,
                       fix="It is how many finite steps in a row double the scale, e.g. 2000 (Keras's default).")
    inner.loss_scale_factor = None  # as Keras: the inner optimizer must not scale a second time
    if inner.kind == "multi_optimizer":  # Keras's MultiOptimizer passes its factor on to its inner ones
        for spec in inner_specs(inner.options["optimizer_map"]):
            spec.loss_scale_factor = None
    return WrapperSpec("loss_scale_optimizer", inner.learning_rate, name=name,
                         options={"inner_optimizer": inner, "initial_scale": float(initial_scale),
                                  "dynamic_growth_steps": int(dynamic_growth_steps)})


def MultiOptimizer(optimizer_map, loss_scale_factor=None, name=None):
    """Keras's MultiOptimizer: each weight updated by the optimizer `optimizer_map` (an OptimizerMap, or a
    function taking a weight's `KerasVariable` and returning a spec) gives it. The built optimizer's
    `optimizers` are the inner ones (in Keras's order: the map's, then the default, then those a function
    names first); it has no learning rate of its own. A function is not saved in checkpoints: a model
    compiled with one loads uncompiled."""
    if not (isinstance(optimizer_map, OptimizerMap) or callable(optimizer_map)):
        raise TypeError(f"MultiOptimizer's `optimizer_map` must be an OptimizerMap or a function of a weight that "
                        f"returns its optimizer. Received: {optimizer_map!r}")
    validation.number("MultiOptimizer", "loss_scale_factor", loss_scale_factor, 0.0, low_open=True, none=True)
    for inner in inner_specs(optimizer_map):
        inner.loss_scale_factor = loss_scale_factor
    return WrapperSpec("multi_optimizer", 0.0, options={"optimizer_map": optimizer_map}, name=name,
                         loss_scale_factor=loss_scale_factor)


def revive_inner(spec: OptimizerSpec) -> None:
    """The inner specs of a wrapper spec rebuilt from dicts (`dataclasses.asdict` of a spec, as a checkpoint
    holds it)."""
    o = spec.options
    if spec.kind == "loss_scale_optimizer" and isinstance(o.get("inner_optimizer"), dict):
        o["inner_optimizer"] = revive(o["inner_optimizer"])
    if spec.kind == "multi_optimizer" and isinstance(o.get("optimizer_map"), dict):
        m = o["optimizer_map"]
        o["optimizer_map"] = OptimizerMap(revive(m["default_optimizer"]),
                                          {k: revive(v) for k, v in (m.get("optimizer_map") or {}).items()})


def wrapper_config(spec: OptimizerSpec) -> dict:
    """Keras's get_config of a LossScaleOptimizer or MultiOptimizer."""
    if spec.kind == "loss_scale_optimizer":
        return {"name": spec.name or "loss_scale_optimizer", "inner_optimizer": serialize(spec.options["inner_optimizer"]),
                "initial_scale": spec.options["initial_scale"],
                "dynamic_growth_steps": spec.options["dynamic_growth_steps"]}
    chooser = spec.options["optimizer_map"]
    if isinstance(chooser, OptimizerMap):
        chosen = {"module": "keras.optimizers", "class_name": "OptimizerMap", "config": chooser.get_config(),
                  "registered_name": None}
    else:  # Keras serializes a function by its name; rnnkit cannot rebuild it from that
        chosen = {"module": getattr(chooser, "__module__", None), "class_name": "function",
                  "config": getattr(chooser, "__name__", repr(chooser)), "registered_name": None}
    return {"optimizer_map": chosen, "loss_scale_factor": spec.loss_scale_factor, "name": spec.name or "multi_optimizer"}


def from_config(kind: str, config: dict, custom_objects: dict | None = None) -> OptimizerSpec:
    """A LossScaleOptimizer or MultiOptimizer spec from Keras's config of one."""
    config = dict(config)
    if kind == "loss_scale_optimizer":
        return LossScaleOptimizer(deserialize(config.pop("inner_optimizer"), custom_objects), **config)
    chooser = config.pop("optimizer_map")
    if not (isinstance(chooser, dict) and chooser.get("class_name") == "OptimizerMap"):
        raise ValueError(f"rnnkit rebuilds a MultiOptimizer from an OptimizerMap's config only (a selector function "
                         f"is not serializable). Received: optimizer_map={chooser!r}")
    return MultiOptimizer(OptimizerMap.from_config(chooser["config"], custom_objects), **config)


LossScaleOptimizer.from_config = lambda config, custom_objects=None: from_config("loss_scale_optimizer", config,
                                                                                 custom_objects)
MultiOptimizer.from_config = lambda config, custom_objects=None: from_config("multi_optimizer", config, custom_objects)
register(LossScaleOptimizer)
register(MultiOptimizer)


def loss_scale_settings(spec) -> tuple[float, int] | None:
    """(initial_scale, dynamic_growth_steps) when `spec` is a LossScaleOptimizer, else None."""
    if isinstance(spec, OptimizerSpec) and spec.kind == "loss_scale_optimizer":
        return spec.options["initial_scale"], spec.options["dynamic_growth_steps"]
    return None


def update_parts(spec, optimizer) -> list[tuple]:
    """(spec, torch optimizer) pairs apply_gradients clips and steps: a MultiOptimizer's inner ones, a
    LossScaleOptimizer's inner one, else the optimizer with its own spec."""
    if hasattr(optimizer, "parts"):
        return optimizer.parts()
    if isinstance(spec, OptimizerSpec) and spec.kind == "loss_scale_optimizer":
        return update_parts(spec.options["inner_optimizer"], optimizer)
    return [(spec, optimizer)]


def learning_rate_owners(optimizer) -> list[tuple[str | None, object]]:
    """What learning-rate callbacks read and set, as Keras's do: [(None, optimizer)] for one optimizer (a
    spec or a torch one); for a MultiOptimizer (its spec, or the built one) each inner optimizer with the
    name its "learning_rate_<name>" log takes (its `name`, else Keras's automatic one: "sgd", "sgd_1")."""
    if isinstance(optimizer, OptimizerSpec) and optimizer.kind == "multi_optimizer":
        specs = inner_specs(optimizer.options["optimizer_map"])
        owners = specs
    elif hasattr(optimizer, "parts"):
        specs, owners = optimizer.specs, optimizer.optimizers
    else:
        return [(None, optimizer)]
    names, seen = [], {}
    for spec in specs:
        base = spec.name or snake_case(KERAS_CLASSES[spec.kind])
        count = seen.get(base, 0)
        seen[base] = count + 1
        names.append(base if count == 0 or spec.name else f"{base}_{count}")
    return list(zip(names, owners))
