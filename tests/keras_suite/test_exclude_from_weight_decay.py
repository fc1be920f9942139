"""Keras's `optimizer.exclude_from_weight_decay(var_list=None, var_names=None)` on every rnnkit optimizer.

Keras's test_weight_decay (adadelta_test, adagrad_test, adam_test, adamax_test, adamw_test, lion_test,
nadam_test, rmsprop_test, sgd_test, schedule_free_adamw_test; lamb_test and adafactor_test are ported in
test_lamb.py / test_adafactor.py) with its numbers; then what rnnkit adds: names are matched against each
weight's Keras name ("kernel", "bias", "embeddings"), the choice is made before the optimizer is built,
and it travels in checkpoints. test_optimizer_goldens.py compares exclusions by names and by variables
with Keras 3.15.1 over seven steps (AdamW, SGD, Muon, ScheduleFreeAdamW).
"""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import optimizers

from optimizer_helpers import Weights, apply, assert_weight_decay, lstm_data, lstm_model

KERAS_TESTS = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "Lion", "Nadam", "RMSprop", "SGD"]


@pytest.mark.parametrize("cls", KERAS_TESTS)
def test_weight_decay(cls):
    assert_weight_decay(lambda: getattr(optimizers, cls)(learning_rate=1.0, weight_decay=0.004))


def test_weight_decay_schedule_free_adamw():
    # Keras's schedule_free_adamw_test checks the excluded variable only: at the first step the average x
    # takes all of z, which still holds the undecayed weight, so the decay of var1 does not show
    assert_weight_decay(lambda: optimizers.ScheduleFreeAdamW(learning_rate=1.0, weight_decay=0.004), check_first=False)


def _decayed(model) -> dict[str, bool]:
    """{torch name: decayed} after one zero-gradient step with weight decay and nothing else, from weights of 1."""
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    model.optimizer.zero_grad()
    for p in model.trainable_weights:
        p.grad = torch.zeros_like(p)
    model.apply_gradients()
    return {name: bool((p.detach() != before[name]).any()) for name, p in model.named_parameters()}


LSTM_WEIGHTS = ["_layers.0.cell.weight_ih", "_layers.0.cell.weight_hh", "_layers.0.cell.bias_ih", "_layers.1.weight",
                "_layers.1.bias"]  # Keras's kernel, recurrent_kernel, bias of the LSTM, kernel and bias of the Dense


def test_names_match_the_keras_name_of_each_weight():
    spec = optimizers.SGD(learning_rate=1.0, weight_decay=0.5)
    spec.exclude_from_weight_decay(var_names=["bias", "^recurrent"])
    model = lstm_model(spec)
    model(torch.zeros(1, 4, 2))
    assert _decayed(model) == dict(zip(LSTM_WEIGHTS, [True, False, False, True, False]))


def test_each_call_replaces_the_last_and_var_list_takes_tensors():
    spec = optimizers.SGD(learning_rate=1.0, weight_decay=0.5)
    spec.exclude_from_weight_decay(var_names=["kernel"])
    model = lstm_model(spec)
    model(torch.zeros(1, 4, 2))
    spec.exclude_from_weight_decay(var_list=[model.layers[1].weight])  # Keras replaces both choices
    assert _decayed(model) == dict(zip(LSTM_WEIGHTS, [True, True, True, False, True]))


def test_after_the_optimizer_is_built_it_is_an_error():
    spec = optimizers.AdamW()
    weights = Weights([[1.0, 2.0]], spec)
    apply(weights, [[0.1, 0.1]])
    with pytest.raises(ValueError, match=r"can only be configured before the optimizer is built.*fresh spec"):
        spec.exclude_from_weight_decay(var_names=["bias"])


@pytest.mark.parametrize("bad, message", [(dict(var_names="bias"), "must be a list of strings"),
                                          (dict(var_names=[3]), "must be a list of strings")])
def test_names_must_be_a_list_of_strings(bad, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(weight_decay=0.1).exclude_from_weight_decay(**bad)


def test_the_exclusions_travel_in_checkpoints(tmp_path):
    x, y = lstm_data()
    models = []
    for _ in range(2):
        spec = optimizers.AdamW(learning_rate=0.01, weight_decay=0.5)
        spec.exclude_from_weight_decay(var_names=["bias"])
        model = lstm_model(spec)
        model(torch.zeros(1, 4, 2))
        spec.exclude_from_weight_decay(var_list=[model.layers[1].weight], var_names=["bias"])
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
        models.append(model)
    straight, saved = models
    saved.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer_config.weight_decay_exclusions == ["bias"]
    for model in (straight, loaded):
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.parameters(), loaded.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # the var_list choice (the Dense kernel) came back with the optimizer's state: without it, it would decay
    group = loaded.optimizer.param_groups[0]
    dense, lstm = loaded.layers[1], loaded.layers[0]
    assert {id(group["params"][i]) for i in group["keras_no_decay"]} == {id(dense.weight), id(dense.bias),
                                                                        id(lstm.cell.bias_ih)}
    assert np.isfinite(loaded.evaluate(x, y, verbose=0))
