"""Keras 3's Muon, ported from keras/src/optimizers/muon_test.py with Keras's numbers and tolerances.

Keras calls `update_step` and `_apply_weight_decay` directly in test_adamw_single_step, test_muon_single_step
and the two weight-decay tests; here a step goes through apply_gradients, which decays and updates, so
the single-step tests turn the decay off and the decay tests give a zero gradient (its Muon and AdamW steps
are then 0). test_should_use_adamw asks which group rnnkit's Muon puts each weight in, by its Keras path.

test_optimizer_goldens.py compares Muon with Keras 3.15.1 over seven steps on five tensors (options,
schedule, clipping, EMA, accumulation; Keras paths with exclude_embeddings / exclude_layers, and
exclude_from_weight_decay); here too: Muon on a GRU's bias, which Keras keeps as one (2, 3 * units) matrix.
"""

import json
import os

import numpy as np
import pytest
import torch

from rnnkit import GRU, Dense, Embedding, Input, Sequential, optimizers
from rnnkit.training.variable_paths import variable_paths
from rnnkit.optimizers.muon_update import lr_adjust, zeropower_via_newtonschulz5

from optimizer_helpers import CLIPPING, Weights, apply, assert_clips

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def test_config():
    spec = optimizers.Muon(learning_rate=0.5, epsilon=1e-5)
    config = spec.get_config()
    assert (config["learning_rate"], config["epsilon"]) == (0.5, 1e-5)
    assert optimizers.Muon.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(spec)).get_config() == config


def test_Newton_Schulz():
    output = zeropower_via_newtonschulz5(torch.tensor([[0.2499, 0.9105], [0.2655, 0.8824]]), 5)
    np.testing.assert_allclose(output.numpy(), [[-0.4422, 0.6457], [0.7285, 0.2968]], rtol=1e-3, atol=1e-3)


def test_adamw_single_step():
    weights = Weights([[1.0, 2.0, 3.0, 4.0]], optimizers.Muon(learning_rate=0.5, adam_weight_decay=None), ["test_vars"])
    apply(weights, [[1.0, 6.0, 7.0, 2.0]])
    np.testing.assert_allclose(weights.values()[0], [0.5, 1.5, 2.5, 3.5], rtol=1e-4, atol=1e-4)


def _adamw_weights(spec, module) -> set[str]:
    """The Keras paths of the weights rnnkit's Muon steps by AdamW."""
    paths = variable_paths(module)
    optimizer = spec.build(list(paths), paths)
    return {paths[p] for g in optimizer.param_groups if not g["muon"] for p in g["params"]}


def test_should_use_adamw():
    variable = torch.nn.Linear(2, 2, bias=False)  # a bare 2-D weight: Keras's default path, "variable"
    paths = {variable.weight: "variable"}
    assert optimizers.Muon(exclude_layers=["var"]).build([variable.weight], paths).param_groups[-1]["muon"] is False
    embedding = Embedding(2, 2)
    embedding(np.zeros((1, 1), np.int64))
    assert _adamw_weights(optimizers.Muon(exclude_layers=["var"]), embedding) == {f"{embedding.name}/embeddings"}
    assert optimizers.Muon().build([variable.weight], paths).param_groups[0]["muon"] is True
    dense = Dense(2, input_shape=(2,))
    assert _adamw_weights(optimizers.Muon(), dense) == {f"{dense.name}/bias"}  # the kernel takes Muon's step


def test_muon_single_step():
    weights = Weights([[[1.0, 2.0], [3.0, 4.0]]], optimizers.Muon(learning_rate=0.5, weight_decay=0))
    apply(weights, [[[1.0, 6.0], [7.0, 2.0]]])
    np.testing.assert_allclose(weights.values()[0], [[0.988775, 1.887053], [2.873428, 3.97035]], rtol=1e-2, atol=1e-2)


@CLIPPING
def test_clipping(kwargs, clipped):
    assert_clips(optimizers.Muon(**kwargs), clipped)


def test_muon_weight_decay():
    variable = np.array([[1.0, 2.0], [3.0, 4.0]])
    weights = Weights([variable], optimizers.Muon(learning_rate=1.0, weight_decay=0.01))
    apply(weights, [np.zeros((2, 2))])
    np.testing.assert_allclose(weights.values()[0], variable - variable * 0.01, rtol=1e-4, atol=1e-4)


def test_adamw_weight_decay():
    weights = Weights([2.0], optimizers.Muon(learning_rate=1.0, adam_weight_decay=0.01))
    apply(weights, [0.0])
    np.testing.assert_allclose(weights.values()[0], 2.0 - 2.0 * 0.01, rtol=1e-4, atol=1e-4)


def test_lr_adjust_none():
    x = torch.ones((4, 4))
    torch.testing.assert_close(lr_adjust(x, None), x)


def test_lr_adjust_2d():
    x = torch.ones((4, 2))
    torch.testing.assert_close(lr_adjust(x, 0.2), x * 0.2 * 2)


def test_model_fit():
    model = Sequential([Input((10,)), Dense(5), Dense(1, name="last")])
    model.compile(optimizers.Muon(learning_rate=1e-3, exclude_layers=["last"]), "mse")
    before = [p.detach().clone() for p in model.parameters()]
    model.fit(np.ones((1, 10), np.float32), np.ones((1, 1), np.float32), verbose=0)
    assert all((a != b).any() for a, b in zip(before, model.parameters()))
    adamw = {model.variable_paths()[p] for g in model.optimizer.param_groups if not g["muon"] for p in g["params"]}
    assert adamw == {f"{model.name}/{model.layers[0].name}/bias", f"{model.name}/last/kernel", f"{model.name}/last/bias"}


# ---- rnnkit's own ------------------------------------------------------------------------------------
def test_compile_takes_its_keras_name():
    model = Sequential([Input((3, 2)), GRU(4), Dense(1)])
    model.compile("muon", "mse")
    model.fit(np.ones((4, 3, 2), np.float32), np.ones((4, 1), np.float32), verbose=0)
    assert model.optimizer_config.get_config() == optimizers.Muon().get_config() and model.optimizer.iterations == 1


def test_a_gru_bias_steps_as_keras_s_one_bias_matrix():
    with open(os.path.join(FIXTURES, "keras_optimizers.json")) as f:
        case = json.load(f)["muon_joint"]
    goldens = np.load(os.path.join(FIXTURES, "keras_optimizers.npz"))
    kernel, bias = goldens["muon-joint/w0/0"], goldens["muon-joint/w0/1"]  # Keras's (8, 3) kernel, (2, 6) bias
    # rnnkit's GRU keeps bias_ih and bias_hh (the rows of Keras's bias): both have Keras's bias path
    weights = Weights([kernel, bias[0], bias[1]], optimizers.Muon(**case["kwargs"]), [*case["paths"], case["paths"][1]])
    for t in range(case["steps"]):
        g_kernel, g_bias = goldens[f"muon-joint/grad/{t}/0"], goldens[f"muon-joint/grad/{t}/1"]
        apply(weights, [g_kernel, g_bias[0], g_bias[1]])
    got = weights.values()
    want = goldens["muon-joint/0"], goldens["muon-joint/1"]
    np.testing.assert_allclose(got[0], want[0], rtol=0, atol=2e-6)
    np.testing.assert_allclose(np.stack(got[1:]), want[1], rtol=0, atol=2e-6)
    # as two separate 1-D weights they would take AdamW's step: far from Keras's
    apart = Weights([kernel, bias[0], bias[1]], optimizers.Muon(**case["kwargs"]), ["k", "b0", "b1"])
    for t in range(case["steps"]):
        g_bias = goldens[f"muon-joint/grad/{t}/1"]
        apply(apart, [goldens[f"muon-joint/grad/{t}/0"], g_bias[0], g_bias[1]])
    assert np.abs(np.stack(apart.values()[1:]) - want[1]).max() > 1e-3


def test_a_gru_model_puts_its_biases_together():
    model = Sequential([Input((3, 2)), GRU(4), Dense(1)])
    model.compile(optimizers.Muon(exclude_layers=["dense"]), "mse")
    model(torch.zeros(1, 3, 2))
    muon = model.optimizer.param_groups[0]
    cell = model.layers[0].cell
    assert muon["muon"] and [[muon["params"][i] for i in unit] for unit in muon["joint"]] == [[cell.bias_ih, cell.bias_hh]]


def test_rnnkit_s_transposed_kernels_step_as_keras_s():
    # rnnkit keeps a Dense kernel as (out, in), Keras as (in, out): Newton-Schulz of the transpose is the
    # transpose of Newton-Schulz, computed step for step the same (Keras transposes the tall matrix first)
    rng = np.random.default_rng(0)
    w, grads = rng.standard_normal((8, 3)), [rng.standard_normal((8, 3)) for _ in range(4)]
    keras_layout = Weights([w], optimizers.Muon(learning_rate=0.05))
    rnnkit_layout = Weights([w.T], optimizers.Muon(learning_rate=0.05))
    for g in grads:
        apply(keras_layout, [g])
        apply(rnnkit_layout, [g.T])
    np.testing.assert_array_equal(rnnkit_layout.values()[0], keras_layout.values()[0].T)
    assert np.abs(keras_layout.values()[0] - w).max() > 1e-2


@pytest.mark.parametrize("kwargs, message", [
    (dict(momentum=1.5), r"Muon: `momentum` must be a number in \[0.0, 1.0\). Received: momentum=1.5"),
    (dict(adam_beta_2=1.0), r"`adam_beta_2` must be a number in \[0.0, 1.0\)"),
    (dict(ns_steps=2.5), r"`ns_steps` must be an integer >= 0. Received: ns_steps=2.5. It is the number"),
    (dict(rms_rate=0.0), r"`rms_rate` must be a number in \(0.0, inf\] or None.*None leaves it unscaled"),
    (dict(exclude_layers="dense"), r"`exclude_layers` must be a list of strings.*\['output_dense'\]"),
    (dict(nesterov="yes"), r"`nesterov` must be True or False. Received: nesterov='yes'"),
    (dict(epsilon=-1.0), r"`epsilon` must be a number in \[0.0, inf\]"),
    (dict(weight_decay="0.1"), r"Muon: `weight_decay` must be a finite number or None"),
], ids=["momentum", "adam_beta_2", "ns_steps", "rms_rate", "exclude_layers", "nesterov", "epsilon", "weight_decay"])
def test_hyper_parameters_are_checked_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Muon(**kwargs)
