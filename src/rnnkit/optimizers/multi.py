"""The torch optimizer of Keras's MultiOptimizer: one inner optimizer per spec the weights' paths select
(`optimizers.wrappers`), each made by its own spec (its schedule, weight decay, EMA, accumulation), and a
count of the apply_gradients calls (Keras's MultiOptimizer `iterations`).

The model's apply_gradients clips and steps each inner optimizer on its own weights (`parts()`); a plain
`step()` steps them all. Its state_dict is a torch optimizer's, the inner ones' param groups one after
the other and their parameters numbered on, so checkpoints keep it as any other.
"""

from __future__ import annotations

from collections import ChainMap

import torch

from ..keras_optimizers import closure_loss
from .keras_variable import KerasVariable
from .optimizer_map import inner_specs
from .spec import OptimizerSpec


def build_multi(spec: OptimizerSpec, params: list, paths: dict) -> "MultiOptimizer":
    """Keras's MultiOptimizer.build: each weight's optimizer, as `optimizer_map` chooses it (in Keras's
    order of first appearance), each built over its weights."""
    chooser = spec.options["optimizer_map"]
    specs = inner_specs(chooser)
    chosen: list[list] = [[] for _ in specs]
    for p in params:
        variable = KerasVariable(p, paths[p])
        inner = chooser(variable)
        if not isinstance(inner, OptimizerSpec):
            raise ValueError(f"Optimizer for variable {variable} is not an Optimizer instance.")
        if inner.kind == "loss_scale_optimizer":
            raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
        if inner.kind == "multi_optimizer":
            raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
        index = next((i for i, s in enumerate(specs) if s is inner), None)
        if index is None:  # a selector function's new optimizer: Keras gives it the MultiOptimizer's scale
            inner.loss_scale_factor = spec.loss_scale_factor
            specs.append(inner)
            chosen.append([])
            index = len(specs) - 1
        chosen[index].append(p)
    return MultiOptimizer(specs, [s.build(ps, paths) for s, ps in zip(specs, chosen)])


class MultiOptimizer(torch.optim.Optimizer):
    """The inner optimizers (`optimizers`, with their `specs`) as one torch optimizer: `param_groups` and
    `state` are theirs, `iterations` counts apply_gradients calls, `learning_rate` is refused (each inner
    optimizer has its own, as in Keras)."""

    def __init__(self, specs: list[OptimizerSpec], optimizers: list[torch.optim.Optimizer]):
        self.specs, self.optimizers, self._iterations = specs, optimizers, 0
        super().__init__([{"params": []}], {})  # torch's bookkeeping; the groups are the inner optimizers'

    @property
    def param_groups(self) -> list[dict]:
        return [group for opt in self.optimizers for group in opt.param_groups]

    @param_groups.setter
    def param_groups(self, value) -> None:  # torch's __init__ assigns one; the inner optimizers own theirs
        pass

    @property
    def state(self):
        return ChainMap(*[opt.state for opt in self.optimizers])

    @state.setter
    def state(self, value) -> None:
        pass

    @property
    def keras_slots(self) -> dict | None:
        """The inner optimizers' EMA and accumulators (optimizers.slots), None when none keeps any."""
        slots = [opt.keras_slots for opt in self.optimizers if getattr(opt, "keras_slots", None) is not None]
        return dict(ChainMap(*slots)) if slots else None

    def parts(self) -> list[tuple[OptimizerSpec, torch.optim.Optimizer]]:
        """(spec, inner optimizer) for each inner optimizer that has weights."""
        return [(s, o) for s, o in zip(self.specs, self.optimizers) if any(g["params"] for g in o.param_groups)]

    def counted(self) -> None:
        """One apply_gradients call done."""
        self._iterations += 1

    @property
    def iterations(self) -> int:
        return self._iterations

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the "
                             "individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
                             "individual sub-optimizers instead.")

    lr = learning_rate

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for _, opt in self.parts():
            opt.step()
        self.counted()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def finalize_variable_values(self, var_list=None) -> None:
        """Each inner optimizer's (with use_ema its weights become their moving averages)."""
        for opt in self.optimizers:
            if hasattr(opt, "finalize_variable_values"):
                opt.finalize_variable_values()

    def state_dict(self) -> dict:
        state, groups, offset = {}, [], 0
        for opt in self.optimizers:
            saved = opt.state_dict()
            for group in saved["param_groups"]:
                groups.append({**group, "params": [i + offset for i in group["params"]],
                               "multi_iterations": self._iterations})
            state.update({i + offset: values for i, values in saved["state"].items()})
            offset += sum(len(g["params"]) for g in saved["param_groups"])
        result = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():  # torch's state_dict runs them; this one must too
            result = hook(self, result) or result
        return result

    def load_state_dict(self, state_dict: dict) -> None:
        groups, first, offset = state_dict["param_groups"], 0, 0
        if len(groups) != len(self.param_groups):
            raise ValueError(f"This MultiOptimizer has {len(self.param_groups)} param groups; the state given has "
                             f"{len(groups)}. Load a state saved from the same MultiOptimizer over the same model.")
        for opt in self.optimizers:
            mine = groups[first:first + len(opt.param_groups)]
            first += len(mine)
            count = sum(len(g["params"]) for g in mine)
            opt.load_state_dict({  # the loss scale (training.loss_scale_state) is this optimizer's hooks' business
                "state": {int(i) - offset: v for i, v in state_dict["state"].items() if offset <= int(i) < offset + count},
                "param_groups": [{**{k: v for k, v in g.items() if k != "multi_iterations"},
                                  "params": [i - offset for i in g["params"]]} for g in mine]})
            offset += count
        self._iterations = int(groups[0].get("multi_iterations", 0)) if groups else 0
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{type(o).__name__}({len([p for g in o.param_groups for p in g['params']])} weights)"
                          for o in self.optimizers)
        return f"MultiOptimizer({inner})"
