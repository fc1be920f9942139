"""rnnkit's optimizer configs are Keras's, and the names compile takes are those Keras's get resolves.

For every golden case (tests/fixtures/keras_optimizers.json, scripts/make_keras_optimizer_loss_goldens.py)
the fixture records Keras 3.15.1's `get_config()`: the spec rnnkit builds from the same arguments gives the
same config, and `from_config` of Keras's own config gives rnnkit's spec back.
"""

import json
import os
import re

import pytest

from rnnkit import optimizers

from optimizer_helpers import spec_of

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_optimizers.json")) as f:
    META = json.load(f)
CASES = [pytest.param(c, META["configs"][c["id"]], id=c["id"]) for c in META["cases"]]


def _same(ours: dict, keras: dict, automatic_name: bool = True) -> None:
    assert set(ours) == set(keras)
    for key, want in keras.items():
        got = ours[key]
        if key == "name" and automatic_name:  # Keras numbers its automatic names: "adam_w_3" is AdamW's third
            assert got == re.sub(r"_\d+$", "", want)
        elif isinstance(want, dict):  # a schedule: Keras adds its module and registered name
            assert (got["class_name"], got["config"]) == (want["class_name"], want["config"])
        elif isinstance(want, float) and not isinstance(got, bool):
            assert got == pytest.approx(want, rel=1e-7), key  # Keras keeps its rate in float32
        else:
            assert got == want, key


@pytest.mark.parametrize("case, keras_config", CASES)
def test_get_config_equals_keras(case, keras_config):
    _same(spec_of(case).get_config(), keras_config)


@pytest.mark.parametrize("case, keras_config", CASES)
def test_from_config_reads_keras_config(case, keras_config):
    spec = getattr(optimizers, case["class"]).from_config(keras_config)
    _same(spec.get_config(), keras_config, automatic_name=False)
    ours = spec_of(case)
    assert (spec.kind, spec.options, spec.schedule is None) == (ours.kind, ours.options, ours.schedule is None)


def test_the_names_keras_resolves_are_rnnkit_names():
    for name, keras_class in META["names"].items():
        if keras_class is None:  # Keras 3.15.1 refuses "lamb"; rnnkit takes it (one name for each class)
            assert name.lower() == "lamb" and optimizers.get(name).kind == "lamb"
        else:
            assert optimizers.get(name).kind == keras_class.lower(), name
    assert {name.lower() for name in META["names"]} >= set(optimizers._BY_NAME)
