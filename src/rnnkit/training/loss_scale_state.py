"""The dynamic loss scale saved with the optimizer's state, as Keras's LossScaleOptimizer keeps its
`dynamic_scale` and `step_counter` among its variables: a checkpoint carries on at the scale and count of
finite steps it stopped at.

The scale is the model's (`OptimizerStep.loss_scaler`); hooks on the optimizer put it in the first param
group of `state_dict()` ("keras_loss_scale": {"scale", "growth_tracker"}) and take it back on
`load_state_dict()` when the model scales its loss (a LossScaleOptimizer, or mixed_float16).
"""

from __future__ import annotations

import torch

KEY = "keras_loss_scale"


def keep_loss_scale(model, optimizer: torch.optim.Optimizer) -> None:
    """Make `optimizer`'s state_dict carry `model`'s loss scale, and its load_state_dict restore it."""
    optimizer.register_state_dict_post_hook(lambda opt, state: _saved(model, state))
    optimizer.register_load_state_dict_post_hook(lambda opt: _loaded(model, opt))


def _saved(model, state: dict) -> dict:
    made = model.__dict__.get("_loss_scaler")
    if made is not None and state["param_groups"]:
        scaler = made[1].state_dict()
        state["param_groups"][0] = {**state["param_groups"][0],
                                    KEY: {"scale": float(scaler["scale"]), "growth_tracker": int(scaler["_growth_tracker"])}}
    return state


def _loaded(model, optimizer: torch.optim.Optimizer) -> None:
    groups = optimizer.param_groups
    saved = groups[0].pop(KEY, None) if groups else None
    scaler = model.loss_scaler if saved is not None else None
    if scaler is not None:
        scaler.load_state_dict({**scaler.state_dict(), "scale": saved["scale"], "_growth_tracker": saved["growth_tracker"]})
